"""Visits at the door, the photos that prove them, promises and field payments."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, _enum, utcnow

if TYPE_CHECKING:
    from .estate import Unit
    from .people import User
    from .promises import InstallmentPlan, Promise
    from .review import ReviewDecision, VisitCorrection, VisitFlag


class Outcome(str, enum.Enum):
    MET_OWNER = "met_owner"
    MET_OCCUPANT = "met_occupant"
    NOBODY_HOME = "nobody_home"
    REFUSED = "refused"
    PAID_ON_SITE = "paid_on_site"
    PROMISED = "promised"
    WRONG_CONTACT = "wrong_contact"
    VACANT = "vacant"


class Reason(str, enum.Enum):
    HARDSHIP = "hardship"
    SERVICE = "service"
    FEE_DISPUTE = "fee_dispute"
    REFUSAL = "refusal"
    FORGOT = "forgot"
    TENANT_LANDLORD = "tenant_landlord"
    NEIGHBOUR = "neighbour"
    AWAY = "away"
    OTHER = "other"


class ServiceCategory(str, enum.Enum):
    LIFT = "lift"
    LEAK = "leak"
    CLEANING = "cleaning"
    SECURITY = "security"
    GREENERY = "greenery"
    PARKING = "parking"
    OTHER = "other"


class NoticeType(str, enum.Enum):
    NONE = "none"
    REMINDER = "reminder"
    PAYMENT_NOTICE = "payment_notice"
    DEMAND_LETTER = "demand_letter"
    LAWYER_LETTER = "lawyer_letter"


class Delivery(str, enum.Enum):
    HANDED = "handed"
    DOOR = "door"
    MAILBOX = "mailbox"
    REGISTERED_MAIL = "registered_mail"


class Photo(db.Model):
    """An original kept byte for byte, named by its SHA-256; display and thumbnail
    copies are derived. The same bytes uploaded twice are one Photo."""

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    format: Mapped[str] = mapped_column(String(10))  # JPEG, PNG, WEBP, HEIF
    size_bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # from EXIF
    exif_lat: Mapped[float | None] = mapped_column(Float)
    exif_lon: Mapped[float | None] = mapped_column(Float)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The 64-bit perceptual hash of the picture (signed, as databases store 64 bits),
    # and its four 16-bit bands: a near-duplicate within 7 bits shares a band within
    # 1 bit, so the check is a few index lookups (fieldapp/photos/similar.py). Each band's
    # index carries the hash and id, so the candidates are read from the indexes alone:
    # their number grows with the photos, and a table read per candidate made 1M photos
    # cost 40x what 10k did.
    phash: Mapped[int | None] = mapped_column(BigInteger)
    phash_b0: Mapped[int | None] = mapped_column(Integer)
    phash_b1: Mapped[int | None] = mapped_column(Integer)
    phash_b2: Mapped[int | None] = mapped_column(Integer)
    phash_b3: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = tuple(Index(f"ix_photo_phash_b{b}", f"phash_b{b}", "phash", "id")
                           for b in range(4))


class Visit(db.Model):
    """A door visit as submitted: never edited in place; corrections are new records."""

    id: Mapped[int] = mapped_column(primary_key=True)
    client_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    payload_sha256: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    device_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[Outcome] = mapped_column(_enum(Outcome, "outcome"))
    reason: Mapped[Reason | None] = mapped_column(_enum(Reason, "reason"))
    service_category: Mapped[ServiceCategory | None] = mapped_column(
        _enum(ServiceCategory, "service_category"))
    reason_detail: Mapped[str] = mapped_column(String(500), default="")
    notice_type: Mapped[NoticeType] = mapped_column(_enum(NoticeType, "notice_type"),
                                                    default=NoticeType.NONE)
    delivery: Mapped[Delivery | None] = mapped_column(_enum(Delivery, "delivery"))
    notes: Mapped[str] = mapped_column(String(2000), default="")
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    geo_error: Mapped[str] = mapped_column(String(20), default="")  # denied/unavailable/timeout
    distance_m: Mapped[float | None] = mapped_column(Float)
    far_from_building: Mapped[bool] = mapped_column(Boolean, default=False)
    # pending, approved or sent_back (models/review.py ReviewStatus): where the review
    # stands; the only column a review changes.
    review_status: Mapped[str] = mapped_column(String(20), default="pending")
    # The issued notice this visit delivered (older visits name none).
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notice.id"), index=True)

    unit: Mapped[Unit] = relationship()
    user: Mapped[User] = relationship()
    photos: Mapped[list[VisitPhoto]] = relationship(back_populates="visit",
                                                    order_by="VisitPhoto.position",
                                                    cascade="all, delete-orphan")
    # A single promise made at the door; a plan's installments hang off the plan.
    promise: Mapped[Promise | None] = relationship(back_populates="visit", uselist=False)
    plan: Mapped[InstallmentPlan | None] = relationship(back_populates="visit", uselist=False)
    field_payment: Mapped[FieldPayment | None] = relationship(back_populates="visit",
                                                             uselist=False)
    flags: Mapped[list[VisitFlag]] = relationship(
        back_populates="visit", foreign_keys="VisitFlag.visit_id", order_by="VisitFlag.id")
    decisions: Mapped[list[ReviewDecision]] = relationship(back_populates="visit",
                                                           order_by="ReviewDecision.id")
    corrections: Mapped[list[VisitCorrection]] = relationship(back_populates="visit",
                                                              order_by="VisitCorrection.id")

    __table_args__ = (Index("ix_visit_unit_created", "unit_id", "created_at"),
                      # A housekeeper's visits by time: their day, the travel check.
                      Index("ix_visit_user_created", "user_id", "created_at"),
                      # The review queue: visits waiting, newest first.
                      Index("ix_visit_review_queue", "review_status", "created_at", "id"))


class VisitPhoto(db.Model):
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), primary_key=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photo.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # What the phone said about the capture (EXIF is stripped by in-page downscaling).
    client_meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    visit: Mapped[Visit] = relationship(back_populates="photos")
    photo: Mapped[Photo] = relationship()


class FieldPayment(db.Model):
    """Money reported as paid at the door: not a bill payment until the billing
    system's next import confirms it (by reference)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), unique=True)
    amount_fen: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(64))
    confirmed_payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"))
    visit: Mapped[Visit] = relationship(back_populates="field_payment")

    __table_args__ = (CheckConstraint("amount_fen > 0", name="positive"),)
