"""A count of changes to the estate's rules: the policies, the buildings' names and
communities, and the communities' names. The database keeps it with triggers, so every
writer counts (a form, an import, the nightly job, a raw UPDATE) and every app server
sees the same count. A server keeps what it read of those rows for as long as the count
stands, and reads the count with the signed-in user (auth.services), so the check costs
no round trip.

Triggers are created here for `db.create_all()` and by migrations 0012 and 0016 for a
migrated database. A batch migration that recreates `policy`, `building` or `community`
on SQLite drops their triggers: it must create them again (tests/test_migrations.py
compares both)."""
from __future__ import annotations

from sqlalchemy import BigInteger, event, text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

# (table, what changes a page's rules or names on it)
WATCHED = (("policy", None), ("building", ("name", "community_id")),
           ("community", ("name",)))


class EstateVersion(db.Model):
    __tablename__ = "estate_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)


def trigger_names(dialect: str) -> list[str]:
    if dialect == "postgresql":
        return [f"estate_version_{table}" for table, _ in WATCHED]
    return [f"estate_version_{table}_{event_}" for table, _ in WATCHED
            for event_ in ("insert", "update", "delete")]


def trigger_ddl(dialect: str) -> list[str]:
    """Idempotent: the row and the triggers, created if missing."""
    bump = "UPDATE estate_version SET n = n + 1 WHERE id = 1"
    if dialect == "postgresql":
        statements = [
            "INSERT INTO estate_version (id, n) VALUES (1, 0) ON CONFLICT DO NOTHING",
            "CREATE OR REPLACE FUNCTION estate_version_bump() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN {bump}; RETURN NULL; END $$"]
        for table, columns in WATCHED:
            update = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
            # Once per statement: an import of a thousand buildings counts one change.
            statements.append(
                f"CREATE OR REPLACE TRIGGER estate_version_{table} AFTER INSERT OR {update} "
                f"OR DELETE OR TRUNCATE ON {table} FOR EACH STATEMENT "
                "EXECUTE FUNCTION estate_version_bump()")
        return statements
    statements = ["INSERT OR IGNORE INTO estate_version (id, n) VALUES (1, 0)"]
    for table, columns in WATCHED:
        for event_, on in (("insert", "INSERT"), ("delete", "DELETE"),
                           ("update", f"UPDATE OF {', '.join(columns)}" if columns
                            else "UPDATE")):
            statements.append(
                f"CREATE TRIGGER IF NOT EXISTS estate_version_{table}_{event_} AFTER {on} "
                f"ON {table} BEGIN {bump}; END")
    return statements


@event.listens_for(db.metadata, "after_create")
def _create_triggers(_metadata, connection, **_kw):
    for statement in trigger_ddl(connection.dialect.name):
        connection.execute(text(statement))
