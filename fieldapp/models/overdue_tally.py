"""Units in arrears and their arrears, per community, oldest unpaid due date and
dunning hold: the chips of a view over the whole estate, read from a few hundred rows
instead of counting 300,000 units on every first page (bench/mix_load.py at 1.2M).

Bands are not kept: a unit's band follows from its due date and today, so the chips
fold the due dates into each community's bands at query time, as they do for units.
The database keeps the rows with triggers on `unit` (and on `building`, whose community
a unit's row is counted under), so every writer counts: a payment, an import, the
nightly refresh, a raw UPDATE. On PostgreSQL they run once per statement over its
changed rows, so the nightly refresh of 300,000 units is one grouped write, and they
only ever add rows to a log of changes (`overdue_tally_change`): writers in other
transactions never wait on one another for a shared row (an hour-long import holding
the row a housekeeper's hold would count in), nor deadlock on two of them. The log is
folded into the tally now and then in a statement of its own (`fold`), and readers add
what is still in it (`CURRENT`). SQLite has one writer at a time: its triggers add to
the tally directly and the log stays empty.

Created here for `db.create_all()` and by migrations 0013 and 0015 for a migrated
database. The rows are derived: a backup copies them with the rest, and a restore counts
them again (`rebuild`), so a backup from before the tally, or one whose tally drifted,
comes back right; the restore's check of row counts leaves both tables out.
"""
from __future__ import annotations

import logging
from datetime import date

from sqlalchemy import BigInteger, Boolean, Date, Integer, event, select, text, union_all
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

# The statements below are put together from these constants and the trigger rows' own
# names only, never from input (hence bandit's B608 waived on them).
IN_ARREARS = "arrears_fen > 0 AND oldest_unpaid_due IS NOT NULL"
KEY = "community_id, due, on_hold"
COLUMNS = f"{KEY}, units, arrears_fen"
# Derived from the units: a restore counts them again instead of checking their rows.
TABLES = ("overdue_tally", "overdue_tally_change")


class OverdueTally(db.Model):
    __tablename__ = "overdue_tally"

    # No foreign key: the rows follow the units by trigger, whatever order they go in.
    community_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    due: Mapped[date] = mapped_column(Date, primary_key=True)
    on_hold: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    units: Mapped[int] = mapped_column(BigInteger)
    arrears_fen: Mapped[int] = mapped_column(BigInteger)


class OverdueTallyChange(db.Model):
    """A statement's changes to the tally, not yet folded into it (PostgreSQL)."""
    __tablename__ = "overdue_tally_change"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    community_id: Mapped[int] = mapped_column(Integer)
    due: Mapped[date] = mapped_column(Date)
    on_hold: Mapped[bool] = mapped_column(Boolean)
    units: Mapped[int] = mapped_column(BigInteger)
    arrears_fen: Mapped[int] = mapped_column(BigInteger)


def _rows_of(model):
    return select(model.community_id, model.due, model.on_hold, model.units,
                  model.arrears_fen)


# What the tally says now: its rows and the changes not folded in yet (sum by key).
CURRENT = union_all(_rows_of(OverdueTally), _rows_of(OverdueTallyChange)).subquery("tally")


def trigger_names(dialect: str) -> list[str]:
    if dialect == "postgresql":
        return [f"overdue_tally_unit_{op}" for op in ("insert", "update", "delete",
                                                        "truncate")] + \
            ["overdue_tally_building"]
    return [f"overdue_tally_unit_{op}" for op in ("insert", "update", "delete")] + \
        ["overdue_tally_building"]


def _sqlite_count(row: str, sign: str) -> str:
    """Count one unit's row (`new` or `old`) in or (sign "-") out."""
    where = " AND ".join(f"{row}.{c}" for c in IN_ARREARS.split(" AND "))
    return (f"INSERT INTO overdue_tally ({COLUMNS}) "  # nosec B608 -- constants
            f"SELECT community_id, "
            f"{row}.oldest_unpaid_due, {row}.on_hold, {sign}1, {sign}{row}.arrears_fen "
            f"FROM building WHERE id = {row}.building_id AND {where} "
            f"ON CONFLICT ({KEY}) DO UPDATE SET units = units + excluded.units, "
            "arrears_fen = arrears_fen + excluded.arrears_fen")


def _sqlite_building(community: str, sign: str) -> str:
    """Count a building's units in or out of `community` (`old.` or `new.`)."""
    return (f"INSERT INTO overdue_tally ({COLUMNS}) SELECT {community}, "  # nosec B608 -- constants
            f"oldest_unpaid_due, on_hold, {sign}count(*), {sign}sum(arrears_fen) FROM unit "
            f"WHERE building_id = new.id AND {IN_ARREARS} GROUP BY oldest_unpaid_due, on_hold "
            f"ON CONFLICT ({KEY}) DO UPDATE SET units = units + excluded.units, "
            "arrears_fen = arrears_fen + excluded.arrears_fen")


