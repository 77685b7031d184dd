"""The domain model: typed SQLAlchemy 2 mappings. Money is integer fen."""
from __future__ import annotations

import enum
from datetime import date, datetime, timezone
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Store the value (a stable key), check it with a constraint on both databases.
    return Enum(cls, name=name, native_enum=False, create_constraint=True,
                values_callable=lambda e: [m.value for m in e], length=20)


class Role(str, enum.Enum):
    HOUSEKEEPER = "housekeeper"
    SUPERVISOR = "supervisor"
    ENGINEER = "engineer"
    ADMIN = "admin"


class UnitUse(str, enum.Enum):
    RESIDENCE = "residence"
    SHOP = "shop"
    OFFICE = "office"
    PARKING = "parking"


class Occupancy(str, enum.Enum):
    OWNER = "owner"
    TENANT = "tenant"
    VACANT = "vacant"


class ContactKind(str, enum.Enum):
    OWNER = "owner"
    TENANT = "tenant"
    FINANCE = "finance"  # a company's finance contact, for office parks


DEFAULT_BANDS: list[dict[str, Any]] = [
    {"key": "reminder", "min_days": 1, "stage": "reminder"},
    {"key": "contact", "min_days": 16, "stage": "contact"},
    {"key": "visit", "min_days": 31, "stage": "visit"},
    {"key": "demand", "min_days": 61, "stage": "demand"},
    {"key": "legal", "min_days": 181, "stage": "legal"},
]


class Community(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20), default="residential")  # or office_park
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    buildings: Mapped[list[Building]] = relationship(back_populates="community",
                                                     order_by="Building.id")
    policy: Mapped[Policy | None] = relationship(back_populates="community", uselist=False)


class Policy(db.Model):
    """Per-community rules: aging bands (data, not code), late fees, GPS, promises."""

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), unique=True)
    bands: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=lambda: list(DEFAULT_BANDS))
    late_fee_grace_days: Mapped[int] = mapped_column(Integer, default=15)
    # Parts per million per day: 300 ppm = 0.03 %/day.
    late_fee_daily_ppm: Mapped[int] = mapped_column(Integer, default=300)
    gps_threshold_m: Mapped[int] = mapped_column(Integer, default=150)
    promise_horizon_days: Mapped[int] = mapped_column(Integer, default=30)
    community: Mapped[Community] = relationship(back_populates="policy")


class Building(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))  # "3栋" / "B座"
    address: Mapped[str] = mapped_column(String(200), default="")
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    floors: Mapped[int] = mapped_column(Integer, default=1)
    community: Mapped[Community] = relationship(back_populates="buildings")
    units: Mapped[list[Unit]] = relationship(back_populates="building")
    assignments: Mapped[list[Assignment]] = relationship(back_populates="building")


