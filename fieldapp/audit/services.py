"""Reading the audit trail: newest first, filtered, one page at a time by keyset."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..models import AuditEvent


@dataclass(frozen=True)
class AuditFilters:
    unit_id: int | None = None
    user_id: int | None = None
    kind: str | None = None  # an action prefix: visit, complaint, work_order, user
    day_from: date | None = None
    day_to: date | None = None
    before_id: int | None = None  # the page continues below this event


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    next_before: int | None  # id to continue from; None on the last page


def audit_page(session: Session, f: AuditFilters, tz: tzinfo, size: int = 50) -> AuditPage:
    q = select(AuditEvent).options(selectinload(AuditEvent.user))
    if f.unit_id is not None:
        q = q.where(AuditEvent.unit_id == f.unit_id)
    if f.user_id is not None:
        q = q.where(AuditEvent.user_id == f.user_id)
    if f.kind:
        q = q.where(AuditEvent.action.startswith(f.kind + ".", autoescape=True))
    if f.day_from is not None:
        q = q.where(AuditEvent.at >= datetime.combine(f.day_from, time(), tz))
    if f.day_to is not None:
        q = q.where(AuditEvent.at < datetime.combine(f.day_to + timedelta(days=1), time(), tz))
    if f.before_id is not None:
        q = q.where(AuditEvent.id < f.before_id)
    events = list(session.scalars(q.order_by(AuditEvent.id.desc()).limit(size + 1)))
    more = len(events) > size
    events = events[:size]
    return AuditPage(events, events[-1].id if more else None)
