"""Reviewing visit evidence: doubt flags computed when a visit arrives, a supervisor's
decisions, and the housekeeper's corrections. None of them edits the visit as submitted;
the visit's `review_status` says where its review stands."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, _enum, utcnow

if TYPE_CHECKING:
    from .people import User
    from .visits import Photo, Visit


class ReviewStatus(str, enum.Enum):
    PENDING = "pending"  # waiting for a supervisor, also again after a correction
    APPROVED = "approved"
    SENT_BACK = "sent_back"  # waiting for the housekeeper's correction


class FlagKind(str, enum.Enum):
    FAR = "far"  # farther from the building than the policy allows
    NO_POSITION = "no_position"  # the phone gave no position (its reason kept)
    EXIF_OLD = "exif_old"  # a photo taken long before the visit
    EXIF_MISSING = "exif_missing"  # a photo with no capture time
    DUPLICATE_PHOTO = "duplicate_photo"  # the same photo on a visit to another unit
    NEAR_DUPLICATE = "near_duplicate"  # a near-identical photo on a visit to another unit
    NOTICE_NO_PHOTO = "notice_no_photo"  # a notice delivered with no photo
    LATE_SYNC = "late_sync"  # reached the server long after the phone logged it
    FAST_TRAVEL = "fast_travel"  # far-apart buildings minutes apart


class Decision(str, enum.Enum):
    APPROVE = "approve"
    SEND_BACK = "send_back"


class VisitFlag(db.Model):
    """One doubt about a visit, in words the review shows: `detail` carries the figures
    (metres, hours, bits), `photo_id` and `other_visit_id` what it points at."""

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    kind: Mapped[FlagKind] = mapped_column(_enum(FlagKind, "flag_kind"))
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("photo.id"))
    other_visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    visit: Mapped[Visit] = relationship(foreign_keys=[visit_id], back_populates="flags")
    other_visit: Mapped[Visit | None] = relationship(foreign_keys=[other_visit_id])

    # The queue's flag filter: the visits with a flag of this kind.
    __table_args__ = (Index("ix_visit_flag_kind", "kind", "visit_id"),)


class ReviewDecision(db.Model):
    """A supervisor approved the visit or sent it back with a comment; append-only."""

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    decision: Mapped[Decision] = mapped_column(_enum(Decision, "review_decision"))
    comment: Mapped[str] = mapped_column(String(500), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    visit: Mapped[Visit] = relationship(back_populates="decisions")
    user: Mapped[User] = relationship()


class VisitCorrection(db.Model):
    """What the housekeeper added after a send-back: a note, photos or both. A record of
    its own, linked to the visit, which stays as it was submitted."""

    id: Mapped[int] = mapped_column(primary_key=True)
    client_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    note: Mapped[str] = mapped_column(String(2000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    visit: Mapped[Visit] = relationship(back_populates="corrections")
    user: Mapped[User] = relationship()
    photos: Mapped[list[CorrectionPhoto]] = relationship(
        back_populates="correction", order_by="CorrectionPhoto.position",
        cascade="all, delete-orphan")


class CorrectionPhoto(db.Model):
    correction_id: Mapped[int] = mapped_column(ForeignKey("visit_correction.id"),
                                               primary_key=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photo.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    client_meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    correction: Mapped[VisitCorrection] = relationship(back_populates="photos")
    photo: Mapped[Photo] = relationship()