class Unit(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id"))
    number: Mapped[str] = mapped_column(String(20))  # "1203"
    floor: Mapped[int] = mapped_column(Integer)
    entrance: Mapped[str] = mapped_column(String(10), default="")
    area_m2: Mapped[float] = mapped_column(Float, default=0.0)
    use: Mapped[UnitUse] = mapped_column(_enum(UnitUse, "unit_use"), default=UnitUse.RESIDENCE)
    occupancy: Mapped[Occupancy] = mapped_column(_enum(Occupancy, "occupancy"),
                                                 default=Occupancy.OWNER)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    late_fee_waived: Mapped[bool] = mapped_column(Boolean, default=False)
    # Per-unit arrears summary, kept by domain.summary in the same transaction as any
    # bill or payment change. Arrears change with the calendar too (a bill falls due):
    # `arrears_as_of` is the day they were computed for, and `arrears_valid_until` the
    # last day on which they still hold (the day before the next unpaid bill falls due).
    unpaid_fen: Mapped[int] = mapped_column(Integer, default=0)
    arrears_fen: Mapped[int] = mapped_column(Integer, default=0)
    oldest_unpaid_due: Mapped[date | None] = mapped_column(Date)
    arrears_valid_until: Mapped[date | None] = mapped_column(Date)
    # Field activity summary, written with each visit: the route list shows it per row.
    last_visit_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_visit_outcome: Mapped[str | None] = mapped_column(String(20))
    next_promise_date: Mapped[date | None] = mapped_column(Date)

    building: Mapped[Building] = relationship(back_populates="units")
    contacts: Mapped[list[Contact]] = relationship(back_populates="unit",
                                                   order_by="Contact.id")
    bills: Mapped[list[Bill]] = relationship(back_populates="unit", order_by="Bill.due_date")
    payments: Mapped[list[Payment]] = relationship(back_populates="unit")

    __table_args__ = (
        UniqueConstraint("building_id", "number", name="uq_unit_building_number"),
        # Serves the route list: a patch's overdue units by oldest due date.
        Index("ix_unit_route", "building_id", "oldest_unpaid_due", "arrears_fen"),
        Index("ix_unit_valid_until", "arrears_valid_until"),
        CheckConstraint("arrears_fen >= 0 AND unpaid_fen >= arrears_fen", name="arrears"),
    )

    @property
    def label(self) -> str:
        return f"{self.building.name}-{self.number}"

    @property
    def owner(self) -> Contact | None:
        for c in self.contacts:
            if c.kind in (ContactKind.OWNER, ContactKind.FINANCE):
                return c
        return None


class Contact(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    kind: Mapped[ContactKind] = mapped_column(_enum(ContactKind, "contact_kind"))
    name: Mapped[str] = mapped_column(String(80))
    # Chinese surnames are the first one or two characters; stored for search.
    surname: Mapped[str] = mapped_column(String(20), index=True)
    phone: Mapped[str] = mapped_column(String(20), default="")
    company: Mapped[str] = mapped_column(String(120), default="")
    unit: Mapped[Unit] = relationship(back_populates="contacts")


class Bill(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    fee_type: Mapped[str] = mapped_column(String(30))  # management, water, electricity, parking
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    amount_fen: Mapped[int] = mapped_column(Integer)
    paid_fen: Mapped[int] = mapped_column(Integer, default=0)
    due_date: Mapped[date] = mapped_column(Date)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    unit: Mapped[Unit] = relationship(back_populates="bills")

    __table_args__ = (
        Index("ix_bill_unit_due", "unit_id", "due_date"),
        CheckConstraint("amount_fen >= 0 AND paid_fen >= 0 AND paid_fen <= amount_fen",
                        name="paid_within_amount"),
    )

    @property
    def outstanding_fen(self) -> int:
        return self.amount_fen - self.paid_fen


class Payment(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    bill_id: Mapped[int | None] = mapped_column(ForeignKey("bill.id"))  # named bill, if any
    amount_fen: Mapped[int] = mapped_column(Integer)
    paid_on: Mapped[date] = mapped_column(Date)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    method: Mapped[str] = mapped_column(String(20), default="")
    unit: Mapped[Unit] = relationship(back_populates="payments")

    __table_args__ = (CheckConstraint("amount_fen > 0", name="positive"),)


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str] = mapped_column(String(80), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    locale: Mapped[str | None] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    assignments: Mapped[list[Assignment]] = relationship(back_populates="user",
                                                         cascade="all, delete-orphan")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def building_ids(self) -> list[int]:
        return list(db.session.scalars(
            select(Assignment.building_id).where(Assignment.user_id == self.id)))


class Assignment(db.Model):
    """A housekeeper's patch is the set of buildings assigned to them."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id"), index=True)
    user: Mapped[User] = relationship(back_populates="assignments")
    building: Mapped[Building] = relationship(back_populates="assignments")

    __table_args__ = (UniqueConstraint("user_id", "building_id", name="uq_assignment"),)


class LoginThrottle(db.Model):
    """Failed sign-ins per username (known or not), so guessing is slowed for all."""

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEvent(db.Model):
    """Append-only: who did what to which record, when."""

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)


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
    taken_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # from EXIF
    exif_lat: Mapped[float | None] = mapped_column(Float)
    exif_lon: Mapped[float | None] = mapped_column(Float)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Visit(db.Model):
    """A door visit as submitted: never edited in place; corrections are new records."""

    id: Mapped[int] = mapped_column(primary_key=True)
    client_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    payload_sha256: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    device_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
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
    review_status: Mapped[str] = mapped_column(String(20), default="pending")

    unit: Mapped[Unit] = relationship()
    user: Mapped[User] = relationship()
    photos: Mapped[list[VisitPhoto]] = relationship(back_populates="visit",
                                                    order_by="VisitPhoto.position",
                                                    cascade="all, delete-orphan")
    promise: Mapped[Promise | None] = relationship(back_populates="visit", uselist=False)
    field_payment: Mapped[FieldPayment | None] = relationship(back_populates="visit",
                                                             uselist=False)

    __table_args__ = (Index("ix_visit_unit_created", "unit_id", "created_at"),)


class VisitPhoto(db.Model):
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), primary_key=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photo.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # What the phone said about the capture (EXIF is stripped by in-page downscaling).
    client_meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    visit: Mapped[Visit] = relationship(back_populates="photos")
    photo: Mapped[Photo] = relationship()


class PromiseStatus(str, enum.Enum):
    OPEN = "open"
    KEPT = "kept"
    BROKEN = "broken"


class Promise(db.Model):
    """A promised payment: date and amount. An installment plan is a dated series."""

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"))
    due_date: Mapped[date] = mapped_column(Date)
    amount_fen: Mapped[int] = mapped_column(Integer)
    status: Mapped[PromiseStatus] = mapped_column(_enum(PromiseStatus, "promise_status"),
                                                  default=PromiseStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    visit: Mapped[Visit | None] = relationship(back_populates="promise")

    __table_args__ = (CheckConstraint("amount_fen > 0", name="positive"),)


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


def record_audit(user: User | None, action: str, entity: str, entity_id: int | None,
                 **detail: Any) -> AuditEvent:
    event = AuditEvent(user_id=user.id if user else None, action=action, entity=entity,
                       entity_id=entity_id, detail=detail)
    db.session.add(event)
    return event


__all__ = [
    "Assignment", "AuditEvent", "Bill", "Building", "Community", "Contact", "ContactKind",
    "LoginThrottle", "Occupancy", "Payment", "Policy", "Role", "Unit", "UnitUse", "User",
    "DEFAULT_BANDS", "record_audit", "utcnow", "Outcome", "Reason", "ServiceCategory",
    "NoticeType", "Delivery", "Photo", "Visit", "VisitPhoto", "Promise", "PromiseStatus",
    "FieldPayment",
]
