"""Late fees as accrued over each bill's history of outstanding amounts."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldapp.domain.allocation import (
    BillDue,
    InvalidReversal,
    Ledger,
    PaymentIn,
    RefundTooLarge,
    ReversalTooLarge,
    allocate,
)
from fieldapp.domain.latefee import (
    DatedPayment,
    accrued_late_fee,
    cap_fen,
    daily_rate_percent,
    round_half_up,
    unit_late_fee,
)
from fieldapp.domain.money import format_yuan

DUE = date(2025, 1, 10)
GRACE = 15
FIRST = DUE + timedelta(days=GRACE + 1)  # the first day a bill due on DUE accrues
RULE = {"grace_days": GRACE, "daily_ppm": 300}


def day(n: int) -> date:
    """The n-th day of accrual of a bill due on DUE with 15 days of grace (1-based)."""
    return FIRST + timedelta(days=n - 1)


def test_bill_paid_ten_months_late_keeps_its_accrued_fee():
    """¥1,000 paid after 289 days of accrual owes ¥86.70, though nothing is unpaid now."""
    bill = BillDue(1, 100_000, DUE)
    today = day(400)
    fee = accrued_late_fee([bill], [DatedPayment(1, 100_000, day(289))], today, **RULE)
    assert fee.accrued_fen == 8_670
    line, = fee.for_bill(1).lines
    assert (line.outstanding_fen, line.days, line.fee_fen) == (100_000, 289, 8_670)


def test_partly_paid_bill_accrues_on_each_outstanding_in_turn():
    """¥1,000 for 289 days, then ¥100 for 22 days: ¥86.70 + ¥0.66 = ¥87.36."""
    bill = BillDue(1, 100_000, DUE)
    today = day(311)
    fee = accrued_late_fee([bill], [DatedPayment(1, 90_000, day(289))], today, **RULE)
    assert fee.accrued_fen == 8_736
    assert [(ln.outstanding_fen, ln.days, ln.fee_fen, ln.first_day, ln.last_day)
            for ln in fee.for_bill(1).lines] == [(100_000, 289, 8_670, day(1), day(289)),
                                                (10_000, 22, 66, day(290), day(311))]
    assert fee.for_bill(1).days_charged == 311


def test_lines_read_as_a_notice_prints_them():
    """A line multiplies out in words: ¥1,000.00 x 0.03 % x 289 days = ¥86.70."""
    fee = accrued_late_fee([BillDue(1, 100_000, DUE)], [DatedPayment(1, 100_000, day(289))],
                           day(300), **RULE)
    line = fee.for_bill(1).lines[0]
    words = (f"¥{format_yuan(line.outstanding_fen)} × {daily_rate_percent(line.daily_ppm)} % × "
             f"{line.days} days = ¥{format_yuan(line.fee_fen)}")
    assert words == "¥1,000.00 × 0.03 % × 289 days = ¥86.70"


def test_payment_counts_from_the_next_day():
    """A payment in full on the first day of accrual still leaves that one day charged."""
    fee = accrued_late_fee([BillDue(1, 100_000, DUE)], [DatedPayment(1, 100_000, day(1))],
                           day(30), **RULE)
    assert fee.for_bill(1).days_charged == 1 and fee.accrued_fen == 30


def test_payment_within_grace_accrues_nothing():
    """Paid on the last day of grace: the bill never accrues."""
    fee = accrued_late_fee([BillDue(1, 100_000, DUE)], [DatedPayment(1, 100_000, day(0))],
                           day(100), **RULE)
    assert fee.accrued_fen == 0 and fee.for_bill(1).lines == ()


def test_payment_today_counts_from_tomorrow():
    """Today's payment does not lower today's fee; tomorrow's fee stays the same."""
    bills, pay = [BillDue(1, 100_000, DUE)], [DatedPayment(1, 100_000, day(10))]
    assert accrued_late_fee(bills, pay, day(10), **RULE).accrued_fen == 300
    assert accrued_late_fee(bills, pay, day(11), **RULE).accrued_fen == 300
    assert accrued_late_fee(bills, [], day(11), **RULE).accrued_fen == 330


