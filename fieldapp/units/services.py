"""What a unit card shows, computed from the unit's bills (a few dozen rows)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from enum import IntFlag

from sqlalchemy import case, select
from sqlalchemy.orm import Session, joinedload, selectinload, with_expression

from ..domain.arrears import (
    Arrears,
    Band,
    arrears_of,
    bands_from_policy,
    days_overdue,
    is_overdue,
    overdue_band,
    with_earliest_band,
)
from ..domain.allocation import BillDue
from ..domain.latefee import UnitLateFee
from ..models import (
    Bill,
    InstallmentPlan,
    Notice,
    PlanStatus,
    Policy,
    Promise,
    StatementLink,
    Unit,
    Visit,
    VisitPhoto,
    Waiver,
    WorkOrder,
    WorkOrderEvent,
)
from .fees import late_fee_of, unit_money


class UnitHistory(IntFlag):
    """Which kinds of record a unit has, beyond its bills and payments."""
    PLANS = 1
    VISITS = 2
    WORK_ORDERS = 4
    PROMISES = 8
    WAIVERS = 16
    NOTICES = 32
    STATEMENT_LINKS = 64


def _probes(unit_id) -> dict[UnitHistory, object]:
    """A query per kind of record, for the unit `unit_id` (an id, or Unit.id)."""
    return {
        UnitHistory.PLANS: select(InstallmentPlan.id).where(InstallmentPlan.unit_id == unit_id),
        UnitHistory.VISITS: select(Visit.id).where(Visit.unit_id == unit_id),
        UnitHistory.WORK_ORDERS: select(WorkOrder.id).where(WorkOrder.unit_id == unit_id),
        UnitHistory.PROMISES: select(Promise.id).where(Promise.unit_id == unit_id,
                                                       Promise.plan_id.is_(None)),
        UnitHistory.WAIVERS: select(Waiver.id).where(Waiver.unit_id == unit_id),
        UnitHistory.NOTICES: select(Notice.id).where(Notice.unit_id == unit_id),
        UnitHistory.STATEMENT_LINKS: select(StatementLink.id).where(
            StatementLink.unit_id == unit_id),
    }


def unit_history(session: Session, unit_id: int) -> UnitHistory:
    """What the unit has, in one statement: the card then reads only those records, so
    a unit without visits, plans or repairs costs no query for each of them (a round trip
    each on PostgreSQL)."""
    probes = _probes(unit_id)
    found = session.execute(select(*(q.exists() for q in probes.values()))).one()
    history = UnitHistory(0)
    for kind, present in zip(probes, found):
        if present:
            history |= kind
    return history


def with_history():
    """A loader option: `Unit.history` read with the unit itself, a statement less."""
    flags = [case((q.exists(), int(kind)), else_=0) for kind, q in _probes(Unit.id).items()]
    return with_expression(Unit.history, sum(flags[1:], flags[0]))


def history_of(session: Session, unit: Unit) -> UnitHistory:
    return UnitHistory(unit.history) if unit.history is not None \
        else unit_history(session, unit.id)


@dataclass(frozen=True)
class BillLine:
    bill: Bill
    outstanding_fen: int
    overdue: bool
    days_overdue: int


@dataclass(frozen=True)
class UnitCard:
    unit: Unit
    policy: Policy
    lines: list[BillLine]
    arrears: Arrears
    days_overdue: int
    band: Band | None
    fee: UnitLateFee
    credit_fen: int  # paid and owed on no bill: it pays the next bills
    visits: list[Visit]
    work_orders: list[WorkOrder]
    entries: list[tuple[datetime, str, object]]  # the timeline, newest first
    plan: InstallmentPlan | None  # the latest plan still running, or just ended
    promises: list[Promise]  # single promises, newest first
    waivers: list[Waiver]  # newest first
    history: UnitHistory  # what else the unit has (notices, statement links)
    paid_on: list[date]  # the days money came in (demands, for the limitation clock)


def unit_card(session: Session, unit: Unit, today: date) -> UnitCard:
    policy = unit.building.community.policy  # loaded with the unit (access.py)
    history = history_of(session, unit)
    every_bill = list(session.scalars(
        select(Bill).where(Bill.unit_id == unit.id).order_by(Bill.due_date, Bill.id)))
    bills = [b for b in every_bill if b.paid_fen < b.amount_fen]
    lines = [BillLine(b, b.outstanding_fen, is_overdue(b.due_date, today),
                      days_overdue(b.due_date, today)) for b in bills]
    arrears = arrears_of(bills, today)
    days = days_overdue(arrears.oldest_unpaid_due, today) if arrears.arrears_fen else 0
    # Every plan, newest first: the fee's pauses and the card's plan from one query.
    plans = list(session.scalars(
        select(InstallmentPlan).where(InstallmentPlan.unit_id == unit.id)
        .options(selectinload(InstallmentPlan.installments))
        .order_by(InstallmentPlan.id.desc()))) if UnitHistory.PLANS in history else []
    # The fee reads the whole history, paid bills too: the same rows, not a second query.
    money = unit_money(session, {unit.id: (policy, unit.late_fee_waived_fen)}, today, {
        unit.id: [BillDue(b.id, b.amount_fen, b.due_date) for b in every_bill]},
        {unit.id: plans})[unit.id]
    fee = late_fee_of(money, policy, unit.late_fee_waived_fen, today)
    credit = money.credit_fen()
    visits = timeline(session, unit.id) if UnitHistory.VISITS in history else []
    orders = [] if UnitHistory.WORK_ORDERS not in history else list(session.scalars(
        select(WorkOrder).where(WorkOrder.unit_id == unit.id)
        .options(selectinload(WorkOrder.events).joinedload(WorkOrderEvent.user),
                 joinedload(WorkOrder.complaint), selectinload(WorkOrder.after_photos))
        .order_by(WorkOrder.opened_at.desc())))
    entries = [(_aware(v.created_at), "visit", v) for v in visits]
    entries += [(_aware(e.at), "repair", e) for o in orders for e in o.events]
    entries.sort(key=lambda entry: entry[0], reverse=True)
    plan = next((p for p in plans if p.status != PlanStatus.CANCELLED), None)
    promises = [] if UnitHistory.PROMISES not in history else list(session.scalars(
        select(Promise).where(Promise.unit_id == unit.id, Promise.plan_id.is_(None))
        .order_by(Promise.due_date.desc(), Promise.id.desc()).limit(5)))
    waivers = [] if UnitHistory.WAIVERS not in history else list(session.scalars(
        select(Waiver).where(Waiver.unit_id == unit.id).order_by(Waiver.id.desc()).limit(5)))
    return UnitCard(unit, policy, lines, arrears, days,
                    overdue_band(days, with_earliest_band(bands_from_policy(policy.bands))),
                    fee, credit, visits, orders, entries, plan, promises, waivers, history,
                    [p.paid_on for p in money.payments if p.amount_fen > 0])


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes even for timezone-aware columns.
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def timeline(session: Session, unit_id: int, limit: int = 50) -> list[Visit]:
    """The unit's latest visits, newest first, with what each one carries."""
    return list(session.scalars(
        select(Visit).where(Visit.unit_id == unit_id)
        # What is one row per visit is joined in (a round trip less each on PostgreSQL);
        # a visit's promises are not unique by visit, so they come in their own query.
        .options(joinedload(Visit.user), selectinload(Visit.promise),
                 joinedload(Visit.field_payment),
                 selectinload(Visit.photos).joinedload(VisitPhoto.photo))
        .order_by(Visit.created_at.desc(), Visit.id.desc()).limit(limit)))
