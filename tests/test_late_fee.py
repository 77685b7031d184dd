"""Late fees: outstanding x daily rate x days beyond the grace period, rounded half up to
the fen per bill. The unit card (`late_fee`, with its lines) and the route list
(`late_fee_fen`, the total only) must agree to the fen."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from fieldapp.domain.arrears import late_fee, late_fee_fen

D = date(2026, 11, 22)


@dataclass
class B:
    amount_fen: int
    paid_fen: int
    due_date: date


def card_total(bills, **policy) -> int:
    return late_fee(bills, D, **policy).fee_fen


def row_total(bills, **policy) -> int:
    return late_fee_fen(bills, D, **policy)


BOTH = pytest.mark.parametrize("total", [card_total, row_total], ids=["card", "route_row"])


def half_up(outstanding: int, ppm: int, days: int) -> int:
    """The rule as the policy states it, in decimal arithmetic."""
    exact = Decimal(outstanding) * ppm * days / 1_000_000
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def overdue(days: int, amount: int, paid: int = 0) -> B:
    return B(amount, paid, D - timedelta(days=days))


@BOTH
@pytest.mark.parametrize("outstanding,ppm,days,fee", [
    (5_000, 100, 1, 1),    # exactly 0.5 fen: half up is 1 (half down would be 0)
    (15_000, 100, 1, 2),   # 1.5 fen -> 2
    (25_000, 100, 1, 3),   # 2.5 fen -> 3 (half-even would give 2)
    (4_999, 100, 1, 0),    # 0.4999 fen -> 0
    (5_001, 100, 1, 1),    # 0.5001 fen -> 1
])
def test_exact_halves_round_up(total, outstanding, ppm, days, fee):
    """A fee of exactly half a fen rounds up; just under half rounds down."""
    bills = [overdue(15 + days, outstanding)]
    assert total(bills, grace_days=15, daily_ppm=ppm) == fee


@BOTH
def test_each_bill_is_rounded_on_its_own(total):
    """Two bills of half a fen each are one fen each, not one fen together."""
    bills = [overdue(16, 5_000), overdue(16, 5_000)]
    assert total(bills, grace_days=15, daily_ppm=100) == 2


@BOTH
@pytest.mark.parametrize("days,charged", [(15, 0), (16, 1), (45, 30)])
def test_only_days_beyond_the_grace_period_are_charged(total, days, charged):
    """No fee inside the grace period; from its first day beyond, each day counts."""
    assert total([overdue(days, 1_000_000)], grace_days=15, daily_ppm=300) == \
        half_up(1_000_000, 300, charged)


@BOTH
def test_a_bill_in_grace_takes_nothing_off_another_bills_fee(total):
    """A bill still inside its grace period adds nothing, and subtracts nothing."""
    bills = [overdue(45, 100_000), overdue(5, 100_000)]
    assert total(bills, grace_days=15, daily_ppm=300) == half_up(100_000, 300, 30)


@BOTH
def test_the_fee_is_on_what_is_still_outstanding(total):
    """Paid parts of a bill bear no fee; a fully paid bill bears none at all."""
    bills = [overdue(45, 100_000, paid=40_000), overdue(200, 50_000, paid=50_000)]
    assert total(bills, grace_days=15, daily_ppm=300) == half_up(60_000, 300, 30)


@BOTH
def test_even_a_one_fen_bill_bears_its_fee(total):
    """The smallest outstanding amount is charged like any other."""
    assert total([overdue(115, 1)], grace_days=15, daily_ppm=5_000) == 1  # 0.5 fen


@BOTH
def test_a_waived_fee_is_zero(total):
    """Waived with a supervisor's approval means nothing is charged."""
    assert total([overdue(45, 100_000)], grace_days=15, daily_ppm=300, waived=True) == 0


@BOTH
def test_fees_are_charged_unless_waived(total):
    """Not waiving is the default."""
    assert total([overdue(45, 100_000)], grace_days=15, daily_ppm=300) == 900


def test_the_card_lists_every_charged_bill_oldest_first():
    """Each bill beyond grace has its line (outstanding, days, fee), oldest first; paid
    bills and bills in grace (its last day included) have none, wherever they sort."""
    bills = [overdue(5, 7_000), overdue(45, 100_000, paid=40_000), overdue(400, 9_000, paid=9_000),
             overdue(16, 1), overdue(100, 20_000), overdue(15, 8_000)]
    fee = late_fee(bills, D, grace_days=15, daily_ppm=300)
    assert [(line.outstanding_fen, line.days_charged) for line in fee.lines] == \
        [(20_000, 85), (60_000, 30), (1, 1)]
    assert [line.fee_fen for line in fee.lines] == [half_up(20_000, 300, 85),
                                                     half_up(60_000, 300, 30), 0]
    assert fee.fee_fen == sum(line.fee_fen for line in fee.lines)


def test_the_card_explains_the_computation():
    """The result carries the grace days, the daily rate and whether it was waived."""
    fee = late_fee([overdue(45, 100_000)], D, grace_days=10, daily_ppm=500)
    assert (fee.grace_days, fee.daily_ppm, fee.waived) == (10, 500, False)
    waived = late_fee([overdue(45, 100_000)], D, grace_days=10, daily_ppm=500, waived=True)
    assert waived.waived is True and waived.fee_fen == 0
    assert [line.fee_fen for line in waived.lines] == [half_up(100_000, 500, 35)]


bills_st = st.lists(st.builds(
    B, amount_fen=st.integers(0, 100_000_000), paid_fen=st.integers(0, 100_000_000),
    due_date=st.dates(D - timedelta(days=3650), D + timedelta(days=60))), max_size=8)


@settings(max_examples=300, deadline=None)
@given(bills=bills_st, grace=st.integers(0, 60), ppm=st.integers(0, 5_000),
       waived=st.booleans())
@example(bills=[B(10_000_000, 0, D - timedelta(days=715))], grace=15, ppm=300, waived=False)
def test_card_and_route_row_agree_with_the_decimal_rule(bills, grace, ppm, waived):
    """For any bills and policy, both totals equal the per-bill decimal rule, to the fen,
    however large the amounts."""
    expected = 0 if waived else sum(
        half_up(b.amount_fen - b.paid_fen, ppm, (D - b.due_date).days - grace)
        for b in bills if b.amount_fen > b.paid_fen and (D - b.due_date).days > grace)
    assert late_fee(bills, D, grace_days=grace, daily_ppm=ppm, waived=waived).fee_fen == expected
    assert late_fee_fen(bills, D, grace_days=grace, daily_ppm=ppm, waived=waived) == expected