def test_nothing_accrues_in_paused_ranges():
    """Days of an installment plan on track are not charged, and split the lines."""
    fee = accrued_late_fee([BillDue(1, 100_000, DUE)], [], day(100), **RULE,
                           paused=[(day(11), day(40)), (day(30), day(50))])
    assert [(ln.first_day, ln.last_day, ln.days) for ln in fee.for_bill(1).lines] == [
        (day(1), day(10), 10), (day(51), day(100), 50)]
    assert fee.accrued_fen == 1_800


def test_one_day_left_between_pauses_or_after_one_is_charged():
    """A single unpaused day, between two pauses or after the last, is a line of its own."""
    fee = accrued_late_fee([BillDue(1, 100_000, DUE)], [], day(21), **RULE,
                           paused=[(day(1), day(9)), (day(11), day(20))])
    assert [(ln.first_day, ln.last_day, ln.days) for ln in fee.for_bill(1).lines] == [
        (day(10), day(10), 1), (day(21), day(21), 1)]
    assert fee.accrued_fen == 60


def test_pause_before_or_after_the_accrual_changes_nothing():
    """A pause that ended before the grace period ran out, or starts tomorrow, is moot."""
    bills = [BillDue(1, 100_000, DUE)]
    plain = accrued_late_fee(bills, [], day(20), **RULE)
    assert accrued_late_fee(bills, [], day(20), **RULE, paused=[
        (DUE - timedelta(days=30), day(0)), (day(21), day(90))]) == plain


def test_cap_at_the_principal():
    """With a cap of 1,000,000 ppm, a bill never accrues more than its amount."""
    bills = [BillDue(1, 10_000, DUE)]
    fee = accrued_late_fee(bills, [], day(5_000), grace_days=GRACE, daily_ppm=300,
                           cap_ppm=1_000_000)
    bill = fee.for_bill(1)
    assert (bill.uncapped_fen, bill.cap_fen, bill.accrued_fen, bill.capped) == (
        15_000, 10_000, 10_000, True)
    assert sum(ln.fee_fen for ln in bill.lines) == 15_000  # the lines explain the uncapped fee
    uncapped = accrued_late_fee(bills, [], day(5_000), grace_days=GRACE, daily_ppm=300)
    assert uncapped.accrued_fen == 15_000 and not uncapped.for_bill(1).capped


def test_cap_applies_per_bill_after_rounding():
    """Each bill is capped on its own, at cap_ppm of its amount rounded down."""
    bills = [BillDue(1, 10_000, DUE), BillDue(2, 999, DUE)]
    fee = accrued_late_fee(bills, [], day(100), grace_days=GRACE, daily_ppm=300,
                           cap_ppm=100_000)
    assert [(b.uncapped_fen, b.accrued_fen) for b in fee.bills] == [(300, 300), (30, 30)]
    fee = accrued_late_fee(bills, [], day(400), grace_days=GRACE, daily_ppm=300,
                           cap_ppm=100_000)
    assert [(b.uncapped_fen, b.accrued_fen) for b in fee.bills] == [(1_200, 1_000), (120, 99)]
    assert fee.accrued_fen == 1_099 and fee.uncapped_fen == 1_320
    assert cap_fen(999, 100_000) == 99 and cap_fen(999, None) is None


@pytest.mark.parametrize("millionths,fen", [(499_999, 0), (500_000, 1), (1_500_000, 2),
                                            (2_500_000, 3), (2_499_999, 2), (0, 0)])
def test_round_half_up(millionths, fen):
    """Exactly .5 fen goes up, unlike half-down (0.5 -> 0) and banker's (2.5 -> 2)."""
    assert round_half_up(millionths) == fen


@pytest.mark.parametrize("amount,days,fen", [(1_000, 1, 1), (1_000, 5, 3), (1_000, 3, 2),
                                             (999, 1, 0)])
def test_fee_of_exactly_half_a_fen_rounds_up(amount, days, fen):
    """¥10 at 0.05 %/day is 0.5 fen a day: 1 day -> 1 fen, 5 days (2.5) -> 3, 3 (1.5) -> 2."""
    fee = accrued_late_fee([BillDue(1, amount, DUE)], [], day(days), grace_days=GRACE,
                           daily_ppm=500)
    assert fee.accrued_fen == fen


