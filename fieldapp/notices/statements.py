"""The owner's statement link: a token whose hash alone is stored, that expires and can be
revoked, and that shows one unit's bills, payments, late fee and repairs."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..models import (
    Payment,
    Photo,
    StatementLink,
    Unit,
    User,
    WorkOrder,
    WorkOrderPhoto,
    WorkOrderStatus,
    record_audit,
)
from .services import SHARE_LINK_DAYS, new_token, token_hash


@dataclass(frozen=True)
class Found:
    link: StatementLink | None
    state: str  # "ok", "unknown", "expired", "revoked"


def resolve(session: Session, token: str, now: datetime) -> Found:
    """The link a token names, and whether it still opens."""
    if not token or len(token) > 100:
        return Found(None, "unknown")
    link = session.scalar(select(StatementLink).where(
        StatementLink.token_hash == token_hash(token)))
    if link is None:
        return Found(None, "unknown")
    if link.revoked_at is not None:
        return Found(link, "revoked")
    if link.expires_at <= now:
        return Found(link, "expired")
    return Found(link, "ok")


def share_link(session: Session, unit: Unit, user: User) -> tuple[StatementLink, str]:
    """A new link for a reminder sent from the unit card, logged as a contact attempt."""
    token, digest = new_token()
    now = datetime.now(timezone.utc)
    link = StatementLink(unit_id=unit.id, token_hash=digest, created_by=user.id,
                         created_at=now, expires_at=now + timedelta(days=SHARE_LINK_DAYS),
                         channel="share")
    session.add(link)
    session.flush()
    record_audit(user, "statement.share", "statement_link", link.id, unit_id=unit.id,
                 channel="share")
    session.commit()
    return link, token


def revoke(session: Session, link: StatementLink, user: User) -> None:
    if link.revoked_at is None:
        link.revoked_at = datetime.now(timezone.utc)
    record_audit(user, "statement.revoke", "statement_link", link.id, unit_id=link.unit_id)
    session.commit()


def live_links(session: Session, unit_id: int, now: datetime) -> list[StatementLink]:
    return list(session.scalars(select(StatementLink).where(
        StatementLink.unit_id == unit_id, StatementLink.revoked_at.is_(None),
        StatementLink.expires_at > now).order_by(StatementLink.id.desc())))


def repairs_done(session: Session, unit_id: int) -> list[WorkOrder]:
    """Closed repairs of the unit's complaints, with their after-photos."""
    return list(session.scalars(select(WorkOrder).where(
        WorkOrder.unit_id == unit_id, WorkOrder.status == WorkOrderStatus.CLOSED)
        .options(selectinload(WorkOrder.complaint), selectinload(WorkOrder.after_photos))
        .order_by(WorkOrder.opened_at.desc())))


def payments_of(session: Session, unit_id: int) -> list[Payment]:
    return list(session.scalars(select(Payment).where(Payment.unit_id == unit_id)
                                .order_by(Payment.paid_on.desc(), Payment.id.desc())))


def statement_photo(session: Session, unit_id: int, photo_id: int) -> Photo | None:
    """An after-photo of a closed repair of this unit: the only photos an owner sees."""
    return session.scalar(select(Photo).join(WorkOrderPhoto, WorkOrderPhoto.photo_id == Photo.id)
                          .join(WorkOrder, WorkOrder.id == WorkOrderPhoto.work_order_id)
                          .where(Photo.id == photo_id, WorkOrder.unit_id == unit_id,
                                 WorkOrder.status == WorkOrderStatus.CLOSED))
