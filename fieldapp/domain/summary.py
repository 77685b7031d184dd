"""The per-unit arrears summary that the route list reads instead of 1.2 M bills.

Whoever changes a unit's bills or payments calls `refresh_unit` in the same
transaction. The calendar changes arrears too (a bill falls due overnight):
`refresh_stale` recomputes the units whose summary ran out, found by index."""
from __future__ import annotations

from datetime import date, timedelta, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, case, func, or_, select, update
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
    utcnow,
)
from ..models.bulk import update_rows
from .allocation import AllocationError, BillDue, PaymentIn, allocate
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


CHUNK = 5000


class _Open:
    """A bill as arrears_of reads it."""

    __slots__ = ("amount_fen", "paid_fen", "due_date")

    def __init__(self, amount_fen: int, paid_fen: int, due_date: date):
        self.amount_fen, self.paid_fen, self.due_date = amount_fen, paid_fen, due_date


class UnitAllocationError(AllocationError):
    """Payments of one unit that cannot be allocated (a refund larger than all paid)."""

    def __init__(self, unit_id: int, error: AllocationError):
        super().__init__(str(error))
        self.unit_id = unit_id
        self.error = error


def refresh_many(session: Session, unit_ids, today: date) -> int:
    """What `refresh_unit` does for each unit, set-based for an import: per chunk of
    units one read of their bills, one of their payments and one of their summaries,
    allocation in Python, and one executemany per table for what changed; promises the
    same way. Raises UnitAllocationError naming the first unit that cannot be
    allocated. Returns how many unit summaries changed."""
    ids = sorted(set(unit_ids))
    changed = 0
    for start in range(0, len(ids), CHUNK):
        changed += _refresh_chunk(session, ids[start:start + CHUNK], today)
    return changed


def _refresh_chunk(session: Session, ids: list[int], today: date) -> int:
    # Table columns, not ORM attributes: plain rows, without the ORM's loading.
    bill_t, unit_t, pay_t = Bill.__table__.c, Unit.__table__.c, Payment.__table__.c
    wanted = set(ids)
    current = {row.id: row for row in session.execute(
        select(unit_t.id, unit_t.unpaid_fen, unit_t.arrears_fen, unit_t.oldest_unpaid_due,
               unit_t.arrears_valid_until, unit_t.promise_status, unit_t.plan_status)
        .where(_among(unit_t.id, ids))) if row.id in wanted}
    payments: dict[int, list] = {i: [] for i in ids}
    for row in session.execute(select(pay_t.id, pay_t.unit_id, pay_t.amount_fen, pay_t.bill_id,
                                      pay_t.reverses_id, pay_t.paid_on)
                               .where(_among(pay_t.unit_id, ids))):
        if row.unit_id in wanted:
            payments[row.unit_id].append(row)
    paying = [i for i in ids if payments[i]]
    changed = _refresh_unpaid(session, [i for i in ids if not payments[i]], today)
    changed += _refresh_allocated(session, paying, payments, current, today)
    _refresh_promises_chunk(session, ids, current, payments, today)
    return changed


def _refresh_unpaid(session: Session, ids: list[int], today: date) -> int:
    """Units without payments: every bill is unpaid, so the summary is plain SQL sums
    over the bills (one UPDATE), as arrears_of would add them up."""
    if not ids:
        return 0
    bill_t, unit_t = Bill.__table__, Unit.__table__
    b = bill_t.c
    session.execute(update(bill_t).where(_exactly(b.unit_id, ids), b.paid_fen != 0)
                    .values(paid_fen=0))
    owed = b.amount_fen > b.paid_fen
    left = b.amount_fen - b.paid_fen
    totals = (select(b.unit_id.label("unit_id"),
                     func.sum(case((owed, left), else_=0)).label("unpaid"),
                     func.sum(case((owed & (b.due_date < today), left), else_=0)).label("arrears"),
                     func.min(case((owed, b.due_date))).label("oldest"),
                     func.min(case((owed & (b.due_date >= today), b.due_date))).label("until"))
              .where(_exactly(b.unit_id, ids)).group_by(b.unit_id).subquery())
    moment = utcnow()
    u = unit_t.c
    changed = session.execute(update(unit_t).where(u.id == totals.c.unit_id).values(
        unpaid_fen=totals.c.unpaid, arrears_fen=totals.c.arrears,
        oldest_unpaid_due=totals.c.oldest, arrears_valid_until=totals.c.until,
        updated_at=moment)).rowcount
    billless = ~select(b.id).where(b.unit_id == u.id).exists()
    changed += session.execute(update(unit_t).where(_exactly(u.id, ids), billless).values(
        unpaid_fen=0, arrears_fen=0, oldest_unpaid_due=None, arrears_valid_until=None,
        updated_at=moment)).rowcount
    return changed