def test_fee_is_rounded_once_per_bill_not_per_period():
    """Two periods of a quarter fen each make half a fen, so 1 fen; rounded apart, 0."""
    fee = accrued_late_fee([BillDue(1, 1_000, DUE)], [DatedPayment(1, 500, day(1))], day(3),
                           grace_days=GRACE, daily_ppm=250)
    bill = fee.for_bill(1)
    assert [ln.fee_millionths for ln in bill.lines] == [250_000, 250_000]
    assert bill.accrued_fen == 1 and [ln.fee_fen for ln in bill.lines] == [1, 0]


def test_fee_is_rounded_per_bill_not_per_unit():
    """Two bills of a quarter fen each accrue nothing each, not half a fen together."""
    fee = accrued_late_fee([BillDue(1, 1_000, DUE), BillDue(2, 1_000, DUE)], [], day(1),
                           grace_days=GRACE, daily_ppm=250)
    assert [b.accrued_fen for b in fee.bills] == [0, 0] and fee.accrued_fen == 0


def test_line_shares_add_up_to_the_bill_fee():
    """The fen left after rounding down goes to the period with the largest remainder."""
    pay = [DatedPayment(1, 100, day(1)), DatedPayment(2, 800, day(3))]
    fee = accrued_late_fee([BillDue(1, 1_000, DUE)], pay, day(4), grace_days=GRACE,
                           daily_ppm=300)
    bill = fee.for_bill(1)
    # 0.30 + 0.54 + 0.03 = 0.87 fen -> 1 fen, shown on the middle period.
    assert [ln.fee_millionths for ln in bill.lines] == [300_000, 540_000, 30_000]
    assert [ln.fee_fen for ln in bill.lines] == [0, 1, 0] and bill.accrued_fen == 1


def test_reversal_reopens_the_bill_from_the_day_after():
    """A payment reversed later counts only until its reversal: the bill accrues again."""
    pay = [DatedPayment(1, 100_000, day(10)), DatedPayment(2, -100_000, day(30), reverses=1)]
    fee = accrued_late_fee([BillDue(1, 100_000, DUE)], pay, day(50), **RULE)
    assert [(ln.outstanding_fen, ln.days) for ln in fee.for_bill(1).lines] == [
        (100_000, 10), (100_000, 20)]
    assert fee.accrued_fen == 900


def test_refund_reopens_the_newest_bill_and_its_fee_follows():
    """A refund beyond the credit re-opens the newest bill, which then accrues."""
    old, new = BillDue(1, 10_000, DUE), BillDue(2, 10_000, DUE + timedelta(days=31))
    pay = [DatedPayment(1, 25_000, DUE), DatedPayment(2, -8_000, day(60))]
    fee = accrued_late_fee([old, new], pay, day(70), **RULE)
    assert fee.for_bill(1).lines == ()
    assert [(ln.outstanding_fen, ln.days) for ln in fee.for_bill(2).lines] == [(3_000, 10)]


def test_credit_pays_a_later_bill_before_it_accrues():
    """An overpayment is credit that pays the next bill, so that bill never accrues."""
    pay = [DatedPayment(1, 20_000, DUE)]
    fee = accrued_late_fee([BillDue(1, 10_000, DUE), BillDue(2, 10_000, day(30))], pay,
                           day(200), **RULE)
    assert fee.accrued_fen == 0


def test_named_payment_pays_its_bill_not_the_oldest():
    """A payment naming the newer bill stops that bill's fee; the older one accrues on."""
    pay = [DatedPayment(1, 10_000, day(1), bill_id=2)]
    fee = accrued_late_fee([BillDue(1, 10_000, DUE), BillDue(2, 10_000, DUE)], pay, day(10),
                           **RULE)
    assert [b.days_charged for b in fee.bills] == [10, 1]


