"""The estate and its money: communities, buildings, units, contacts, bills, payments.
Money is integer fen."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from ..extensions import db
from .base import UTCDateTime, _enum, utcnow

if TYPE_CHECKING:
    from .people import Assignment, User


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
    # A promise is kept when payments cover it by its date plus these days.
    promise_grace_days: Mapped[int] = mapped_column(Integer, default=3)
    max_installments: Mapped[int] = mapped_column(Integer, default=12)
    # Seed practice: "分期期间不收违约金" - no late fee while a plan is on track.
    plan_pauses_late_fee: Mapped[bool] = mapped_column(Boolean, default=True)
    # The late fee of a bill stops at this share of its amount (ppm; 1,000,000 = the
    # principal); None: no cap.
    late_fee_cap_ppm: Mapped[int | None] = mapped_column(Integer)
    # How many stages a broken promise raises the next step.
    broken_promise_steps: Mapped[int] = mapped_column(Integer, default=1)
    # The version in force, copied into the columns above for fast reads; a notice
    # keeps this id, so a later change never rewrites what it said.
    version_id: Mapped[int | None] = mapped_column(ForeignKey("policy_version.id"))
    community: Mapped[Community] = relationship(back_populates="policy")
    version: Mapped[PolicyVersion | None] = relationship(foreign_keys=[version_id])


# The rule fields a policy version carries, in the order the policy page shows them.
POLICY_FIELDS = ("bands", "late_fee_grace_days", "late_fee_daily_ppm", "late_fee_cap_ppm",
                 "gps_threshold_m", "promise_horizon_days", "promise_grace_days",
                 "max_installments", "plan_pauses_late_fee", "broken_promise_steps")


class PolicyVersion(db.Model):
    """A community's policy from a day on, as decided: append-only. The latest version
    whose day has come is the one in force (copied into Policy)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    valid_from: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    note: Mapped[str] = mapped_column(String(200), default="")
    bands: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    late_fee_grace_days: Mapped[int] = mapped_column(Integer)
    late_fee_daily_ppm: Mapped[int] = mapped_column(Integer)
    late_fee_cap_ppm: Mapped[int | None] = mapped_column(Integer)
    gps_threshold_m: Mapped[int] = mapped_column(Integer)
    promise_horizon_days: Mapped[int] = mapped_column(Integer)
    promise_grace_days: Mapped[int] = mapped_column(Integer)
    max_installments: Mapped[int] = mapped_column(Integer)
    plan_pauses_late_fee: Mapped[bool] = mapped_column(Boolean)
    broken_promise_steps: Mapped[int] = mapped_column(Integer)
    creator: Mapped[User | None] = relationship()

    __table_args__ = (Index("ix_policy_version_community_from", "community_id", "valid_from"),)

    def values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in POLICY_FIELDS}


# PostgreSQL vacuums the unit table once 200 rows written stand dead (it looks once a
# minute), not a fifth of the table as by default. The route list's sorting reads
# ix_unit_route alone only for rows on pages the visibility map marks all-visible; visits,
# payments and the nightly refresh write units all day (never in place: updated_at is
# indexed), and one row written makes its page of about 50 units read again. A vacuum of
# so few rows reads only the pages written since the last one, and the unit indexes at
# 120,000 units; on a table of 1.2M, where they fall on under 2 % of its pages, PostgreSQL
# leaves the indexes and those pages to a later vacuum, once such pages add up to 2 %
# (bench/route_pg.py, "after rows written across the estate").
UNIT_VACUUM = {"autovacuum_vacuum_scale_factor": 0, "autovacuum_vacuum_threshold": 200}


