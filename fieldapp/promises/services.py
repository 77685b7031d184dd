"""Plans and waivers as services: each change is one transaction with its audit event,
and the unit's promise summary is brought up to date in it."""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.money import format_yuan
from ..domain.promises import Installment
from ..domain.summary import refresh_promises
from ..models import (
    InstallmentPlan,
    PlanStatus,
    Policy,
    Promise,
    Role,
    Unit,
    User,
    Waiver,
    WaiverStatus,
    record_audit,
    utcnow,
)
from ..units.fees import late_fees


class Refused(Exception):
    """A request the rules do not allow; the message says why, for the user."""

    def __init__(self, message, status: int = 422):
        super().__init__(str(message))
        self.message, self.status = message, status


def policy_of(session: Session, unit: Unit) -> Policy:
    return session.scalar(select(Policy).where(
        Policy.community_id == unit.building.community_id))


def create_plan(session: Session, unit: Unit, user: User, installments: list[Installment],
                reason: str, today: date) -> InstallmentPlan:
    """A new plan replaces any plan still running (ended, its open installments gone)."""
    for old in session.scalars(select(InstallmentPlan).where(
            InstallmentPlan.unit_id == unit.id,
            InstallmentPlan.status.in_([PlanStatus.ON_TRACK, PlanStatus.BEHIND]))):
        _cancel(session, old, user, "replaced", today)
    plan = InstallmentPlan(unit_id=unit.id, created_by=user.id, made_on=today,
                           total_fen=sum(i.amount_fen for i in installments), reason=reason)
    for seq, item in enumerate(installments, start=1):
        plan.installments.append(Promise(unit_id=unit.id, seq=seq, made_on=today,
                                         due_date=item.due_date, amount_fen=item.amount_fen,
                                         created_by=user.id))
    session.add(plan)
    session.flush()
    record_audit(user, "plan.create", "installment_plan", plan.id, unit_id=unit.id,
                 installments=len(installments), total_fen=plan.total_fen)
    unit.updated_at = utcnow()  # the late fee's pause changed: its row is new
    refresh_promises(session, unit.id, today)
    session.commit()
    return plan


def _cancel(session: Session, plan: InstallmentPlan, user: User, why: str,
            today: date) -> None:
    if plan.status == PlanStatus.ON_TRACK:
        plan.ended_on = today
    plan.status = PlanStatus.CANCELLED
    for item in plan.installments:
        if item.status.value == "open":
            session.delete(item)
    record_audit(user, "plan.cancel", "installment_plan", plan.id, unit_id=plan.unit_id,
                 reason=why)


def cancel_plan(session: Session, plan: InstallmentPlan, user: User, why: str,
                today: date) -> None:
    """Open installments go; kept and broken ones stay on the record."""
    if plan.status in (PlanStatus.CANCELLED, PlanStatus.COMPLETED):
        raise Refused(_l("This plan has already ended."), 409)
    _cancel(session, plan, user, why, today)
    plan.unit.updated_at = utcnow()
    session.flush()
    refresh_promises(session, plan.unit_id, today)
    session.commit()


def late_fee_due(session: Session, unit: Unit, today: date) -> int:
    """The late fee still owed: accrued less what approved waivers took off."""
    fees = late_fees(session, {unit.id: (policy_of(session, unit), unit.late_fee_waived_fen)},
                     today)
    return fees[unit.id].outstanding_fen


def request_waiver(session: Session, unit: Unit, user: User, amount_fen: int, reason: str,
                   today: date) -> Waiver:
    due = late_fee_due(session, unit, today)
    if due == 0:
        raise Refused(_l("There is no late fee to waive."), 409)
    if amount_fen > due:
        raise Refused(_l("More than the late fee still owed (¥%(due)s).", due=format_yuan(due)))
    if session.scalar(select(Waiver.id).where(Waiver.unit_id == unit.id,
                                              Waiver.status == WaiverStatus.PENDING)):
        raise Refused(_l("A waiver for this unit is already waiting for a supervisor."), 409)
    waiver = Waiver(unit_id=unit.id, amount_fen=amount_fen, reason=reason,
                    requested_by=user.id)
    session.add(waiver)
    session.flush()
    record_audit(user, "waiver.request", "waiver", waiver.id, unit_id=unit.id,
                 amount_fen=amount_fen)
    session.commit()
    return waiver


def decide_waiver(session: Session, waiver: Waiver, user: User, approve: bool,
                  comment: str) -> Waiver:
    """Only a supervisor or admin decides; a declined request says why."""
    if user.role not in (Role.SUPERVISOR, Role.ADMIN):
        raise Refused(_l("Only a supervisor can approve or decline a waiver."), 403)
    if waiver.status != WaiverStatus.PENDING:
        raise Refused(_l("This request has already been decided."), 409)
    if not approve and not comment:
        raise Refused(_l("Say why the waiver is declined."))
    waiver.status = WaiverStatus.APPROVED if approve else WaiverStatus.DECLINED
    waiver.decided_by, waiver.decided_at, waiver.comment = user.id, utcnow(), comment
    if approve:
        waiver.unit.late_fee_waived_fen += waiver.amount_fen
    record_audit(user, f"waiver.{waiver.status.value}", "waiver", waiver.id,
                 unit_id=waiver.unit_id, amount_fen=waiver.amount_fen)
    session.commit()
    return waiver
