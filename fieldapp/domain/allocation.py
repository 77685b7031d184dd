"""Payment allocation: a payment that names a bill pays that bill first; the rest, and
every payment that names none, pays the oldest unpaid bills first."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class BillDue:
    id: int
    amount_fen: int
    due_date: date


@dataclass(frozen=True)
class PaymentIn:
    id: int
    amount_fen: int
    bill_id: int | None = None


@dataclass(frozen=True)
class Allocation:
    paid_fen: dict[int, int]  # bill id -> allocated
    credit_fen: int  # paid but not owed on any bill: kept as credit for future bills


def allocate(bills: list[BillDue], payments: list[PaymentIn]) -> Allocation:
    """Allocate payments to bills. The result does not depend on the order of rows:
    named amounts are applied per bill, then one pool pays bills oldest first."""
    order = sorted(bills, key=lambda b: (b.due_date, b.id))
    known = {b.id for b in order}
    remaining = {b.id: max(b.amount_fen, 0) for b in order}
    paid = {b.id: 0 for b in order}
    named: dict[int, int] = {}
    pool = 0
    for p in payments:
        amount = max(p.amount_fen, 0)
        if p.bill_id is not None and p.bill_id in known:
            named[p.bill_id] = named.get(p.bill_id, 0) + amount
        else:
            pool += amount
    for bill_id, amount in named.items():
        applied = min(amount, remaining[bill_id])
        paid[bill_id] += applied
        remaining[bill_id] -= applied
        pool += amount - applied
    for b in order:
        if pool <= 0:
            break
        applied = min(pool, remaining[b.id])
        paid[b.id] += applied
        remaining[b.id] -= applied
        pool -= applied
    return Allocation(paid_fen=paid, credit_fen=pool)
