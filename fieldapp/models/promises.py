"""What households promise: single promised payments, installment plans (a dated
series of promises), and late-fee waivers that a supervisor approves."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, _enum, utcnow

if TYPE_CHECKING:
    from .estate import Unit
    from .people import User
    from .visits import Visit


class PromiseStatus(str, enum.Enum):
    OPEN = "open"
    KEPT = "kept"  # payments after it was made covered it by its date (+ grace)
    BROKEN = "broken"  # its date (+ grace) passed uncovered


class Promise(db.Model):
    """A promised payment: date and amount. An installment is a promise of a plan."""

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"))  # not for installments
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("installment_plan.id"), index=True)
    seq: Mapped[int | None] = mapped_column(Integer)  # installment number, from 1
    made_on: Mapped[date] = mapped_column(Date)  # payments from this day count towards it
    due_date: Mapped[date] = mapped_column(Date)
    amount_fen: Mapped[int] = mapped_column(Integer)
    status: Mapped[PromiseStatus] = mapped_column(_enum(PromiseStatus, "promise_status"),
                                                  default=PromiseStatus.OPEN)
    resolved_on: Mapped[date | None] = mapped_column(Date)  # when it became kept or broken
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    unit: Mapped[Unit] = relationship()
    visit: Mapped[Visit | None] = relationship(back_populates="promise")
    plan: Mapped[InstallmentPlan | None] = relationship(back_populates="installments")

    __table_args__ = (CheckConstraint("amount_fen > 0", name="positive"),
                      Index("ix_promise_unit_due", "unit_id", "due_date"))


class PlanStatus(str, enum.Enum):
    ON_TRACK = "on_track"
    BEHIND = "behind"  # an installment was broken; the plan still stands
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class InstallmentPlan(db.Model):
    """分期: the arrears split into dated installments, usually for hardship."""

    def paused_range(self, today: date) -> tuple[date, date] | None:
        """The days no late fee accrues (policy permitting): while it was on track."""
        last = self.ended_on or (today if self.status == PlanStatus.ON_TRACK else None)
        return (self.made_on, last) if last is not None and last >= self.made_on else None


    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"))
    created_by: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    made_on: Mapped[date] = mapped_column(Date)
    total_fen: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[PlanStatus] = mapped_column(_enum(PlanStatus, "plan_status"),
                                               default=PlanStatus.ON_TRACK)
    # The last day it was on track (completed, behind or ended): the late-fee pause ends.
    ended_on: Mapped[date | None] = mapped_column(Date)
    unit: Mapped[Unit] = relationship()
    author: Mapped[User] = relationship()
    visit: Mapped[Visit | None] = relationship(back_populates="plan")
    installments: Mapped[list[Promise]] = relationship(back_populates="plan",
                                                       order_by="Promise.seq")

    __table_args__ = (CheckConstraint("total_fen > 0", name="positive"),)


class WaiverStatus(str, enum.Enum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"


class Waiver(db.Model):
    """减免: a housekeeper asks to waive a unit's late fee or part of it; it takes
    effect only when a supervisor approves."""

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(500))
    requested_by: Mapped[int] = mapped_column(ForeignKey("user.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[WaiverStatus] = mapped_column(_enum(WaiverStatus, "waiver_status"),
                                                 default=WaiverStatus.PENDING)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    comment: Mapped[str] = mapped_column(String(500), default="")
    unit: Mapped[Unit] = relationship()
    requester: Mapped[User] = relationship(foreign_keys=[requested_by])
    decider: Mapped[User | None] = relationship(foreign_keys=[decided_by])

    __table_args__ = (CheckConstraint("amount_fen > 0", name="positive"),
                      Index("ix_waiver_status", "status", "requested_at"))
