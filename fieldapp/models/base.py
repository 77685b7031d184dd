"""Shared column helpers."""
from __future__ import annotations

import enum
from datetime import datetime, timezone

from sqlalchemy import DateTime, Enum
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


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
