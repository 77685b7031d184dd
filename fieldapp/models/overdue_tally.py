"""Units in arrears and their arrears, per community, oldest unpaid due date and
dunning hold: the chips of a view over the whole estate, read from a few hundred rows
instead of counting 300,000 units on every first page (bench/mix_load.py at 1.2M).

Bands are not kept: a unit's band follows from its due date and today, so the chips
fold the due dates into each community's bands at query time, as they do for units.
The database keeps the rows with triggers on `unit` (and on `building`, whose community
a unit's row is counted under), so every writer counts: a payment, an import, the
nightly refresh, a raw UPDATE. On PostgreSQL they run once per statement over its
changed rows, so the nightly refresh of 300,000 units is one grouped write.

Created here for `db.create_all()` and by migration 0013 for a migrated database. The
rows are derived: a backup copies them with the rest, and a restore counts them again
(`rebuild`), so a backup from before the tally, or one whose tally drifted, comes back
right; the restore's check of row counts leaves this table out.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Boolean, Date, Integer, event, text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

# The statements below are put together from these constants and the trigger rows' own
# names only, never from input (hence bandit's B608 waived on them).
IN_ARREARS = "arrears_fen > 0 AND oldest_unpaid_due IS NOT NULL"
KEY = "community_id, due, on_hold"
COLUMNS = f"{KEY}, units, arrears_fen"


class OverdueTally(db.Model):
    __tablename__ = "overdue_tally"

    # No foreign key: the rows follow the units by trigger, whatever order they go in.
    community_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    due: Mapped[date] = mapped_column(Date, primary_key=True)
    on_hold: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    units: Mapped[int] = mapped_column(BigInteger)
    arrears_fen: Mapped[int] = mapped_column(BigInteger)


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


def _pg_rows(table: str, sign: str) -> str:
    return (f"SELECT building_id, oldest_unpaid_due AS due, on_hold, "  # nosec B608 -- constants
            f"{sign}1 AS units, {sign}arrears_fen::bigint AS arrears_fen FROM {table} "
            f"WHERE {IN_ARREARS}")


def _pg_apply(rows: str) -> str:
    """Add the grouped changes; in key order, so two writers lock rows in one order."""
    return (f"INSERT INTO overdue_tally ({COLUMNS}) "  # nosec B608 -- constants
            f"SELECT b.community_id, "
            "d.due, d.on_hold, sum(d.units), sum(d.arrears_fen) "
            f"FROM ({rows}) AS d JOIN building AS b ON b.id = d.building_id "
            "GROUP BY b.community_id, d.due, d.on_hold "
            "HAVING sum(d.units) <> 0 OR sum(d.arrears_fen) <> 0 "
            f"ORDER BY b.community_id, d.due, d.on_hold {_PG_UPSERT}")


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
        building_moved = (
            f"INSERT INTO overdue_tally ({COLUMNS}) "  # nosec B608 -- constants
            f"SELECT d.community_id, "
            "d.due, d.on_hold, sum(d.units), sum(d.arrears_fen) FROM ("
            + moved.format(sign="-", side="o") + " UNION ALL "
            + moved.format(sign="", side="n") + ") AS d "
            "GROUP BY d.community_id, d.due, d.on_hold "
            f"ORDER BY d.community_id, d.due, d.on_hold {_PG_UPSERT}")
        functions = {
            "insert": _pg_apply(_pg_rows("new_rows", "")),
            "delete": _pg_apply(_pg_rows("old_rows", "-")),
            "update": _pg_apply(_pg_rows("new_rows", "") + " UNION ALL "
                                + _pg_rows("old_rows", "-")),
            "truncate": "DELETE FROM overdue_tally",
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

REBUILD = ["DELETE FROM overdue_tally", f"INSERT INTO overdue_tally ({COLUMNS}) {COUNT_UNITS}"]


def rebuild(connection) -> None:
    """Count every unit again (after a restore, or on a database from before the rows)."""
    for statement in REBUILD:
        connection.execute(text(statement))


def prune(connection) -> int:
    """Drop rows no unit is counted in any more (a due date everyone has paid)."""
    return connection.execute(text(
        "DELETE FROM overdue_tally WHERE units = 0 AND arrears_fen = 0")).rowcount


@event.listens_for(db.metadata, "after_create")
def _create_triggers(_metadata, connection, **_kw):
    for statement in trigger_ddl(connection.dialect.name):
        connection.execute(text(statement))
    rebuild(connection)