def test_waivers_lower_the_outstanding_fee_never_below_zero():
    """Outstanding is accrued less approved waivers, and stops at zero."""
    args = ([BillDue(1, 100_000, DUE)], [], day(100))
    fee = unit_late_fee(*args, **RULE, waivers_fen=[1_000, 500])
    assert (fee.accrued_fen, fee.waived_fen, fee.outstanding_fen) == (3_000, 1_500, 1_500)
    fee = unit_late_fee(*args, **RULE, waivers_fen=[5_000])
    assert (fee.accrued_fen, fee.waived_fen, fee.outstanding_fen) == (3_000, 5_000, 0)
    with pytest.raises(ValueError, match="^a waiver cannot be negative$"):
        unit_late_fee(*args, **RULE, waivers_fen=[-1])
    fee = unit_late_fee(*args, **RULE, waivers_fen=[0])  # a zero waiver waives nothing
    assert (fee.waived_fen, fee.outstanding_fen) == (0, 3_000)


def test_a_payment_reversed_the_same_day_is_as_if_never_made():
    """Walked by date, a day's payments come before the day's reversals of them, so a
    same-day reversal (even one with a smaller id) finds the payment it cancels."""
    bills = [BillDue(1, 100_000, DUE)]
    never = accrued_late_fee(bills, [], day(60), **RULE)
    for ids in ((1, 2), (2, 1)):
        pay = [DatedPayment(ids[0], 100_000, day(10)),
               DatedPayment(ids[1], -100_000, day(10), reverses=ids[0])]
        assert accrued_late_fee(bills, pay, day(60), **RULE).accrued_fen == never.accrued_fen


def test_bad_histories_are_refused_saying_what_is_wrong():
    """The fee walks payments by date and refuses what it cannot walk, in words that
    name the payments and the day."""
    bills = [BillDue(1, 100_000, DUE)]

    def fee(*pay):
        return accrued_late_fee(bills, list(pay), day(30), **RULE)

    with pytest.raises(InvalidReversal, match="^reversal 2 reverses payment 9, which is not "
                                              "among the payments before it$"):
        fee(DatedPayment(2, -100, day(5), reverses=9))
    with pytest.raises(InvalidReversal, match="^reversal 2 is dated before payment 1 that it "
                                              "reverses$"):
        fee(DatedPayment(1, 100, day(10)), DatedPayment(2, -100, day(9), reverses=1))
    with pytest.raises(InvalidReversal, match="^reversal 3 reverses payment id 1, which more "
                                              "than one payment has$"):
        fee(DatedPayment(1, 100, day(2)), DatedPayment(1, 200, day(3)),
            DatedPayment(3, -100, day(4), reverses=1))
    with pytest.raises(RefundTooLarge, match=f"^refunds exceed the money paid by 50 fen on "
                                             f"{day(3)}$"):
        fee(DatedPayment(1, 100, day(2)), DatedPayment(2, -150, day(3)))
    with pytest.raises(ValueError, match="^a paused range cannot end before it starts: "):
        accrued_late_fee(bills, [], day(30), **RULE, paused=[(day(9), day(8))])
    # An id used twice is a problem once both payments count: not while one is to come.
    assert fee(DatedPayment(1, 100, day(2)), DatedPayment(1, 200, day(40)),
               DatedPayment(3, -100, day(4), reverses=1)).accrued_fen == fee().accrued_fen


def test_the_accrual_says_the_rule_it_applied_and_refuses_a_negative_one():
    """A notice prints the rule with the fee: the accrual carries it."""
    fee = accrued_late_fee([BillDue(1, 100_000, DUE)], [], day(10), **RULE, cap_ppm=50_000)
    assert (fee.grace_days, fee.daily_ppm, fee.cap_ppm) == (GRACE, 300, 50_000)
    for bad in ({"grace_days": -1}, {"daily_ppm": -1}, {"cap_ppm": -1}):
        with pytest.raises(ValueError, match="^grace days, daily rate and cap cannot be "
                                             "negative$"):
            accrued_late_fee([BillDue(1, 100_000, DUE)], [], day(10), **{**RULE, **bad})


def test_a_cap_is_a_share_of_the_bill_rounded_down_and_nothing_for_nothing():
    assert cap_fen(10_001, 100_000) == 1_000  # 10 % of ¥100.01, rounded down
    assert cap_fen(0, 1_000_000) == 0 and cap_fen(-500, 1_000_000) == 0
    assert cap_fen(10_000, None) is None


