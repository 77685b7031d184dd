"""Fix first, then collect: a unit with an unclosed work order is on dunning hold."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import NoticeType, Outcome, Unit, WorkOrder, WorkOrderStatus


class DunningHold(Exception):
    """A dunning action refused because a repair is still open (HTTP 409)."""

    def __init__(self, work_order: WorkOrder):
        super().__init__(f"unit {work_order.unit_id} is on hold for work order "
                         f"{work_order.id}")
        self.work_order = work_order


def is_dunning(outcome: Outcome | None, notice_type: NoticeType,
               promise: bool = False) -> bool:
    """Delivering any notice or asking for a new promise is dunning; checking on a
    repair, asking about satisfaction or taking a payment is not."""
    return notice_type != NoticeType.NONE or outcome == Outcome.PROMISED or promise


def open_work_order(session: Session, unit_id: int) -> WorkOrder | None:
    """The oldest work order of the unit that is not closed, if any."""
    return session.scalar(
        select(WorkOrder).where(WorkOrder.unit_id == unit_id,
                                WorkOrder.status != WorkOrderStatus.CLOSED)
        .order_by(WorkOrder.opened_at, WorkOrder.id).limit(1))


def ensure_can_dun(session: Session, unit_id: int) -> None:
    """Raise DunningHold naming the open work order; used by visits, promises and
    (later) notice printing."""
    order = open_work_order(session, unit_id)
    if order is not None:
        raise DunningHold(order)


def hold_message(order: WorkOrder) -> str:
    """What a refused dunning action tells the user: which repair, and what is allowed."""
    from flask_babel import gettext as _

    # Imported here: the visits package imports this module through its routes.
    from ..visits.choices import label
    return _("This unit is on dunning hold until work order #%(id)s (%(category)s) is "
             "closed: fix first, then collect. You can still log a visit to check on the "
             "repair, without a notice or a promise.",
             id=order.id, category=label("service_category", order.category))


def refresh_hold(session: Session, unit: Unit, now) -> None:
    """Keep the unit's hold flag, and mark it rectified when its last repair closes."""
    held = open_work_order(session, unit.id) is not None
    if unit.on_hold and not held:
        unit.rectified_at = now
    if held:
        unit.rectified_at = None
    unit.on_hold = held