def _refresh_allocated(session: Session, ids: list[int], payments: dict, current: dict,
                       today: date) -> int:
    """Units with payments: allocation in Python over one read of their bills."""
    if not ids:
        return 0
    bill_t = Bill.__table__.c
    wanted = set(ids)
    bills: dict[int, list] = {i: [] for i in ids}
    for row in session.execute(select(bill_t.id, bill_t.unit_id, bill_t.amount_fen,
                                      bill_t.paid_fen, bill_t.due_date)
                               .where(_among(bill_t.unit_id, ids))):
        if row.unit_id in wanted:
            bills[row.unit_id].append(row)
    paid_changes, summaries = [], []
    moment = utcnow()
    for unit_id in ids:
        unit_bills = bills[unit_id]
        try:
            result = allocate([BillDue(b.id, b.amount_fen, b.due_date) for b in unit_bills],
                              [PaymentIn(p.id, p.amount_fen, p.bill_id, p.reverses_id)
                               for p in payments[unit_id]])
        except AllocationError as e:
            raise UnitAllocationError(unit_id, e) from None
        opened = []
        for b in unit_bills:
            paid = result.paid_fen[b.id]
            if paid != b.paid_fen:
                paid_changes.append((b.id, paid))
            opened.append(_Open(b.amount_fen, paid, b.due_date))
        a = arrears_of(opened, today)
        now = current[unit_id]
        values = (a.unpaid_fen, a.arrears_fen, a.oldest_unpaid_due, a.valid_until)
        if values != (now.unpaid_fen, now.arrears_fen, now.oldest_unpaid_due,
                      now.arrears_valid_until):
            summaries.append((unit_id, *values, moment))
    update_rows(session, Bill.__table__, ["paid_fen"], paid_changes)
    update_rows(session, Unit.__table__, ["unpaid_fen", "arrears_fen", "oldest_unpaid_due",
                                          "arrears_valid_until", "updated_at"], summaries)
    return len(summaries)


def _exactly(column, ids: list[int], most_runs: int = 16):
    """`column IN ids` for a sorted chunk, as a few ranges when the ids come in runs of
    consecutive numbers (an import's units usually do): thousands of bound parameters
    cost more to compile and bind than the statement costs to run."""
    runs, start = [], ids[0]
    for previous, current in zip(ids, ids[1:]):
        if current != previous + 1:
            runs.append((start, previous))
            if len(runs) >= most_runs:
                return column.in_(ids)
            start = current
    runs.append((start, ids[-1]))
    return or_(*(column.between(a, b) if a != b else column == a for a, b in runs))


def _among(column, ids: list[int]):
    """`column IN ids` for a sorted chunk: a range when the ids are dense (an import's
    units usually are), which costs no parameter per id; the caller drops the others."""
    if ids[-1] - ids[0] < 4 * len(ids):
        return column.between(ids[0], ids[-1])
    return column.in_(ids)


