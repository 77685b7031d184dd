"""Imports from the billing system: each file's job (state, progress and report, so any
worker answers a poll and a reload shows it) and the header names a community adds."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, _enum, utcnow


class ImportKind(str, enum.Enum):
    BUILDINGS = "buildings"
    UNITS = "units"
    CONTACTS = "contacts"
    BILLS = "bills"
    PAYMENTS = "payments"


class ImportStatus(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"  # written (or, for a check only, would be written)
    REJECTED = "rejected"  # bad rows: nothing written
    FAILED = "failed"  # the file could not be read, or the job died


class ImportJob(db.Model):
    """One file through the import, from the command line or the web page."""

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ImportKind] = mapped_column(_enum(ImportKind, "import_kind"))
    filename: Mapped[str] = mapped_column(String(255))
    # Where the upload is kept under the instance folder; "" for a command-line file.
    stored_as: Mapped[str] = mapped_column(String(255), default="")
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"))
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The language the report is written in (the uploader's).
    locale: Mapped[str] = mapped_column(String(10), default="en")
    status: Mapped[ImportStatus] = mapped_column(_enum(ImportStatus, "import_status"),
                                                 default=ImportStatus.QUEUED)
    phase: Mapped[str] = mapped_column(String(20), default="")  # reading, checking, writing
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Moved by every progress report: a running job whose heartbeat stopped has died.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bad rows as [line, column, value, reason], in file order; error_count may be more
    # than are kept (see fieldapp/imports/pipeline.py MAX_ERRORS).
    errors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    # Counts (created, updated, unchanged, ...), the header mapping and unused columns.
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    message: Mapped[str] = mapped_column(String(500), default="")

    __table_args__ = (Index("ix_import_job_created", "created_at"),)


class HeaderAlias(db.Model):
    """A column name one community's billing system uses for a field, beyond the
    built-in ones (fieldapp/imports/headers.py). Matched after normalising."""

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    kind: Mapped[ImportKind] = mapped_column(_enum(ImportKind, "import_kind"))
    field: Mapped[str] = mapped_column(String(30))
    alias: Mapped[str] = mapped_column(String(60))  # normalised
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("community_id", "kind", "alias", name="uq_header_alias"),)
