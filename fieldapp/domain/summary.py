"""The per-unit arrears summary that the route list reads instead of 1.2 M bills.

Whoever changes a unit's bills or payments calls `refresh_unit` in the same
transaction. The calendar changes arrears too (a bill falls due overnight):
`refresh_stale` recomputes the units whose summary ran out, found by index."""
from __future__ import annotations

from datetime import date, timedelta, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session

from ..models import (
    Bill,
    Building,
    Community,
    FieldPayment,
    InstallmentPlan,
    Payment,
    PlanStatus,
    Policy,
    Promise,
    PromiseStatus,
    Unit,
    Visit,
)
from .allocation import BillDue, PaymentIn, allocate
from .arrears import arrears_of
from .promises import MoneyIn, PromiseIn, plan_status, resolve_promises, summarise


def refresh_unit(session: Session, unit_id: int, today: date) -> None:
    """Re-allocate the unit's payments to its bills and rewrite its summary."""
    bills = list(session.scalars(select(Bill).where(Bill.unit_id == unit_id)))
    payments = session.execute(
        select(Payment.id, Payment.amount_fen, Payment.bill_id, Payment.reverses_id)
        .where(Payment.unit_id == unit_id)).all()
    result = allocate([BillDue(b.id, b.amount_fen, b.due_date) for b in bills],
                      [PaymentIn(p.id, p.amount_fen, p.bill_id, p.reverses_id) for p in payments])
    for b in bills:
        if b.paid_fen != result.paid_fen[b.id]:
            b.paid_fen = result.paid_fen[b.id]
    write_summary(session, unit_id, bills, today)
    refresh_promises(session, unit_id, today)


def unit_receipts(session: Session, unit_id: int, tz: tzinfo) -> list[MoneyIn]:
    """Money in for a unit: bill payments with refunds and reversals, and payments
    reported at the door until billing confirms them (then the bill payment counts),
    dated in the community's time zone."""
    money = [MoneyIn(p.id, p.paid_on, p.amount_fen, p.reverses_id) for p in session.execute(
        select(Payment.id, Payment.paid_on, Payment.amount_fen, Payment.reverses_id)
        .where(Payment.unit_id == unit_id))]
    for fp_id, amount, at in session.execute(
            select(FieldPayment.id, FieldPayment.amount_fen, Visit.created_at)
            .join(Visit, Visit.id == FieldPayment.visit_id)
            .where(FieldPayment.unit_id == unit_id,
                   FieldPayment.confirmed_payment_id.is_(None))):
        # Negative ids keep them apart from bill payments in the netting.
        money.append(MoneyIn(-fp_id, at.astimezone(tz).date(), amount))
    return money


def refresh_promises(session: Session, unit_id: int, today: date) -> None:
    """Resolve the unit's promises as of today and write what its row shows."""
    promises = list(session.scalars(select(Promise).where(Promise.unit_id == unit_id)))
    unit = session.get(Unit, unit_id)
    if not promises:
        if unit.promise_status is not None or unit.plan_status is not None:
            unit.next_promise_date = unit.promise_status = unit.plan_status = None
            unit.broken_promises_in_row = 0
        return
    grace, zone = session.execute(
        select(Policy.promise_grace_days, Community.timezone)
        .join(Community, Community.id == Policy.community_id)
        .join(Building, Building.community_id == Community.id)
        .where(Building.id == unit.building_id)).one()
    given = [PromiseIn(p.id, p.made_on, p.due_date, p.amount_fen) for p in promises]
    resolutions = resolve_promises(given, unit_receipts(session, unit_id, ZoneInfo(zone)),
                                   today, grace)
    for p in promises:
        r = resolutions[p.id]
        if p.status.value != r.status or p.resolved_on != r.resolved_on:
            p.status, p.resolved_on = PromiseStatus(r.status), r.resolved_on
    plans = list(session.scalars(select(InstallmentPlan).where(
        InstallmentPlan.unit_id == unit_id, InstallmentPlan.status != PlanStatus.CANCELLED)))
    for plan in plans:
        states = [resolutions[i.id] for i in plan.installments]
        status = plan_status([r.status for r in states])
        if plan.status.value != status:
            plan.status = PlanStatus(status)
            plan.ended_on = _last_on_track(states, status, today)
    shown = summarise(given, resolutions, today)
    latest_plan = max(plans, key=lambda plan: plan.id, default=None)
    values = dict(next_promise_date=shown.date, promise_status=shown.status,
                  broken_promises_in_row=shown.broken_in_row,
                  plan_status=latest_plan.status.value if latest_plan else None)
    if any(getattr(unit, k) != v for k, v in values.items()):
        for k, v in values.items():
            setattr(unit, k, v)


