"""Many rows at once, in the session's own transaction: COPY on PostgreSQL, the driver's
executemany on SQLite. Values go through each column's SQLAlchemy type, so they are
stored exactly as the ORM would store them. For imports and the set-based refresh."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Iterable, Sequence

from sqlalchemy import Date, DateTime, Table, false, func, select
from sqlalchemy.orm import Session

from ..transactions import begin_writing

# Below this many rows an UPDATE per row costs less than a temporary table.
TEMP_TABLE_FROM = 200


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def driver(session: Session):
    """The raw driver connection, for COPY and executemany. What runs on it bypasses
    SQLAlchemy's events, so the session's transaction is begun here (transactions.py)."""
    connection = session.connection()
    begin_writing(connection)
    return connection.connection.driver_connection


def _sqlite_rows(session: Session, table: Table, columns: Sequence[str], rows):
    """Rows with each value as the column's type binds it for SQLite (dates as text)."""
    dialect = session.get_bind().dialect
    active = []
    for i, name in enumerate(columns):
        column_type = table.c[name].type
        process = column_type.bind_processor(dialect)
        if isinstance(column_type, Date) and not isinstance(column_type, DateTime):
            # pysqlite's own adapter stores a date as its isoformat()
            active.append((i, _remembered(process or date.isoformat)))
        elif process is not None:
            active.append((i, process))
    for row in rows:
        if active:
            row = list(row)
            for i, p in active:
                if row[i] is not None:
                    row[i] = p(row[i])
        yield row


def _remembered(process):
    """A date column's processor that formats each distinct day once: a bills file has
    a million rows but a few dozen due dates."""
    seen: dict = {}

    def remembered(value):
        text = seen.get(value)
        if text is None:
            text = seen[value] = process(value) if isinstance(value, date) else value
        return text
    return remembered


def _copy(cursor, name: str, columns: Sequence[str], rows) -> int:
    count = 0
    with cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def insert_rows(session: Session, table: Table, columns: Sequence[str],
                rows: Iterable[Sequence]) -> int:
    """Insert tuples of `columns`; returns how many."""
    raw = driver(session)
    if _dialect(session) == "postgresql":
        with raw.cursor() as cursor:
            return _copy(cursor, table.name, columns, rows)
    rows = list(rows)
    names, marks = ", ".join(columns), ", ".join("?" for _ in columns)
    # Table and column names come from the models, never from a file.
    statement = f"INSERT INTO {table.name} ({names}) VALUES ({marks})"  # nosec B608
    cursor = raw.cursor()
    try:
        cursor.executemany(statement, _sqlite_rows(session, table, columns, rows))
    finally:
        cursor.close()
    return len(rows)


def update_rows(session: Session, table: Table, columns: Sequence[str],
                rows: list[Sequence]) -> None:
    """UPDATE by primary key: each row is (id, *values of `columns`) or a dict with `id`
    and `columns`. On PostgreSQL a large batch is one COPY into a temporary table and
    one UPDATE ... FROM it."""
    if not rows:
        return
    if isinstance(rows[0], dict):
        rows = [(r["id"], *(r[name] for name in columns)) for r in rows]
    raw = driver(session)
    sets = ", ".join(f"{name} = ?" for name in columns)
    if _dialect(session) != "postgresql":
        statement = f"UPDATE {table.name} SET {sets} WHERE id = ?"  # nosec B608
        cursor = raw.cursor()
        try:
            cursor.executemany(statement, ([*row[1:], row[0]] for row in
                                           _sqlite_rows(session, table, ["id", *columns], rows)))
        finally:
            cursor.close()
        return
    with raw.cursor() as cursor:
        if len(rows) < TEMP_TABLE_FROM:
            cursor.executemany(f"UPDATE {table.name} SET {sets.replace('?', '%s')} "  # nosec B608
                               "WHERE id = %s", [(*row[1:], row[0]) for row in rows])
            return
        temp = f"_update_{table.name}_{uuid.uuid4().hex[:8]}"
        cursor.execute(f"CREATE TEMP TABLE {temp} ON COMMIT DROP AS SELECT id, "
                       f"{', '.join(columns)} FROM {table.name} WITH NO DATA")  # nosec B608
        _copy(cursor, temp, ["id", *columns], rows)
        assign = ", ".join(f"{name} = {temp}.{name}" for name in columns)
        cursor.execute(f"UPDATE {table.name} SET {assign} FROM {temp} "  # nosec B608
                       f"WHERE {table.name}.id = {temp}.id")
        cursor.execute(f"DROP TABLE {temp}")


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
