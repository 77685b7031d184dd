"""Many rows at once, in the session's own transaction: COPY on PostgreSQL, the driver's
executemany on SQLite; values go through each column's SQLAlchemy type, so they are
stored exactly as the ORM would store them."""
from __future__ import annotations

from typing import Iterable, Sequence

from sqlalchemy import Table, bindparam, false, func, select
from sqlalchemy.orm import Session



def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _processors(session: Session, table: Table, columns: Sequence[str]):
    dialect = session.get_bind().dialect
    return [table.c[name].type.bind_processor(dialect) for name in columns]


def insert_rows(session: Session, table: Table, columns: Sequence[str],
                rows: Iterable[Sequence]) -> int:
    """Insert tuples of `columns`; returns how many."""
    connection = session.connection()
    raw = connection.connection.driver_connection
    names = ", ".join(columns)
    count = 0
    if _dialect(session) == "postgresql":
        with raw.cursor() as cursor:
            with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        return count
    processors = _processors(session, table, columns)
    active = [(i, p) for i, p in enumerate(processors) if p is not None]

    def processed():
        nonlocal count
        for row in rows:
            count += 1
            if active:
                row = list(row)
                for i, p in active:
                    if row[i] is not None:
                        row[i] = p(row[i])
            yield row

    marks = ", ".join("?" for _ in columns)
    # Table and column names come from the models, never from a file.
    statement = f"INSERT INTO {table.name} ({names}) VALUES ({marks})"  # nosec B608
    cursor = raw.cursor()
    try:
        cursor.executemany(statement, processed())
    finally:
        cursor.close()
    return count


def update_rows(session: Session, table: Table, columns: Sequence[str],
                rows: list[dict]) -> None:
    """UPDATE by primary key: each dict has `id` and the `columns` to set."""
    if not rows:
        return
    statement = table.update().where(table.c.id == bindparam("_id")).values(
        {name: bindparam(f"_{name}") for name in columns})
    session.execute(statement, [{f"_{k}": v for k, v in row.items()} for row in rows])


def next_ids(session: Session, table: Table, n: int) -> list[int]:
    """`n` unused primary keys, taken so that no other writer gets them: from the
    sequence on PostgreSQL; on SQLite after taking the write lock (one writer at a time)."""
    if n == 0:
        return []
    if _dialect(session) == "postgresql":
        sequence = func.pg_get_serial_sequence(table.name, "id")
        return list(session.scalars(select(func.nextval(sequence))
                                    .select_from(func.generate_series(1, n))))
    # Any write statement takes SQLite's write lock until the transaction ends.
    session.execute(table.update().where(false()).values(id=table.c.id))
    top = session.scalar(select(func.coalesce(func.max(table.c.id), 0)))
    return list(range(top + 1, top + 1 + n))
