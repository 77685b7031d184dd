"""Payment allocation, alone and as the unit's stored summary applies it: a named bill
first, then oldest first, to the last fen; rows that carry no money change nothing."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from fieldapp.domain.allocation import BillDue, PaymentIn, allocate
from fieldapp.extensions import db
from fieldapp.models import Bill, Unit

from .factories import TODAY, make_bill, make_building, make_payment, make_unit

D = date(2026, 11, 22)


def test_the_last_fen_still_pays_the_next_bill():
    """A payment one fen over the oldest bill puts that fen on the next bill, not in
    credit."""
    bills = [BillDue(1, 100, D - timedelta(days=60)), BillDue(2, 100, D - timedelta(days=30))]
    result = allocate(bills, [PaymentIn(1, 101)])
    assert result.paid_fen == {1: 100, 2: 1} and result.credit_fen == 0


@pytest.mark.parametrize("amount", [0])
def test_rows_without_money_change_nothing(amount):
    """A zero payment row allocates nothing (negative rows are refunds and reversals:
    tests/test_allocation_reversals.py)."""
    bills = [BillDue(1, 100, D - timedelta(days=60))]
    assert allocate(bills, [PaymentIn(1, amount)]).paid_fen == {1: 0}
    assert allocate(bills, [PaymentIn(1, amount, bill_id=1)]).paid_fen == {1: 0}
    assert allocate(bills, [PaymentIn(1, 30), PaymentIn(2, amount)]).paid_fen == {1: 30}


def test_several_payments_naming_one_bill_add_up():
    """Two part payments of the same bill settle it together; the excess flows on."""
    bills = [BillDue(1, 100, D - timedelta(days=60)), BillDue(2, 100, D)]
    result = allocate(bills, [PaymentIn(1, 70, bill_id=2), PaymentIn(2, 50, bill_id=2)])
    assert result.paid_fen == {1: 20, 2: 100} and result.credit_fen == 0


def test_a_bill_of_negative_amount_is_owed_nothing():
    """A credit note imported as a negative bill absorbs no payment."""
    bills = [BillDue(1, -300, D - timedelta(days=90)), BillDue(2, 100, D - timedelta(days=30))]
    result = allocate(bills, [PaymentIn(1, 150)])
    assert result.paid_fen == {1: 0, 2: 100} and result.credit_fen == 50


def test_same_due_date_is_paid_in_bill_order():
    """Bills due the same day are settled in the order the billing system numbered them."""
    bills = [BillDue(9, 100, D), BillDue(3, 100, D)]
    assert allocate(bills, [PaymentIn(1, 150)]).paid_fen == {3: 100, 9: 50}


@pytest.fixture
def unit(app):
    return make_unit(make_building(), owner=None)


def paid(unit_id: int) -> dict[str, int]:
    db.session.expire_all()
    return {b.period: b.paid_fen for b in db.session.query(Bill).filter_by(unit_id=unit_id)}


def test_the_summary_pays_the_oldest_due_date_not_the_oldest_row(unit):
    """A bill imported late for an old period is still paid first."""
    make_bill(unit, 10_000, TODAY - timedelta(days=10), period="2026-11")
    make_bill(unit, 10_000, TODAY - timedelta(days=70), period="2026-09")
    make_payment(unit, 12_000, TODAY)
    assert paid(unit.id) == {"2026-09": 10_000, "2026-11": 2_000}
    assert db.session.get(Unit, unit.id).arrears_fen == 8_000


def test_the_summary_honours_the_bill_a_payment_names(unit):
    """A payment naming the newer bill pays it, even with an older bill open."""
    make_bill(unit, 10_000, TODAY - timedelta(days=70), period="2026-09")
    newer = make_bill(unit, 10_000, TODAY - timedelta(days=10), period="2026-11")
    make_payment(unit, 10_000, TODAY, bill=newer)
    assert paid(unit.id) == {"2026-09": 0, "2026-11": 10_000}
    stored = db.session.get(Unit, unit.id)
    assert stored.oldest_unpaid_due == TODAY - timedelta(days=70)
