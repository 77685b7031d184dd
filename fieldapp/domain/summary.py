"""The per-unit arrears summary that the route list reads instead of 1.2 M bills.

Whoever changes a unit's bills or payments calls `refresh_unit` in the same
transaction. The calendar changes arrears too (a bill falls due overnight):
`refresh_stale` recomputes the units whose summary ran out, found by index."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..models import Bill, Payment, Unit
from .allocation import BillDue, PaymentIn, allocate
from .arrears import arrears_of


def refresh_unit(session: Session, unit_id: int, today: date) -> None:
    """Re-allocate the unit's payments to its bills and rewrite its summary."""
    bills = list(session.scalars(select(Bill).where(Bill.unit_id == unit_id)))
    payments = session.execute(
        select(Payment.id, Payment.amount_fen, Payment.bill_id).where(Payment.unit_id == unit_id)
    ).all()
    result = allocate([BillDue(b.id, b.amount_fen, b.due_date) for b in bills],
                      [PaymentIn(p.id, p.amount_fen, p.bill_id) for p in payments])
    for b in bills:
        if b.paid_fen != result.paid_fen[b.id]:
            b.paid_fen = result.paid_fen[b.id]
    write_summary(session, unit_id, bills, today)


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


def refresh_stale(session: Session, today: date, building_ids: list[int] | None = None) -> int:
    """Recompute summaries that the calendar has outdated; returns how many."""
    q = select(Unit.id).where(stale_filter(today))
    if building_ids is not None:
        q = q.where(Unit.building_id.in_(building_ids))
    ids = list(session.scalars(q))
    for unit_id in ids:
        bills = list(session.execute(
            select(Bill.amount_fen, Bill.paid_fen, Bill.due_date).where(Bill.unit_id == unit_id)
        ).all())
        write_summary(session, unit_id, bills, today)
    return len(ids)


__all__ = ["refresh_unit", "refresh_stale", "write_summary", "stale_filter"]