class Building(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))  # "3栋" / "B座"
    address: Mapped[str] = mapped_column(String(200), default="")
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    # Where the coordinates came from: "manual" (typed on the building page),
    # "geocoded" (from `geocoded_address`), "import"; None when unknown. The geocoder
    # only fills buildings without coordinates or with its own from another address.
    coordinates_source: Mapped[str | None] = mapped_column(String(10))
    geocoded_address: Mapped[str | None] = mapped_column(String(200))
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
    # Late fee waived by approved waivers, in fen (减免).
    late_fee_waived_fen: Mapped[int] = mapped_column(Integer, default=0)
    # Per-unit arrears summary, kept by domain.summary in the same transaction as any
    # bill or payment change. Arrears change with the calendar too (a bill falls due):
    # `arrears_as_of` is the day they were computed for, and `arrears_valid_until` the
    # last day on which they still hold (the day before the next unpaid bill falls due).
    unpaid_fen: Mapped[int] = mapped_column(Integer, default=0)
    arrears_fen: Mapped[int] = mapped_column(Integer, default=0)
    oldest_unpaid_due: Mapped[date | None] = mapped_column(Date)
    arrears_valid_until: Mapped[date | None] = mapped_column(Date)
    # Field activity summary, written with each visit: the route list shows it per row.
    last_visit_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_visit_outcome: Mapped[str | None] = mapped_column(String(20))
    # The promise a row shows: the earliest open one, else the last one resolved; with
    # its status (open, kept, broken) and that of an installment plan, if any.
    next_promise_date: Mapped[date | None] = mapped_column(Date)
    promise_status: Mapped[str | None] = mapped_column(String(10))
    plan_status: Mapped[str | None] = mapped_column(String(12))
    broken_promises_in_row: Mapped[int] = mapped_column(Integer, default=0)
    # Dunning hold: true while any work order of the unit is not closed.
    on_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    # When its last repair closed; cleared once the owner says they are satisfied.
    rectified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Any write to the unit's row moves this: a rendered route list is reused only
    # while no unit of its patch has changed (fieldapp/route/cache.py).
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow,
                                                 onupdate=utcnow)

    building: Mapped[Building] = relationship(back_populates="units")
    contacts: Mapped[list[Contact]] = relationship(back_populates="unit",
                                                   order_by="Contact.id")
    bills: Mapped[list[Bill]] = relationship(back_populates="unit", order_by="Bill.due_date")
    payments: Mapped[list[Payment]] = relationship(back_populates="unit")
    # Which kinds of record the unit has (units.services.UnitHistory), when the card
    # loads it with the unit; None otherwise.
    history: Mapped[int | None] = query_expression()

    __table_args__ = (
        UniqueConstraint("building_id", "number", name="uq_unit_building_number"),
        # Serves the route list: a patch's overdue units by oldest due date, with every
        # column its sorting reads, so PostgreSQL answers from the index alone (the id
        # included: SQLite's indexes carry it as the rowid, PostgreSQL's do not).
        Index("ix_unit_route", "building_id", "oldest_unpaid_due", "arrears_fen", "on_hold",
              "promise_status", "next_promise_date", "plan_status", "last_visit_at",
              "updated_at", "floor", "number", postgresql_include=["id"]),
        Index("ix_unit_valid_until", "arrears_valid_until"),
        Index("ix_unit_building_updated", "building_id", "updated_at"),
        CheckConstraint("arrears_fen >= 0 AND unpaid_fen >= arrears_fen", name="arrears"),
        {"postgresql_with": UNIT_VACUUM},
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



# Serves the band order over the whole estate (route/estate.py, estate_hits): the units in
# arrears largest amount first, ties by id, as the route list orders them, with what
# places each in its stage and says whether it is paused, so a page walks down about
# its own rows and stops.
Index("ix_unit_arrears", Unit.arrears_fen.desc(), Unit.id, Unit.building_id,
      Unit.oldest_unpaid_due, Unit.on_hold, Unit.promise_status, Unit.next_promise_date,
      Unit.plan_status, Unit.last_visit_at, Unit.updated_at,
      sqlite_where=text("arrears_fen > 0"), postgresql_where=text("arrears_fen > 0"))

# Serves the units on dunning hold ("repair pending", route/services.py held_hits) in the
# order their section lists them: a few among the estate's overdue units, read without
# passing the others (ix_unit_route walks every overdue unit of the estate for them).
# The condition is written as the statement writes it, so SQLite sees that it applies.
Index("ix_unit_held", Unit.building_id, Unit.floor, Unit.number, Unit.id, Unit.updated_at,
      Unit.arrears_fen, Unit.oldest_unpaid_due,
      sqlite_where=text("on_hold IS 1"), postgresql_where=text("on_hold IS true"))


class Contact(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    kind: Mapped[ContactKind] = mapped_column(_enum(ContactKind, "contact_kind"))
    name: Mapped[str] = mapped_column(String(80))
    # Chinese surnames are the first one or two characters; stored for search.
    surname: Mapped[str] = mapped_column(String(20), index=True)
    phone: Mapped[str] = mapped_column(String(20), default="")
    company: Mapped[str] = mapped_column(String(120), default="")
    # The billing system's customer id, when its export has one (客户编号).
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    unit: Mapped[Unit] = relationship(back_populates="contacts")


# A search over the whole estate on SQLite reads the units whose number, and the
# contacts whose name, starts with what was typed off these (route/services.py,
# `units_found`): for LIKE 'prefix%', which ignores letter case, so the index does too.
# (PostgreSQL checks each overdue unit faster than it joins a broad match: no index.
# `made_for`: the migrations' comparison checks each index on its own database.)
for _column, _name in ((Unit.number, "ix_unit_number_prefix"),
                       (Contact.name, "ix_contact_name_prefix")):
    Index(_name, _column.collate("NOCASE")).ddl_if(dialect="sqlite")


def made_for(index: Index, dialect: str) -> bool:
    """Whether `index` is made on `dialect` (an index of one database only says so)."""
    only = index._ddl_if  # noqa: SLF001 -- SQLAlchemy keeps ddl_if here, with no accessor
    return only is None or only.dialect is None or dialect in (
        [only.dialect] if isinstance(only.dialect, str) else only.dialect)


def compared_on(dialect: str):
    """Alembic's `include_object` for a database of `dialect`: the models' indexes made
    for another database are not looked for in it."""
    def include(obj, _name, type_, reflected, _compare_to) -> bool:
        return reflected or type_ != "index" or made_for(obj, dialect)
    return include


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
    # A negative amount is a refund; with `reverses_id`, the reversal of that payment.
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"))
    unit: Mapped[Unit] = relationship(back_populates="payments")

    __table_args__ = (CheckConstraint("amount_fen <> 0", name="nonzero"),
                      CheckConstraint("reverses_id IS NULL OR amount_fen < 0",
                                      name="reversal_negative"))
