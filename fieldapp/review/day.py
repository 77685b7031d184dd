"""A housekeeper's day for their supervisor: visits, the units of their list covered,
the share flagged, promises obtained and kept, money paid after the visits, and the
path of the day's visits in order."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from ..domain.flags import Leg, day_path, visited_at
from ..models import (
    Payment,
    PlanStatus,
    PromiseStatus,
    Unit,
    User,
    Visit,
)
from ..models.base import aware_utc

# Payments on a visited unit within this many days count as paid after the visit
# (DESIGN.md §5.6 measures method conversion over 30 days).
PAID_WITHIN_DAYS = 30
# A visit synced late still belongs to the day it happened: look this far past the day.
LATE_DAYS = 3


@dataclass(frozen=True)
class DayReport:
    housekeeper: User
    day: date
    visits: list[Visit]  # in the order they happened
    legs: list[Leg]  # one per visit, same order
    units_covered: int
    list_size: int  # the units of their list: overdue in their patch, and those visited
    flagged: int  # visits with at least one flag
    promises_made: int  # single promises and installment plans agreed at the visits
    promises_kept: int
    paid_after_fen: int  # billing's payments on the visited units, the day and 30 after
    paid_at_door_fen: int  # reported at the door, not yet confirmed by billing
    total_metres: float

    @property
    def flagged_share(self) -> float:
        return self.flagged / len(self.visits) if self.visits else 0.0


def _position(visit: Visit) -> tuple[float, float] | None:
    if visit.lat is not None and visit.lon is not None:
        return visit.lat, visit.lon
    b = visit.unit.building
    return (b.lat, b.lon) if b.lat is not None and b.lon is not None else None


def day_visits(session: Session, hk: User, day: date, tz: tzinfo) -> list[Visit]:
    """The housekeeper's visits that happened on this day (their phone's time), those
    that reached the server up to three days later included."""
    start = datetime.combine(day, time(), tz)
    end = start + timedelta(days=1)
    rows = session.scalars(select(Visit).where(
        Visit.user_id == hk.id, Visit.created_at >= start - timedelta(days=1),
        Visit.created_at < end + timedelta(days=LATE_DAYS))
        .options(joinedload(Visit.unit).joinedload(Unit.building), selectinload(Visit.flags),
                 selectinload(Visit.promise), selectinload(Visit.plan),
                 selectinload(Visit.field_payment))).all()
    timed = [(visited_at(aware_utc(v.device_time) if v.device_time else None,
                         aware_utc(v.created_at)), v) for v in rows]
    return [v for at, v in sorted(timed, key=lambda p: (p[0], p[1].id)) if start <= at < end]


def day_report(session: Session, hk: User, day: date, tz: tzinfo, today: date) -> DayReport:
    visits = day_visits(session, hk, day, tz)
    moments = {v.id: visited_at(aware_utc(v.device_time) if v.device_time else None,
                                aware_utc(v.created_at)) for v in visits}
    legs = day_path([(v.id, moments[v.id], _position(v)) for v in visits])
    patch = hk.building_ids()
    visited_units = {v.unit_id for v in visits if v.unit.building_id in patch}
    overdue = set(session.scalars(select(Unit.id).where(
        Unit.building_id.in_(patch), Unit.arrears_fen > 0))) if patch else set()
    promises = [v.promise for v in visits if v.promise is not None]
    plans = [v.plan for v in visits if v.plan is not None]
    kept = sum(p.status == PromiseStatus.KEPT for p in promises) + \
        sum(p.status == PlanStatus.COMPLETED for p in plans)
    units = {v.unit_id for v in visits}
    paid = session.scalar(select(func.coalesce(func.sum(Payment.amount_fen), 0)).where(
        Payment.unit_id.in_(units), Payment.paid_on >= day,
        Payment.paid_on <= min(day + timedelta(days=PAID_WITHIN_DAYS), today))) if units else 0
    door = sum(v.field_payment.amount_fen for v in visits if v.field_payment is not None
               and v.field_payment.confirmed_payment_id is None)
    return DayReport(hk, day, visits, legs, len(visited_units), len(overdue | visited_units),
                     sum(bool(v.flags) for v in visits), len(promises) + len(plans), kept,
                     int(paid or 0), door, sum(leg.metres or 0 for leg in legs))
