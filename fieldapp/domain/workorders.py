"""The work order state machine: accept, start, close; reopen with a reason."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from ..models import Role, User, WorkOrder, WorkOrderStatus

S = WorkOrderStatus


@dataclass(frozen=True)
class Transition:
    before: frozenset[WorkOrderStatus]
    after: WorkOrderStatus


STATUS_LABELS = {S.OPEN: _l("Open"), S.ACCEPTED: _l("Accepted"),
                 S.IN_PROGRESS: _l("In progress"), S.CLOSED: _l("Closed")}
EVENT_LABELS = {"filed": _l("Complaint filed"), "accept": _l("Accepted"),
                "start": _l("Repair started"), "close": _l("Repair finished"),
                "reopen": _l("Reopened: owner not satisfied"),
                "satisfied": _l("Owner satisfied"), "assigned": _l("Assigned"),
                "note": _l("Note")}


def status_label(status) -> str:
    return str(STATUS_LABELS.get(WorkOrderStatus(getattr(status, "value", status)), status))


def event_label(action: str) -> str:
    return str(EVENT_LABELS.get(action, action))


TRANSITIONS = {
    "accept": Transition(frozenset({S.OPEN}), S.ACCEPTED),
    "start": Transition(frozenset({S.ACCEPTED}), S.IN_PROGRESS),
    "close": Transition(frozenset({S.IN_PROGRESS}), S.CLOSED),
    "reopen": Transition(frozenset({S.CLOSED}), S.OPEN),
}


class WorkOrderRefused(Exception):
    """An action that the state or the user's role does not allow; says why."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def check_action(order: WorkOrder, action: str, user: User, *, note: str = "",
                 photo_count: int = 0, max_note: int = 2000) -> WorkOrderStatus:
    """The status after `action`, or WorkOrderRefused with a message for the user."""
    step = TRANSITIONS.get(action)
    if step is None:
        raise WorkOrderRefused(_l("Unknown action."))
    if len(note.strip()) > max_note:
        raise WorkOrderRefused(_l("At most %(n)s characters.", n=max_note))
    if order.status not in step.before:
        raise WorkOrderRefused(_l("Not possible now: this work order is “%(status)s”.",
                                  status=status_label(order.status)))
    supervisor = user.role in (Role.SUPERVISOR, Role.ADMIN)
    if action in ("accept", "start", "close") and not supervisor:
        if user.role != Role.ENGINEER:
            raise WorkOrderRefused(_l("Only engineering can work on repairs."))
        if order.engineer_id not in (None, user.id):
            raise WorkOrderRefused(_l("This work order is assigned to another engineer."))
        if action != "accept" and order.engineer_id != user.id:
            raise WorkOrderRefused(_l("Accept the work order first."))
    if action == "close":
        if not note.strip():
            raise WorkOrderRefused(_l("Describe the repair before closing."))
        if photo_count == 0:
            raise WorkOrderRefused(_l("Add at least one photo of the finished repair."))
    if action == "reopen":
        if user.role == Role.ENGINEER:
            raise WorkOrderRefused(_l("Engineers cannot reopen their own repairs."))
        if not note.strip():
            raise WorkOrderRefused(_l("Say why the repair is not satisfactory."))
    return step.after
