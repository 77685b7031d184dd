"""Complaints open work orders; work orders move through their states; every change
is an audit event and keeps the unit's dunning hold true."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain.holds import refresh_hold
from ..domain.workorders import WorkOrderRefused, check_action
from ..limits import DEFAULT, Limits
from ..models import (
    Complaint,
    ComplaintPhoto,
    Role,
    ServiceCategory,
    Unit,
    User,
    Visit,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderPhoto,
    WorkOrderStatus,
    record_audit,
)
from ..photos.evidence import Upload, store_photos
from ..photos.storage import Storage


@dataclass(frozen=True)
class ComplaintInput:
    client_uuid: str
    category: ServiceCategory
    description: str


class ComplaintUuidReused(Exception):
    """Same client_uuid, different complaint (another user, unit or text): never
    answer with someone else's complaint, never leave this one unfiled."""


def find_repeat(session: Session, unit: Unit, user: User,
                data: ComplaintInput) -> Complaint | None:
    """The stored complaint if this exact submission was already taken."""
    existing = session.scalar(select(Complaint).where(Complaint.client_uuid == data.client_uuid))
    if existing is None:
        return None
    if (existing.created_by, existing.unit_id, existing.category, existing.description) != \
            (user.id, unit.id, data.category, data.description):
        raise ComplaintUuidReused(data.client_uuid)
    return existing


def _event(session: Session, order: WorkOrder, user: User | None, action: str,
           note: str = "") -> None:
    session.add(WorkOrderEvent(work_order=order, user_id=user.id if user else None,
                               action=action, note=note))
    record_audit(user, f"work_order.{action}", "work_order", order.id, unit_id=order.unit_id,
                 status=order.status.value)


def file_complaint(session: Session, store: Storage, unit: Unit, user: User,
                   data: ComplaintInput, uploads: list[Upload], *, tz: tzinfo,
                   visit: Visit | None = None, limits: Limits = DEFAULT,
                   commit: bool = True) -> tuple[Complaint, bool]:
    """File a complaint and open its work order; the unit goes on dunning hold.
    A repeated client_uuid returns the first complaint."""
    existing = find_repeat(session, unit, user, data)
    if existing is not None:
        return existing, False
    photos = store_photos(session, store, uploads, user, tz, limits)
    complaint = Complaint(client_uuid=data.client_uuid, unit_id=unit.id, category=data.category,
                          description=data.description, created_by=user.id,
                          visit_id=visit.id if visit else None)
    for position, (photo, _) in enumerate(photos):
        complaint.photos.append(ComplaintPhoto(photo=photo, position=position))
    order = WorkOrder(complaint=complaint, unit_id=unit.id, category=data.category)
    session.add_all([complaint, order])
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        existing = find_repeat(session, unit, user, data)
        if existing is None:
            raise
        return existing, False
    record_audit(user, "complaint.create", "complaint", complaint.id, unit_id=unit.id,
                 category=data.category.value)
    _event(session, order, user, "filed", data.description)
    refresh_hold(session, unit, datetime.now(timezone.utc))
    if commit:
        session.commit()
    return complaint, True


def act(session: Session, store: Storage, order: WorkOrder, user: User, action: str, *,
        note: str = "", uploads: list[Upload] = (), tz: tzinfo = timezone.utc,
        limits: Limits = DEFAULT) -> WorkOrder:
    """Apply a state change (accept, start, close, reopen), or refuse with a reason."""
    field = {"close": "repair_notes", "reopen": "reason"}.get(action, "note")
    order.status = check_action(order, action, user, note=note, photo_count=len(uploads),
                                max_note=limits.text_limit(field))
    now = datetime.now(timezone.utc)
    if action == "accept" and order.engineer_id is None:
        order.engineer_id = user.id
    if action == "close":
        photos = store_photos(session, store, list(uploads), user, tz, limits)
        offset = len(order.after_photos)
        for position, (photo, _) in enumerate(photos):
            if all(p.photo_id != photo.id for p in order.after_photos):
                order.after_photos.append(WorkOrderPhoto(photo=photo, position=offset + position))
        order.repair_notes = note.strip()
        order.closed_at = now
        order.owner_satisfied = None
    if action == "reopen":
        order.reopen_count += 1
        order.closed_at = None
        order.owner_satisfied = False
    session.flush()
    _event(session, order, user, action, note.strip())
    refresh_hold(session, order.unit, now)
    session.commit()
    return order


def add_note(session: Session, order: WorkOrder, user: User, note: str, *,
             limits: Limits = DEFAULT) -> None:
    if not note.strip():
        raise WorkOrderRefused(_l("Write a note first."))
    if len(note.strip()) > limits.text_limit("note"):
        raise WorkOrderRefused(_l("At most %(n)s characters.", n=limits.text_limit("note")))
    _event(session, order, user, "note", note.strip())
    session.commit()


def assign(session: Session, order: WorkOrder, user: User, engineer: User) -> None:
    """Supervisors assign and reassign; an order in progress changes hands as it is."""
    if engineer.role != Role.ENGINEER:
        raise WorkOrderRefused("not an engineer")
    if order.status == WorkOrderStatus.CLOSED:
        raise WorkOrderRefused("closed")
    order.engineer_id = engineer.id
    _event(session, order, user, "assigned", engineer.display_name or engineer.username)
    session.commit()


def latest_closed(session: Session, unit_id: int) -> WorkOrder | None:
    return session.scalar(select(WorkOrder).where(
        WorkOrder.unit_id == unit_id, WorkOrder.status == WorkOrderStatus.CLOSED)
        .order_by(WorkOrder.closed_at.desc(), WorkOrder.id.desc()).limit(1))


def record_satisfaction(session: Session, store: Storage, unit: Unit, user: User,
                        satisfied: bool, note: str, *, limits: Limits = DEFAULT) -> WorkOrder:
    """The owner's verdict on the last repair: satisfied ends the 'rectified' state;
    not satisfied reopens the work order and the hold returns."""
    order = latest_closed(session, unit.id)
    if order is None:
        raise WorkOrderRefused(_l("There is no finished repair to ask about."))
    if not satisfied and not note.strip():
        raise WorkOrderRefused(_l("Say what the owner is not satisfied with; the repair "
                                  "will be reopened."))
    if len(note.strip()) > limits.text_limit("note"):
        raise WorkOrderRefused(_l("At most %(n)s characters.", n=limits.text_limit("note")))
    if satisfied:
        order.owner_satisfied = True
        unit.rectified_at = None
        _event(session, order, user, "satisfied", note.strip())
        session.commit()
        return order
    return act(session, store, order, user, "reopen", note=note, limits=limits)
