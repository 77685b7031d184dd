"""Shared column helpers."""
from __future__ import annotations

import enum
from datetime import datetime, timezone

from sqlalchemy import DateTime, Enum, bindparam
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def aware_utc(moment: datetime) -> datetime:
    """A moment as timezone-aware UTC; a naive one is UTC by the house convention."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Store the value (a stable key), check it with a constraint on both databases.
    return Enum(cls, name=name, native_enum=False, create_constraint=True,
                values_callable=lambda e: [m.value for m in e], length=20)


class UTCDateTime(TypeDecorator):
    """A moment, stored in UTC and read back timezone-aware on both databases. SQLite
    keeps no offset: without this a +08:00 time would be stored eight hours off."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:  # the house convention: a naive moment is UTC
            return value
        return value.astimezone(timezone.utc).replace(tzinfo=None) \
            if dialect.name == "sqlite" else value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else \
            value.astimezone(timezone.utc)


def fixed(value):
    """A value the statement always compares with, written into its text. PostgreSQL
    plans a prepared statement once for every execution only when that plan's estimate
    is as good as a plan for the values given; a status it cannot see (a rare one, such
    as a visit sent back) made it plan Today's statement again on every request."""
    return bindparam(None, value, literal_execute=True)


def insert_or_ignore(session, model, conflict: list[str], **values) -> None:
    """INSERT .. ON CONFLICT DO NOTHING on either database: a row that two requests
    create at once is made once, with no savepoint (on SQLite one opened before any
    write would become the outer transaction and commit on release)."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert
    insert = {"postgresql": pg_insert, "sqlite": sqlite_insert}[session.get_bind().dialect.name]
    session.execute(insert(model).values(**values).on_conflict_do_nothing(
        index_elements=conflict))