def test_a_units_fee_follows_its_communitys_cap_and_pauses():
    """What the card and notices show is the accrual under the same cap and pauses."""
    bills = [BillDue(1, 100_000, DUE)]
    plain = unit_late_fee(bills, [], day(100), **RULE)
    capped = unit_late_fee(bills, [], day(100), **RULE, cap_ppm=10_000)
    pauses = [(day(1), day(40))]
    paused = unit_late_fee(bills, [], day(100), **RULE, paused=pauses)
    assert plain.accrued_fen == 3_000
    assert capped.accrued_fen == 1_000  # 1 % of the bill
    assert paused.accrued_fen == accrued_late_fee(bills, [], day(100), **RULE,
                                                  paused=pauses).accrued_fen == 1_800


def test_a_pause_from_the_last_day_on_leaves_that_day_unpaid():
    """A pause that starts on the last day counted takes that day out too."""
    bills = [BillDue(1, 100_000, DUE)]
    fee = accrued_late_fee(bills, [], day(11), **RULE, paused=[(day(11), day(30))])
    assert fee.accrued_fen == accrued_late_fee(bills, [], day(11), **RULE,
                                               paused=[(day(11), day(11))]).accrued_fen
    assert fee.accrued_fen < accrued_late_fee(bills, [], day(11), **RULE).accrued_fen


@pytest.mark.parametrize("ppm,text", [(150, "0.015"), (300, "0.03"), (500, "0.05"),
                                      (5, "0.0005"), (10_000, "1"), (12_345, "1.2345"),
                                      (1_000_000, "100"), (0, "0")])
def test_daily_rate_percent(ppm, text):
    """As many decimals as the rate needs: 0.015 %/day is not printed as 0.01 %."""
    assert daily_rate_percent(ppm) == text


def test_reversal_dated_before_its_payment_is_refused():
    """A reversal cannot take back money before it was paid."""
    pay = [DatedPayment(1, 100, day(10)), DatedPayment(2, -100, day(9), reverses=1)]
    with pytest.raises(InvalidReversal, match="dated before payment 1"):
        accrued_late_fee([BillDue(1, 100, DUE)], pay, day(20), **RULE)


def test_reversal_of_an_id_two_payments_have_is_refused_whatever_their_dates():
    """As in allocate, a reversal must point at one payment, even if the twin comes later."""
    pay = [DatedPayment(1, 100, day(1)), DatedPayment(2, -50, day(2), reverses=1),
           DatedPayment(1, 70, day(3))]
    with pytest.raises(InvalidReversal, match="more than one"):
        accrued_late_fee([BillDue(1, 100, DUE)], pay, day(20), **RULE)


@pytest.mark.parametrize("refund_on", [day(-10), day(9)])
def test_refund_before_the_money_arrived_is_refused(refund_on):
    """A refund dated before the payment it returns would leave a day with negative money,
    also while no bill accrues yet."""
    pay = [DatedPayment(1, 100, refund_on + timedelta(days=1)), DatedPayment(2, -100, refund_on)]
    with pytest.raises(RefundTooLarge):
        accrued_late_fee([BillDue(1, 100, DUE)], pay, day(20), **RULE)


def test_reversal_too_large_is_refused_as_in_allocation():
    """The same ReversalTooLarge as allocate, whatever the dates."""
    pay = [DatedPayment(1, 100, day(1)), DatedPayment(2, -101, day(2), reverses=1)]
    with pytest.raises(ReversalTooLarge):
        accrued_late_fee([BillDue(1, 100, DUE)], pay, day(20), **RULE)


@pytest.mark.parametrize("kwargs", [{"grace_days": -1, "daily_ppm": 300},
                                    {"grace_days": 0, "daily_ppm": -1},
                                    {"grace_days": 0, "daily_ppm": 300, "cap_ppm": -1},
                                    {"grace_days": 0, "daily_ppm": 300,
                                     "paused": [(day(5), day(4))]}])
def test_bad_rules_are_refused(kwargs):
    """Negative grace, rate or cap, or a pause ending before it starts, are errors."""
    with pytest.raises(ValueError):
        accrued_late_fee([BillDue(1, 100, DUE)], [], day(20), **kwargs)


