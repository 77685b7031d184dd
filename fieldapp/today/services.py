"""The Today list as queries over promises and waivers, restricted to the patch."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from ..access import restrict_units
from ..models import Contact, Promise, PromiseStatus, Unit, User, Waiver, WaiverStatus

AHEAD_DAYS, BROKEN_DAYS, DECIDED_DAYS = 3, 7, 7


@dataclass(frozen=True)
class TodayItem:
    unit: Unit
    owner: Contact | None
    promise: Promise | None = None
    waiver: Waiver | None = None


@dataclass(frozen=True)
class TodayList:
    due_today: list[TodayItem]
    due_soon: list[TodayItem]
    broken: list[TodayItem]
    decided: list[TodayItem]
    waiting_waivers: int
    flagged: list[TodayItem]


# What an item shows of its unit: the building, and the owner among the contacts.
_PLACE = (joinedload(Unit.building), joinedload(Unit.contacts))


def today_list(session: Session, user: User, today: date, tz: tzinfo,
               supervisor: bool) -> TodayList:
    units = restrict_units(select(Unit.id), user)
    promises = list(session.scalars(
        select(Promise).where(Promise.unit_id.in_(units), (
            (Promise.status == PromiseStatus.OPEN) &
            (Promise.due_date <= today + timedelta(days=AHEAD_DAYS))) | (
            (Promise.status == PromiseStatus.BROKEN) &
            (Promise.resolved_on >= today - timedelta(days=BROKEN_DAYS))))
        # The unit with its building and contacts joined in: round trips less on
        # PostgreSQL than loading them after.
        .options(selectinload(Promise.plan), joinedload(Promise.unit).options(*_PLACE))
        .order_by(Promise.due_date, Promise.id).limit(300)).unique())
    since = datetime.combine(today - timedelta(days=DECIDED_DAYS), time(), tz)
    decided_q = select(Waiver).where(Waiver.status != WaiverStatus.PENDING,
                                     Waiver.decided_at >= since, Waiver.unit_id.in_(units)) \
        .options(joinedload(Waiver.unit).options(*_PLACE))
    if not supervisor:
        decided_q = decided_q.where(Waiver.requested_by == user.id)
    decided = list(session.scalars(decided_q.order_by(Waiver.decided_at.desc()).limit(50))
                   .unique())
    flagged_units = list(session.scalars(select(Unit).where(
        Unit.id.in_(units), Unit.broken_promises_in_row >= 2, Unit.arrears_fen > 0)
        .options(*_PLACE)
        .order_by(Unit.arrears_fen.desc()).limit(50)).unique()) if supervisor else []
    waiting = session.scalar(select(func.count()).select_from(Waiver).where(
        Waiver.status == WaiverStatus.PENDING, Waiver.unit_id.in_(units))) if supervisor else 0

    def item(unit, **kw):
        return TodayItem(unit=unit, owner=unit.owner, **kw)
    open_ones = [p for p in promises if p.status == PromiseStatus.OPEN]
    return TodayList(
        due_today=[item(p.unit, promise=p) for p in open_ones if p.due_date <= today],
        due_soon=[item(p.unit, promise=p) for p in open_ones if p.due_date > today],
        broken=[item(p.unit, promise=p) for p in promises if p.status == PromiseStatus.BROKEN],
        decided=[item(w.unit, waiver=w) for w in decided],
        waiting_waivers=waiting, flagged=[item(u) for u in flagged_units])
