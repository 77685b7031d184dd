"""Payment allocation: a payment that names a bill pays that bill first; the rest, and
every payment that names none, pays the oldest unpaid bills first.

Negative amounts take money back, in one of two ways:

- A **reversal** (negative, `reverses` set) cancels all or part of one earlier payment:
  that payment counts for its amount less its reversals, as if it had been smaller,
  and pays its named bill or the pool accordingly. Reversals of one payment may not
  add up to more than it paid (`ReversalTooLarge`); only a positive payment that is
  not itself a reversal can be reversed. A reversal's own `bill_id` is not used: it
  follows the payment it reverses.
- A **refund** (negative, no `reverses`) returns money from the unit's account. Once
  every payment has been allocated, refunds take back credit first, then re-open bills
  newest first (the reverse of oldest-first, by due date then id), each down to zero
  before the next. A refund's `bill_id` is not used. Refunds larger than all the money
  allocated are refused (`RefundTooLarge`).

So with no named payments, refunding R of P paid gives exactly the allocation of P - R.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Iterable, Protocol

from flask_babel import gettext as _

from .money import format_yuan


@dataclass(frozen=True)
class BillDue:
    id: int
    amount_fen: int
    due_date: date


@dataclass(frozen=True)
class PaymentIn:
    id: int
    amount_fen: int  # negative: a reversal (with `reverses`) or a refund (without)
    bill_id: int | None = None
    reverses: int | None = None  # id of the payment this one reverses, fully or partly


@dataclass(frozen=True)
class Allocation:
    paid_fen: dict[int, int]  # bill id -> allocated
    credit_fen: int  # paid but not owed on any bill: kept as credit for future bills


class AllocationError(ValueError):
    """Payments that cannot be allocated as given (bad reversals or refunds)."""


class InvalidReversal(AllocationError):
    """A reversal that is not negative, or of a payment that is unknown, ambiguous or
    not a positive payment."""


class ReversalTooLarge(InvalidReversal):
    """Reversals of one payment add up to more than it paid."""

    def __init__(self, reversal_id: int, payment_id: int, reversed_fen: int, amount_fen: int):
        self.reversal_id = reversal_id
        self.payment_id = payment_id
        super().__init__(
            f"reversal {reversal_id} takes back {reversed_fen} fen in all of payment "
            f"{payment_id}, which paid only {amount_fen} fen")


class RefundTooLarge(AllocationError):
    """Refunds add up to more than all the money allocated."""


def bill_order(bills: Iterable[BillDue]) -> list[BillDue]:
    """Oldest first: the order in which the pool pays (and the reverse, refunds re-open)."""
    return sorted(bills, key=lambda b: (b.due_date, b.id))


class Ledger:
    """Running totals of payments added one by one, allocated on demand.

    A payment must be added before its reversals; `allocate` adds every payment and
    then every reversal, so its result does not depend on the order of rows. The late
    fee walks a unit's payments by date with one ledger, instead of re-allocating all
    payments at each date."""

    def __init__(self, bills: Iterable[BillDue]):
        self.order = bill_order(bills)
        self._billed = [max(b.amount_fen, 0) for b in self.order]
        self._index = {b.id: i for i, b in enumerate(self.order)}
        self._named: dict[int, int] = {}  # index in `order` -> amount naming that bill
        self._pool = 0
        self._refund = 0
        self._payments: dict[int, PaymentIn] = {}
        self._duplicates: set[int] = set()
        self._reversed: dict[int, int] = {}

    def add(self, p: PaymentIn) -> None:
        if p.id in self._payments:
            self._duplicates.add(p.id)
        self._payments[p.id] = p
        if p.reverses is not None:
            self._reverse(p)
        elif p.amount_fen < 0:
            self._refund -= p.amount_fen
        else:
            self._credit(p, p.amount_fen)

    def _credit(self, p: PaymentIn, amount: int) -> None:
        i = self._index.get(p.bill_id) if p.bill_id is not None else None
        if i is not None:
            self._named[i] = self._named.get(i, 0) + amount
        else:
            self._pool += amount

    def _reverse(self, r: PaymentIn) -> None:
        if r.amount_fen >= 0:
            raise InvalidReversal(f"reversal {r.id} must be a negative amount")
        target = self._payments.get(r.reverses)  # type: ignore[arg-type]
        if target is None:
            raise InvalidReversal(f"reversal {r.id} reverses payment {r.reverses}, "
                                  "which is not among the payments before it")
        if target.id in self._duplicates:
            raise InvalidReversal(f"reversal {r.id} reverses payment id {target.id}, "
                                  "which more than one payment has")
        if target.amount_fen <= 0 or target.reverses is not None:
            raise InvalidReversal(f"reversal {r.id} reverses payment {target.id}, "
                                  "which is itself a refund or reversal")
        total = self._reversed.get(target.id, 0) - r.amount_fen
        if total > target.amount_fen:
            raise ReversalTooLarge(r.id, target.id, total, target.amount_fen)
        self._reversed[target.id] = total
        self._credit(target, r.amount_fen)

    def allocation(self) -> Allocation:
        """Named amounts per bill, then the pool oldest first, then refunds."""
        paid, credit = self.paid_fen()
        return Allocation(paid_fen={b.id: fen for b, fen in zip(self.order, paid)},
                          credit_fen=credit)

    def outstanding_fen(self) -> list[int]:
        """What each bill of `order` still owes: lists, for walking many dates fast."""
        return [billed - paid for billed, paid in zip(self._billed, self.paid_fen()[0])]

    def paid_fen(self) -> tuple[list[int], int]:
        """What each bill of `order` is paid, and the credit."""
        billed = self._billed
        paid = [0] * len(billed)
        pool = self._pool
        for i, amount in self._named.items():
            applied = min(amount, billed[i])
            paid[i] = applied
            pool += amount - applied
        if pool > 0:
            for i, owed in enumerate(billed):
                room = owed - paid[i]
                if room >= pool:
                    paid[i] += pool
                    pool = 0
                    break
                paid[i] = owed
                pool -= room
        refund = self._refund
        if refund:
            taken = min(refund, pool)
            pool -= taken
            refund -= taken
            for i in range(len(paid) - 1, -1, -1):
                if refund <= 0:
                    break
                taken = min(refund, paid[i])
                paid[i] -= taken
                refund -= taken
            if refund > 0:
                raise RefundTooLarge(f"refunds exceed the money paid by {refund} fen")
        return paid, pool

def allocate(bills: list[BillDue], payments: list[PaymentIn]) -> Allocation:
    """Allocate payments to bills. The result does not depend on the order of rows:
    named amounts are applied per bill, then one pool pays bills oldest first; then
    refunds take back credit, then re-open bills newest first (see the module)."""
    ledger = Ledger(bills)
    for p in payments:
        if p.reverses is None:
            ledger.add(p)
    for p in sorted((p for p in payments if p.reverses is not None), key=lambda p: p.id):
        ledger.add(p)
    return ledger.allocation()


class PaymentLike(Protocol):
    id: int
    amount_fen: int
    reverses: int | None


def check_reversal(payment: PaymentLike, reversed_payment: PaymentLike,
                   already_reversed_fen: int) -> str | None:
    """Why `payment` cannot reverse `reversed_payment`, of which `already_reversed_fen`
    is reversed by other rows; None when it can. Dates are compared when both have
    a `paid_on`. For the import and the forms, before anything is stored."""
    if payment.reverses != reversed_payment.id:
        return _("This row does not reverse payment %(id)s.", id=reversed_payment.id)
    if payment.amount_fen >= 0:
        return _("A reversal takes money back: its amount must be negative.")
    if reversed_payment.reverses is not None or reversed_payment.amount_fen <= 0:
        return _("Payment %(id)s is itself a refund or reversal and cannot be reversed.",
                 id=reversed_payment.id)
    paid_on = getattr(payment, "paid_on", None)
    reversed_on = getattr(reversed_payment, "paid_on", None)
    if paid_on is not None and reversed_on is not None and paid_on < reversed_on:
        return _("A reversal cannot be dated before the payment %(id)s it reverses.",
                 id=reversed_payment.id)
    left = reversed_payment.amount_fen - max(already_reversed_fen, 0)
    if -payment.amount_fen > left:
        return _("Reversal of ¥%(amount)s is more than the ¥%(left)s of payment %(id)s "
                 "not yet reversed.", amount=format_yuan(-payment.amount_fen),
                 left=format_yuan(max(left, 0)), id=reversed_payment.id)
    return None