def _last_on_track(states, status: str, today: date) -> date | None:
    if status == "completed":
        return max(r.resolved_on for r in states)
    if status == "behind":
        return min(r.resolved_on for r in states if r.status == "broken") - timedelta(days=1)
    return None


def refresh_due_promises(session: Session, today: date,
                         building_ids: list[int] | None = None,
                         limit: int | None = None) -> int:
    """Open promises whose last day has passed become kept or broken: the nightly job
    and the route list's daily catch-up call this; returns how many units changed."""
    q = (select(Promise.unit_id).join(Unit, Unit.id == Promise.unit_id)
         .where(Promise.status == PromiseStatus.OPEN, Promise.due_date < today).distinct())
    if building_ids is not None:
        q = q.where(Unit.building_id.in_(building_ids))
    if limit is not None:
        q = q.order_by(Promise.unit_id).limit(limit)
    ids = list(session.scalars(q))
    for unit_id in ids:
        refresh_promises(session, unit_id, today)
    return len(ids)


def write_summary(session: Session, unit_id: int, bills: list, today: date) -> None:
    a = arrears_of(bills, today)
    session.execute(
        update(Unit).where(Unit.id == unit_id).values(
            unpaid_fen=a.unpaid_fen, arrears_fen=a.arrears_fen,
            oldest_unpaid_due=a.oldest_unpaid_due, arrears_valid_until=a.valid_until)
    )


def stale_filter(today: date):
    """A summary is stale when its next unpaid bill has fallen due since."""
    return Unit.arrears_valid_until < today


def refresh_stale(session: Session, today: date, building_ids: list[int] | None = None,
                  limit: int | None = None) -> int:
    """Recompute the summaries the calendar has outdated, in one set-based UPDATE
    (the same rule as `arrears_of`: only which bills are past due changes with the day;
    what is paid does not); at most `limit` units. Returns how many."""
    stale = select(Unit.id).where(stale_filter(today))
    if building_ids is not None:
        stale = stale.where(Unit.building_id.in_(building_ids))
    if limit is not None:
        stale = stale.order_by(Unit.id).limit(limit)
    open_bill = and_(Bill.unit_id == Unit.id, Bill.paid_fen < Bill.amount_fen)
    arrears = select(func.coalesce(func.sum(Bill.amount_fen - Bill.paid_fen), 0)) \
        .where(open_bill, Bill.due_date < today).scalar_subquery()
    oldest = select(func.min(Bill.due_date)).where(open_bill).scalar_subquery()
    next_due = select(func.min(Bill.due_date)).where(open_bill, Bill.due_date >= today) \
        .scalar_subquery()
    result = session.execute(
        update(Unit).where(Unit.id.in_(stale.scalar_subquery() if limit is None else
                                       select(stale.subquery().c.id)))
        .values(arrears_fen=arrears, oldest_unpaid_due=oldest, arrears_valid_until=next_due)
        .execution_options(synchronize_session=False))
    return result.rowcount


__all__ = ["refresh_due_promises", "refresh_promises", "refresh_stale", "refresh_unit",
           "stale_filter", "unit_receipts", "write_summary"]