_CHANGED = " OR ".join(f"old.{c} IS NOT new.{c}" for c in
                       ("arrears_fen", "oldest_unpaid_due", "on_hold", "building_id"))

_PG_UPSERT = (f"ON CONFLICT ({KEY}) "  # nosec B608 -- constants
              f"DO UPDATE SET units = overdue_tally.units + "
              "excluded.units, arrears_fen = overdue_tally.arrears_fen + excluded.arrears_fen")
_PG_LOG = f"INSERT INTO overdue_tally_change ({COLUMNS})"  # nosec B608 -- constants


def _pg_rows(table: str, sign: str) -> str:
    return (f"SELECT building_id, oldest_unpaid_due AS due, on_hold, "  # nosec B608 -- constants
            f"{sign}1 AS units, {sign}arrears_fen::bigint AS arrears_fen FROM {table} "
            f"WHERE {IN_ARREARS}")


def _pg_apply(rows: str) -> str:
    """Log the statement's changes, grouped (none when they cancel out)."""
    return (f"{_PG_LOG} SELECT b.community_id, "  # nosec B608 -- constants
            "d.due, d.on_hold, sum(d.units), sum(d.arrears_fen) "
            f"FROM ({rows}) AS d JOIN building AS b ON b.id = d.building_id "
            "GROUP BY b.community_id, d.due, d.on_hold "
            "HAVING sum(d.units) <> 0 OR sum(d.arrears_fen) <> 0")


