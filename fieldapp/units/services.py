"""What a unit card shows, computed from the unit's bills (a few dozen rows)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..domain.arrears import (
    Arrears,
    Band,
    LateFee,
    aging_band,
    arrears_of,
    bands_from_policy,
    days_overdue,
    is_overdue,
    late_fee,
)
from ..models import (
    Bill,
    InstallmentPlan,
    PlanStatus,
    Policy,
    Promise,
    Unit,
    Visit,
    VisitPhoto,
    Waiver,
    WorkOrder,
    WorkOrderEvent,
)


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
    fee: LateFee
    visits: list[Visit]
    work_orders: list[WorkOrder]
    entries: list[tuple[datetime, str, object]]  # the timeline, newest first
    plan: InstallmentPlan | None  # the latest plan still running, or just ended
    promises: list[Promise]  # single promises, newest first
    waivers: list[Waiver]  # newest first


def unit_card(session: Session, unit: Unit, today: date) -> UnitCard:
    policy = session.scalar(select(Policy).where(
        Policy.community_id == unit.building.community_id))
    bills = list(session.scalars(
        select(Bill).where(Bill.unit_id == unit.id, Bill.paid_fen < Bill.amount_fen)
        .order_by(Bill.due_date, Bill.id)))
    lines = [BillLine(b, b.outstanding_fen, is_overdue(b.due_date, today),
                      days_overdue(b.due_date, today)) for b in bills]
    arrears = arrears_of(bills, today)
    days = days_overdue(arrears.oldest_unpaid_due, today) if arrears.arrears_fen else 0
    fee = late_fee([b for b in bills if is_overdue(b.due_date, today)], today,
                   grace_days=policy.late_fee_grace_days, daily_ppm=policy.late_fee_daily_ppm,
                   waived=False)
    visits = timeline(session, unit.id)
    orders = list(session.scalars(
        select(WorkOrder).where(WorkOrder.unit_id == unit.id)
        .options(selectinload(WorkOrder.events).selectinload(WorkOrderEvent.user),
                 selectinload(WorkOrder.complaint), selectinload(WorkOrder.after_photos))
        .order_by(WorkOrder.opened_at.desc())))
    entries = [(_aware(v.created_at), "visit", v) for v in visits]
    entries += [(_aware(e.at), "repair", e) for o in orders for e in o.events]
    entries.sort(key=lambda entry: entry[0], reverse=True)
    plan = session.scalar(select(InstallmentPlan).where(
        InstallmentPlan.unit_id == unit.id, InstallmentPlan.status != PlanStatus.CANCELLED)
        .options(selectinload(InstallmentPlan.installments))
        .order_by(InstallmentPlan.id.desc()).limit(1))
    promises = list(session.scalars(select(Promise).where(
        Promise.unit_id == unit.id, Promise.plan_id.is_(None))
        .order_by(Promise.due_date.desc(), Promise.id.desc()).limit(5)))
    waivers = list(session.scalars(select(Waiver).where(Waiver.unit_id == unit.id)
                                   .order_by(Waiver.id.desc()).limit(5)))
    return UnitCard(unit, policy, lines, arrears, days,
                    aging_band(days, bands_from_policy(policy.bands)), fee, visits, orders,
                    entries, plan, promises, waivers)


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes even for timezone-aware columns.
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def timeline(session: Session, unit_id: int, limit: int = 50) -> list[Visit]:
    """The unit's latest visits, newest first, with what each one carries."""
    return list(session.scalars(
        select(Visit).where(Visit.unit_id == unit_id)
        .options(selectinload(Visit.user), selectinload(Visit.promise),
                 selectinload(Visit.field_payment),
                 selectinload(Visit.photos).selectinload(VisitPhoto.photo))
        .order_by(Visit.created_at.desc(), Visit.id.desc()).limit(limit)))