def test_one_allocation_per_payment_date_not_per_day(monkeypatch):
    """Ten years overdue with three payment dates costs three allocations, not 3,650."""
    calls = []
    real = Ledger.paid_fen
    monkeypatch.setattr(Ledger, "paid_fen", lambda self: calls.append(1) or real(self))
    pay = [DatedPayment(1, 100, day(5)), DatedPayment(2, 100, day(5)),
           DatedPayment(3, 100, day(900)), DatedPayment(4, -50, day(2_000), reverses=3)]
    fee = accrued_late_fee([BillDue(i, 10_000, DUE + timedelta(days=i)) for i in range(20)],
                           pay, day(3_650), **RULE)
    assert fee.days_charged > 3_600 * 19
    assert len(calls) == 3


# The reference: every day, every bill, allocating from scratch.

def naive(bills, payments, today, grace_days, daily_ppm, cap_ppm, paused):
    """Day by day: {bill id: (lines as (first, last, outstanding, days), uncapped, accrued)}."""
    start = min((b.due_date for b in bills), default=today) + timedelta(days=grace_days + 1)
    owed = {}
    t = start
    while t <= today:
        done = [PaymentIn(p.id, p.amount_fen, p.bill_id, p.reverses) for p in payments
                if p.paid_on <= t - timedelta(days=1)]
        paid = allocate(bills, done).paid_fen
        owed[t] = {b.id: max(b.amount_fen, 0) - paid[b.id] for b in bills}
        t += timedelta(days=1)
    out = {}
    for b in bills:
        lines, total = [], 0
        t = b.due_date + timedelta(days=grace_days + 1)
        while t <= today:
            outstanding = owed[t][b.id]
            if outstanding > 0 and not any(f <= t <= last for f, last in paused):
                total += outstanding * daily_ppm
                if (lines and lines[-1][2] == outstanding
                        and lines[-1][1] == t - timedelta(days=1)):
                    first, _, _, days = lines.pop()
                    lines.append((first, t, outstanding, days + 1))
                else:
                    lines.append((t, t, outstanding, 1))
            t += timedelta(days=1)
        uncapped = total // 1_000_000 + (1 if total % 1_000_000 >= 500_000 else 0)
        cap = None if cap_ppm is None else max(b.amount_fen, 0) * cap_ppm // 1_000_000
        out[b.id] = (lines, uncapped, uncapped if cap is None else min(uncapped, cap))
    return out


START = date(2025, 1, 1)


@st.composite
def histories(draw):
    """A unit's bills and a valid payment history: payments named, unnamed, naming other
    units' bills, overpaying; reversals of earlier payments; refunds of money held."""
    n_bills = draw(st.integers(0, 5))
    amounts = st.one_of(st.integers(0, 60_000), st.integers(0, 60).map(lambda n: n * 1_000))
    bills = [BillDue(i + 1, draw(amounts),
                     START + timedelta(days=draw(st.integers(0, 200)))) for i in range(n_bills)]
    targets = [b.id for b in bills] + [None, None, 99]
    payments: list[DatedPayment] = []
    reversible: dict[int, int] = {}  # payment id -> not yet reversed
    on, net = START - timedelta(days=draw(st.integers(0, 40))), 0
    for pid in range(1, draw(st.integers(0, 9)) + 1):
        on += timedelta(days=draw(st.integers(0, 60)))
        kind = draw(st.sampled_from(["pay", "pay", "reverse", "refund"]))
        open_ids = [k for k, v in reversible.items() if v > 0]
        if kind == "reverse" and open_ids and net > 0:  # never below the money held
            target = draw(st.sampled_from(open_ids))
            amount = draw(st.integers(1, min(reversible[target], net)))
            reversible[target] -= amount
            payments.append(DatedPayment(pid, -amount, on, reverses=target))
            net -= amount
        elif kind == "refund" and net > 0:
            amount = draw(st.integers(1, net))
            payments.append(DatedPayment(pid, -amount, on))
            net -= amount
        else:
            amount = draw(st.integers(0, 90_000))
            payments.append(DatedPayment(pid, amount, on, bill_id=draw(st.sampled_from(targets))))
            reversible[pid] = amount
            net += amount
    ids = draw(st.permutations(range(1, len(payments) + 1)))  # ids need not follow dates
    new_id = dict(zip(range(1, len(payments) + 1), ids))
    payments = [replace(p, id=new_id[p.id], reverses=p.reverses and new_id[p.reverses])
                for p in payments]
    today = START + timedelta(days=draw(st.integers(0, 420)))
    pauses = []
    for _ in range(draw(st.integers(0, 3))):
        first = START + timedelta(days=draw(st.integers(0, 420)))
        pauses.append((first, first + timedelta(days=draw(st.integers(0, 90)))))
    rule = {"grace_days": draw(st.sampled_from([0, 1, 15, 30])),
            "daily_ppm": draw(st.sampled_from([0, 1, 150, 250, 300, 500, 777, 5_000])),
            "cap_ppm": draw(st.sampled_from([None, 0, 10_000, 100_000, 1_000_000])),
            "paused": pauses}
    return bills, payments, today, rule


