"""Notices as issued: per-community templates, the archived notice with its SHA-256 and
number, the company-wide number counter, and the owner's statement links."""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, _enum, utcnow
from .visits import NoticeType

if TYPE_CHECKING:
    from .estate import Unit
    from .people import User


class NoticeTemplate(db.Model):
    """One stage's notice for one community, as text blocks with placeholders; a
    community without a row uses the default text (fieldapp/notices/templates.py)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    kind: Mapped[NoticeType] = mapped_column(_enum(NoticeType, "notice_type"))
    blocks: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    __table_args__ = (UniqueConstraint("community_id", "kind", name="uq_notice_template"),)


class NoticeCounter(db.Model):
    """The last number given, per series: one row updated in place (UPDATE .. SET value =
    value + 1), so app servers sharing one database never hand out a number twice."""

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class NoticeBatch(db.Model):
    """A building's notices issued at once, and the units skipped with the reason."""

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id"), index=True)
    issued_by: Mapped[int] = mapped_column(ForeignKey("user.id"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    skipped: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    notices: Mapped[list[Notice]] = relationship(back_populates="batch", order_by="Notice.id")


class Notice(db.Model):
    """A notice as issued: the exact rendered HTML is in the object store under its
    SHA-256; reprinting serves those bytes, never a re-render."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    kind: Mapped[NoticeType] = mapped_column(_enum(NoticeType, "notice_type"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by: Mapped[int] = mapped_column(ForeignKey("user.id"))
    deadline: Mapped[date] = mapped_column(Date)
    arrears_fen: Mapped[int] = mapped_column(Integer)
    late_fee_fen: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("notice_batch.id"))
    unit: Mapped[Unit] = relationship()
    issuer: Mapped[User] = relationship()
    batch: Mapped[NoticeBatch | None] = relationship(back_populates="notices")

    __table_args__ = (Index("ix_notice_unit_issued", "unit_id", "issued_at"),)

    @property
    def storage_key(self) -> str:
        return notice_key(self.sha256)


def notice_key(sha256: str) -> str:
    return f"notices/{sha256[:2]}/{sha256}.html"


class StatementLink(db.Model):
    """The owner's statement page behind a token: only its hash is stored, like a
    password-reset token; it expires and can be revoked."""

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int] = mapped_column(ForeignKey("user.id"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How it reached the owner: printed on a notice, or shared from the unit card.
    channel: Mapped[str] = mapped_column(String(10), default="share")
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notice.id"))
    unit: Mapped[Unit] = relationship()