def _pg_function(name: str, body: str) -> str:
    return (f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {body}; RETURN NULL; END $$")


def trigger_ddl(dialect: str) -> list[str]:
    """Idempotent: the triggers, created if missing (the rows: `rebuild`)."""
    if dialect == "postgresql":
        moved = ("SELECT u.building_id, u.oldest_unpaid_due AS due, u.on_hold, {sign}1 AS units, "
                 "{sign}u.arrears_fen::bigint AS arrears_fen, {side}.community_id "
                 "FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id "
                 "JOIN unit AS u ON u.building_id = n.id "
                 "WHERE o.community_id <> n.community_id AND u.arrears_fen > 0 "
                 "AND u.oldest_unpaid_due IS NOT NULL")
        # The units of a building moving first wait for writers still at them: the
        # changes those logged under the old community are then in the count moved.
        wait_for_writers = (
            "PERFORM 1 FROM unit WHERE building_id IN (SELECT n.id FROM old_rows AS o "
            "JOIN new_rows AS n ON n.id = o.id WHERE o.community_id <> n.community_id) "
            "FOR SHARE; ")
        building_moved = wait_for_writers + (
            f"{_PG_LOG} SELECT d.community_id, "  # nosec B608 -- constants
            "d.due, d.on_hold, sum(d.units), sum(d.arrears_fen) FROM ("
            + moved.format(sign="-", side="o") + " UNION ALL "
            + moved.format(sign="", side="n") + ") AS d "
            "GROUP BY d.community_id, d.due, d.on_hold")
        functions = {
            "insert": _pg_apply(_pg_rows("new_rows", "")),
            "delete": _pg_apply(_pg_rows("old_rows", "-")),
            "update": _pg_apply(_pg_rows("new_rows", "") + " UNION ALL "
                                + _pg_rows("old_rows", "-")),
            "truncate": "DELETE FROM overdue_tally; DELETE FROM overdue_tally_change",
        }
        statements = [_pg_function(f"overdue_tally_unit_{op}", body)
                      for op, body in functions.items()]
        statements.append(_pg_function("overdue_tally_building", building_moved))
        for op, tables in (("insert", "NEW TABLE AS new_rows"),
                           ("update", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                           ("delete", "OLD TABLE AS old_rows")):
            statements.append(
                f"CREATE OR REPLACE TRIGGER overdue_tally_unit_{op} AFTER {op.upper()} ON unit "
                f"REFERENCING {tables} FOR EACH STATEMENT "
                f"EXECUTE FUNCTION overdue_tally_unit_{op}()")
        statements.append(
            "CREATE OR REPLACE TRIGGER overdue_tally_unit_truncate AFTER TRUNCATE ON unit "
            "FOR EACH STATEMENT EXECUTE FUNCTION overdue_tally_unit_truncate()")
        statements.append(
            "CREATE OR REPLACE TRIGGER overdue_tally_building AFTER UPDATE ON building "
            "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
            "EXECUTE FUNCTION overdue_tally_building()")
        return statements
    return [
        "CREATE TRIGGER IF NOT EXISTS overdue_tally_unit_insert AFTER INSERT ON unit "
        f"BEGIN {_sqlite_count('new', '')}; END",
        "CREATE TRIGGER IF NOT EXISTS overdue_tally_unit_delete AFTER DELETE ON unit "
        f"BEGIN {_sqlite_count('old', '-')}; END",
        "CREATE TRIGGER IF NOT EXISTS overdue_tally_unit_update AFTER UPDATE OF arrears_fen, "
        f"oldest_unpaid_due, on_hold, building_id ON unit WHEN {_CHANGED} "
        f"BEGIN {_sqlite_count('old', '-')}; {_sqlite_count('new', '')}; END",
        "CREATE TRIGGER IF NOT EXISTS overdue_tally_building AFTER UPDATE OF community_id "
        "ON building WHEN old.community_id IS NOT new.community_id "
        f"BEGIN {_sqlite_building('old.community_id', '-')}; "
        f"{_sqlite_building('new.community_id', '')}; END",
    ]


# Every unit in arrears, counted as the tally counts it.
COUNT_UNITS = (
    "SELECT b.community_id, u.oldest_unpaid_due, u.on_hold, "  # nosec B608 -- constants
    "count(*), sum(u.arrears_fen) "
    f"FROM unit AS u JOIN building AS b ON b.id = u.building_id "
    f"WHERE u.{IN_ARREARS.replace(' AND ', ' AND u.')} "
    "GROUP BY b.community_id, u.oldest_unpaid_due, u.on_hold")

# With nobody else writing (SQLite's one writer; a bench).
REBUILD = ["DELETE FROM overdue_tally_change", "DELETE FROM overdue_tally",
           f"INSERT INTO overdue_tally ({COLUMNS}) {COUNT_UNITS}"]

# One lock for whoever moves rows into the tally (a fold, a count again): two folds at
# once would each wait on rows of the log the other took first.
_LOCK = 0x7a11_0000  # an advisory lock key of this app's own

# The log's rows, moved into the tally in one statement, when no other fold is at it:
# a row another fold took meanwhile is not returned, so not added twice.
FOLD = (
    "WITH locked AS (SELECT pg_try_advisory_xact_lock(:lock) AS ok), "  # nosec B608 -- constants
    "moved AS (DELETE FROM overdue_tally_change WHERE (SELECT ok FROM locked) "
    f"RETURNING {COLUMNS}) "
    f"INSERT INTO overdue_tally ({COLUMNS}) SELECT {KEY}, sum(units), sum(arrears_fen) "
    f"FROM moved GROUP BY {KEY} ORDER BY {KEY} {_PG_UPSERT}")

# Counted again in one statement, so from one snapshot: the log's rows it drops are
# those of writers whose units it counts (a writer still at work keeps its row).
_PG_REBUILD = (
    f"WITH counted AS ({COUNT_UNITS}), "  # nosec B608 -- constants
    "logged AS (DELETE FROM overdue_tally_change), "
    f"stale AS (DELETE FROM overdue_tally WHERE ({KEY}) NOT IN "
    "(SELECT community_id, oldest_unpaid_due, on_hold FROM counted)) "
    f"INSERT INTO overdue_tally ({COLUMNS}) SELECT * FROM counted "
    f"ON CONFLICT ({KEY}) DO UPDATE SET units = excluded.units, "
    "arrears_fen = excluded.arrears_fen")


def rebuild(connection) -> None:
    """Count every unit again: after a restore, on a database from before the rows, and
    nightly, which also drops the rows nobody is counted in and mends any drift."""
    if connection.dialect.name != "postgresql":
        for statement in REBUILD:
            connection.execute(text(statement))
        return
    from ..transactions import begin_writing
    begin_writing(connection)  # the lock lasts until the caller commits
    # A statement of its own, before the count's: taken inside the count's statement, a
    # fold committing while it waited would be in no snapshot the count reads.
    connection.execute(text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": _LOCK})
    connection.execute(text(_PG_REBUILD))


def fold(connection) -> int:
    """Move the log's rows into the tally (PostgreSQL; SQLite has none): how many of
    the tally's rows it changed, 0 when another fold is at it. Commit it at once: the
    rows it changed stay locked until then (`fold_apart`)."""
    if connection.dialect.name != "postgresql":
        return 0
    return connection.execute(text(FOLD), {"lock": _LOCK}).rowcount


def fold_apart(engine) -> int:
    """`fold` in a transaction of its own, never inside a writer's. One that fails
    costs nothing but its turn (readers add up the log either way): logged, not raised."""
    if engine.dialect.name != "postgresql":
        return 0
    try:
        with engine.begin() as connection:
            return fold(connection)
    except SQLAlchemyError as e:
        logging.getLogger(__name__).warning("the tally's log was not folded in: %s", e)
        return 0


@event.listens_for(db.metadata, "after_create")
def _create_triggers(_metadata, connection, **_kw):
    for statement in trigger_ddl(connection.dialect.name):
        connection.execute(text(statement))
    rebuild(connection)