def _refresh_promises_chunk(session: Session, ids: list[int], current: dict, payments: dict,
                            today: date) -> None:
    """refresh_promises for a chunk of units, from one read of each table."""
    promises: dict[int, list] = {}
    for p in session.execute(select(Promise.id, Promise.unit_id, Promise.made_on,
                                    Promise.due_date, Promise.amount_fen, Promise.status,
                                    Promise.resolved_on, Promise.plan_id)
                             .where(_among(Promise.unit_id, ids))):
        if p.unit_id in current:
            promises.setdefault(p.unit_id, []).append(p)
    unit_t, promise_t, plan_t = Unit.__table__, Promise.__table__, InstallmentPlan.__table__
    cleared = [{"_id": i} for i in ids if i not in promises and
               (current[i].promise_status is not None or current[i].plan_status is not None)]
    if cleared:
        session.execute(unit_t.update().where(unit_t.c.id == bindparam("_id")).values(
            next_promise_date=None, promise_status=None, plan_status=None,
            broken_promises_in_row=0, updated_at=utcnow()), cleared)
    if not promises:
        return
    with_promises = sorted(promises)
    policy = {row.id: (row.promise_grace_days, ZoneInfo(row.timezone)) for row in session.execute(
        select(Unit.id, Policy.promise_grace_days, Community.timezone)
        .join(Building, Building.id == Unit.building_id)
        .join(Community, Community.id == Building.community_id)
        .join(Policy, Policy.community_id == Community.id)
        .where(Unit.id.in_(with_promises)))}
    door: dict[int, list] = {}
    for fp in session.execute(select(FieldPayment.id, FieldPayment.unit_id,
                                     FieldPayment.amount_fen, Visit.created_at)
                              .join(Visit, Visit.id == FieldPayment.visit_id)
                              .where(FieldPayment.unit_id.in_(with_promises),
                                     FieldPayment.confirmed_payment_id.is_(None))):
        door.setdefault(fp.unit_id, []).append(fp)
    plans: dict[int, list] = {}
    for plan in session.execute(select(InstallmentPlan.id, InstallmentPlan.unit_id,
                                       InstallmentPlan.status)
                                .where(InstallmentPlan.unit_id.in_(with_promises),
                                       InstallmentPlan.status != PlanStatus.CANCELLED)):
        plans.setdefault(plan.unit_id, []).append(plan)
    shown_rows = {row.id: row for row in session.execute(
        select(Unit.id, Unit.next_promise_date, Unit.promise_status, Unit.broken_promises_in_row,
               Unit.plan_status).where(Unit.id.in_(with_promises)))}
    promise_changes, plan_changes, unit_changes = [], [], []
    for unit_id in with_promises:
        grace, zone = policy[unit_id]
        given = [PromiseIn(p.id, p.made_on, p.due_date, p.amount_fen) for p in promises[unit_id]]
        money = [MoneyIn(p.id, p.paid_on, p.amount_fen, p.reverses_id) for p in payments[unit_id]]
        money += [MoneyIn(-fp.id, fp.created_at.astimezone(zone).date(), fp.amount_fen)
                  for fp in door.get(unit_id, [])]
        resolutions = resolve_promises(given, money, today, grace)
        for p in promises[unit_id]:
            r = resolutions[p.id]
            if p.status.value != r.status or p.resolved_on != r.resolved_on:
                promise_changes.append({"_id": p.id, "_status": r.status,
                                        "_resolved": r.resolved_on})
        unit_plans = plans.get(unit_id, [])
        for plan in unit_plans:
            states = [resolutions[p.id] for p in promises[unit_id] if p.plan_id == plan.id]
            status = plan_status([r.status for r in states])
            if plan.status.value != status:
                plan_changes.append({"_id": plan.id, "_status": status,
                                     "_ended": _last_on_track(states, status, today)})
        shown = summarise(given, resolutions, today)
        latest = max(unit_plans, key=lambda plan: plan.id, default=None)
        latest_status = None
        if latest is not None:
            latest_status = next((c["_status"] for c in plan_changes if c["_id"] == latest.id),
                                 latest.status.value)
        values = (shown.date, shown.status, shown.broken_in_row, latest_status)
        row = shown_rows[unit_id]
        if values != (row.next_promise_date, row.promise_status, row.broken_promises_in_row,
                      row.plan_status):
            unit_changes.append({"_id": unit_id, "_date": shown.date, "_status": shown.status,
                                 "_broken": shown.broken_in_row, "_plan": latest_status})
    if promise_changes:
        session.execute(promise_t.update().where(promise_t.c.id == bindparam("_id")).values(
            status=bindparam("_status"), resolved_on=bindparam("_resolved")), promise_changes)
    if plan_changes:
        session.execute(plan_t.update().where(plan_t.c.id == bindparam("_id")).values(
            status=bindparam("_status"), ended_on=bindparam("_ended")), plan_changes)
    if unit_changes:
        session.execute(unit_t.update().where(unit_t.c.id == bindparam("_id")).values(
            next_promise_date=bindparam("_date"), promise_status=bindparam("_status"),
            broken_promises_in_row=bindparam("_broken"), plan_status=bindparam("_plan"),
            updated_at=utcnow()), unit_changes)


__all__ = ["UnitAllocationError", "refresh_due_promises", "refresh_many", "refresh_promises",
           "refresh_stale", "refresh_unit", "stale_filter", "unit_receipts", "write_summary"]