@settings(max_examples=400, deadline=None)
@given(histories(), st.randoms())
def test_accrual_matches_a_day_by_day_reference(data, rnd):
    """Breakpoints at payment dates give the same lines and fees as walking every day,
    whatever the order of rows; the lines' shares add up and stay within a fen."""
    bills, payments, today, rule = data
    expected = naive(bills, payments, today, **rule)
    rows, bill_rows = list(payments), list(bills)
    rnd.shuffle(rows)
    rnd.shuffle(bill_rows)
    fee = accrued_late_fee(bill_rows, rows, today, **rule)
    assert [b.bill_id for b in fee.bills] == [b.id for b in
                                              sorted(bills, key=lambda b: (b.due_date, b.id))]
    for b in fee.bills:
        lines, uncapped, accrued = expected[b.bill_id]
        assert [(ln.first_day, ln.last_day, ln.outstanding_fen, ln.days) for ln in b.lines] == lines
        assert (b.uncapped_fen, b.accrued_fen) == (uncapped, accrued)
        assert b.days_charged == sum(days for *_, days in lines)
        assert sum(ln.fee_fen for ln in b.lines) == b.uncapped_fen
        for ln in b.lines:
            assert ln.fee_millionths == ln.outstanding_fen * ln.daily_ppm * ln.days
            assert ln.fee_millionths // 1_000_000 <= ln.fee_fen <= -(-ln.fee_millionths // 1_000_000)
    assert fee.accrued_fen == sum(v[2] for v in expected.values())
    assert fee == accrued_late_fee(bills, payments, today, **rule)



@pytest.mark.parametrize("as_of,days,fen", [(day(0), 0, 0), (day(1), 1, 30), (day(30), 30, 900)])
def test_only_days_beyond_the_grace_period_accrue(as_of, days, fen):
    """Nothing through the last day of grace; from the first day beyond, each day counts."""
    fee = accrued_late_fee([BillDue(1, 100_000, DUE)], [], as_of, **RULE)
    assert (fee.days_charged, fee.accrued_fen) == (days, fen)


def test_a_bill_in_grace_takes_nothing_off_another_bills_fee():
    """A bill still inside its grace period adds nothing, and subtracts nothing."""
    bills = [BillDue(1, 100_000, DUE), BillDue(2, 100_000, day(30) - timedelta(days=5))]
    fee = accrued_late_fee(bills, [], day(30), **RULE)
    assert [b.accrued_fen for b in fee.bills] == [900, 0] and fee.accrued_fen == 900


def test_even_a_one_fen_bill_bears_its_fee():
    """The smallest outstanding amount is charged like any other: 1 fen at 0.5 %/day for
    100 days is half a fen, so 1 fen."""
    fee = accrued_late_fee([BillDue(1, 1, DUE)], [], day(100), grace_days=GRACE,
                           daily_ppm=5_000)
    assert fee.accrued_fen == 1


def test_asking_for_a_bill_the_fee_does_not_cover_names_it():
    """for_bill of an unknown bill is a KeyError naming that bill."""
    fee = accrued_late_fee([BillDue(1, 100_000, DUE)], [], day(5), **RULE)
    with pytest.raises(KeyError) as missing:
        fee.for_bill(99)
    assert missing.value.args == (99,)
