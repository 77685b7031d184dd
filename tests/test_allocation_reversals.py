"""Allocation with negative amounts: reversals of one payment, and refunds."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldapp.domain.allocation import (
    BillDue,
    InvalidReversal,
    PaymentIn,
    RefundTooLarge,
    ReversalTooLarge,
    allocate,
    bill_order,
    check_reversal,
)

D = date(2026, 11, 22)
OLD, MID, NEW = (BillDue(1, 100, D - timedelta(days=60)), BillDue(2, 100, D - timedelta(days=30)),
                 BillDue(3, 100, D))


def test_reversed_payment_leaves_the_bill_open():
    """+¥100 then its reversal of -¥100 leaves the bill unpaid, not paid."""
    result = allocate([OLD], [PaymentIn(1, 100), PaymentIn(2, -100, reverses=1)])
    assert result.paid_fen == {1: 0} and result.credit_fen == 0


def test_partial_reversal_reduces_the_payment():
    """Reversing ¥30 of a ¥100 payment leaves ¥70 of it paying bills oldest first."""
    result = allocate([OLD, MID], [PaymentIn(1, 100), PaymentIn(2, -30, reverses=1)])
    assert result.paid_fen == {1: 70, 2: 0}


def test_reversal_of_a_named_payment_takes_back_from_its_bill():
    """A named payment reversed in part pays its own bill less, not the oldest bill."""
    result = allocate([OLD, MID, NEW], [PaymentIn(1, 130, bill_id=3), PaymentIn(2, 50),
                                        PaymentIn(3, -50, reverses=1)])
    assert result.paid_fen == {1: 50, 2: 0, 3: 80}


def test_reversals_of_a_payment_may_add_up_to_all_of_it():
    """Two partial reversals that together take back exactly the payment are allowed."""
    result = allocate([OLD], [PaymentIn(1, 100), PaymentIn(2, -40, reverses=1),
                              PaymentIn(3, -60, reverses=1), PaymentIn(4, 25)])
    assert result.paid_fen == {1: 25}


def test_reversal_larger_than_its_payment_names_both_ids():
    """Reversing more than was paid is an error naming the reversal and the payment."""
    with pytest.raises(ReversalTooLarge) as raised:
        allocate([OLD], [PaymentIn(11, 100), PaymentIn(12, -101, reverses=11)])
    assert (raised.value.reversal_id, raised.value.payment_id) == (12, 11)
    assert str(raised.value) == ("reversal 12 takes back 101 fen in all of payment 11, "
                                 "which paid only 100 fen")
    assert isinstance(raised.value, ValueError)


@pytest.mark.parametrize("rows", [
    [PaymentIn(1, 100), PaymentIn(5, -60, reverses=1), PaymentIn(3, -60, reverses=1)],
    [PaymentIn(5, -60, reverses=1), PaymentIn(3, -60, reverses=1), PaymentIn(1, 100)],
])
def test_reversals_too_large_together_fail_the_same_way_in_any_row_order(rows):
    """Reversals that only together exceed the payment are refused, naming the same one."""
    with pytest.raises(ReversalTooLarge) as raised:
        allocate([OLD], rows)
    assert raised.value.reversal_id == 5


@pytest.mark.parametrize("rows,why", [
    ([PaymentIn(1, 100), PaymentIn(2, -10, reverses=9)],
     "reversal 2 reverses payment 9, which is not among the payments before it"),
    ([PaymentIn(1, 100), PaymentIn(2, 10, reverses=1)], "reversal 2 must be a negative amount"),
    ([PaymentIn(1, 100), PaymentIn(2, 0, reverses=1)], "reversal 2 must be a negative amount"),
    ([PaymentIn(1, -50), PaymentIn(2, -10, reverses=1)],
     "reversal 2 reverses payment 1, which is itself a refund or reversal"),
    ([PaymentIn(1, 0), PaymentIn(2, -10, reverses=1)],
     "reversal 2 reverses payment 1, which is itself a refund or reversal"),
    ([PaymentIn(1, 100), PaymentIn(2, -10, reverses=1), PaymentIn(3, -5, reverses=2)],
     "reversal 3 reverses payment 2, which is itself a refund or reversal"),
    ([PaymentIn(1, 100), PaymentIn(1, 100), PaymentIn(2, -10, reverses=1)],
     "reversal 2 reverses payment id 1, which more than one payment has"),
])
def test_invalid_reversals_are_refused(rows, why):
    """A reversal must be negative (not zero) and reverse exactly one known positive
    payment; the refusal says which rule it broke."""
    with pytest.raises(InvalidReversal) as refused:
        allocate([OLD], rows)
    assert str(refused.value) == why


def test_refund_takes_back_credit_first():
    """A refund smaller than the credit leaves every bill paid."""
    result = allocate([OLD, MID], [PaymentIn(1, 250), PaymentIn(2, -40)])
    assert result.paid_fen == {1: 100, 2: 100} and result.credit_fen == 10


def test_refund_beyond_credit_reopens_the_newest_bill_first():
    """After the credit, a refund re-opens bills newest first, the reverse of paying."""
    result = allocate([MID, NEW, OLD], [PaymentIn(1, 320), PaymentIn(2, -170)])
    assert result.paid_fen == {1: 100, 2: 50, 3: 0} and result.credit_fen == 0


def test_refund_reopens_a_named_bill_when_it_is_the_newest():
    """Refunds follow due dates, not which payment paid the bill."""
    result = allocate([OLD, NEW], [PaymentIn(1, 100, bill_id=3), PaymentIn(2, 100),
                                   PaymentIn(3, -30)])
    assert result.paid_fen == {1: 100, 3: 70}


def test_refund_of_more_than_was_paid_is_refused():
    """Money never paid cannot be refunded: nothing may go negative."""
    with pytest.raises(RefundTooLarge, match="^refunds exceed the money paid by 1 fen$"):
        allocate([OLD], [PaymentIn(1, 100), PaymentIn(2, -101)])
    with pytest.raises(RefundTooLarge, match="^refunds exceed the money paid by 100 fen$"):
        allocate([], [PaymentIn(1, 100), PaymentIn(2, -200)])  # a unit with no bills


def test_refund_up_to_everything_paid_is_allowed():
    """Refunding every fen paid leaves the bills open and no credit."""
    result = allocate([OLD, MID], [PaymentIn(1, 150), PaymentIn(2, -100), PaymentIn(3, -50)])
    assert result.paid_fen == {1: 0, 2: 0} and result.credit_fen == 0


@dataclass(frozen=True)
class Row:
    id: int
    amount_fen: int
    reverses: int | None = None
    paid_on: date | None = None


def test_check_reversal_accepts_a_valid_reversal():
    """A negative row reversing what is left of a positive payment is accepted."""
    assert check_reversal(Row(2, -60, 1), Row(1, 100), already_reversed_fen=40) is None


@pytest.mark.parametrize("payment,target,already,words", [
    (Row(2, -60, 1), Row(1, 100), 41, "¥0.59"),
    (Row(2, -101, 1), Row(1, 100), 0, "¥1.00"),
    (Row(2, 60, 1), Row(1, 100), 0, "negative"),
    (Row(2, 0, 1), Row(1, 100), 0, "negative"),
    (Row(2, -60, 7), Row(1, 100), 0, "does not reverse"),
    (Row(2, -60, None), Row(1, 100), 0, "does not reverse"),
    (Row(2, -60, 1), Row(1, -100), 0, "cannot be reversed"),
    (Row(2, -60, 1), Row(1, 100, reverses=9), 0, "cannot be reversed"),
    (Row(2, -60, 1, D), Row(1, 100, paid_on=D + timedelta(days=1)), 0, "dated before"),
])
def test_check_reversal_says_what_is_wrong(payment, target, already, words):
    """Each kind of bad reversal gets its own message, for the import report and forms."""
    error = check_reversal(payment, target, already_reversed_fen=already)
    assert error is not None and words in error


def test_check_reversal_names_the_payment_and_amounts():
    """The too-large message names the reversed payment and both amounts in yuan."""
    error = check_reversal(Row(2, -12_000, 17), Row(17, 10_000), already_reversed_fen=0)
    assert "17" in error and "¥120.00" in error and "¥100.00" in error


bills_st = st.lists(st.builds(BillDue, id=st.integers(1, 40), amount_fen=st.integers(0, 50_000),
                              due_date=st.dates(date(2024, 1, 1), date(2027, 1, 1))),
                    max_size=8, unique_by=lambda b: b.id)


@st.composite
def with_negatives(draw):
    """Bills and valid payments: positives (named, unnamed, naming unknown bills),
    reversals of some of them, and refunds of at most what is left."""
    bills = draw(bills_st)
    targets = [b.id for b in bills] + [None, 999]
    positives = draw(st.lists(st.builds(PaymentIn, id=st.just(0),
                                        amount_fen=st.integers(0, 80_000),
                                        bill_id=st.sampled_from(targets)), max_size=8))
    rows, next_id, net = [], 1, 0
    for p in positives:
        rows.append(replace(p, id=next_id))
        target_id, left, next_id = next_id, p.amount_fen, next_id + 1
        for _ in range(draw(st.integers(0, 2)) if left else 0):
            taken = draw(st.integers(1, left)) if left else 0
            if not taken:
                break
            rows.append(PaymentIn(next_id, -taken, bill_id=draw(st.sampled_from(targets)),
                                  reverses=target_id))
            next_id, left = next_id + 1, left - taken
        net += left
    for _ in range(draw(st.integers(0, 3))):
        if net <= 0:
            break
        taken = draw(st.integers(1, net))
        rows.append(PaymentIn(next_id, -taken, bill_id=draw(st.sampled_from(targets))))
        next_id, net = next_id + 1, net - taken
    return bills, rows


@settings(max_examples=300, deadline=None)
@given(with_negatives(), st.randoms())
def test_allocation_invariants_with_reversals_and_refunds(data, rnd):
    """Nothing negative, never more paid than billed, paid + credit = the money kept,
    and the order of rows does not matter."""
    bills, rows = data
    result = allocate(bills, rows)
    assert all(v >= 0 for v in result.paid_fen.values()) and result.credit_fen >= 0
    assert all(result.paid_fen[b.id] <= max(b.amount_fen, 0) for b in bills)
    assert sum(result.paid_fen.values()) + result.credit_fen == sum(p.amount_fen for p in rows)
    if result.credit_fen:  # credit only when nothing is owed anywhere
        assert all(result.paid_fen[b.id] == max(b.amount_fen, 0) for b in bills)
    rows2, bills2 = list(rows), list(bills)
    rnd.shuffle(rows2)
    rnd.shuffle(bills2)
    assert allocate(bills2, rows2) == result


def _netted(rows: list[PaymentIn]) -> tuple[list[PaymentIn], int]:
    """Each payment less its reversals, and the refund total."""
    reversed_fen: dict[int, int] = {}
    for p in rows:
        if p.reverses is not None:
            reversed_fen[p.reverses] = reversed_fen.get(p.reverses, 0) - p.amount_fen
    kept = [replace(p, amount_fen=p.amount_fen - reversed_fen.get(p.id, 0))
            for p in rows if p.reverses is None and p.amount_fen >= 0]
    return kept, -sum(p.amount_fen for p in rows if p.reverses is None and p.amount_fen < 0)


@settings(max_examples=300, deadline=None)
@given(with_negatives())
def test_reversals_act_as_smaller_payments_and_refunds_reopen_newest_first(data):
    """A reversed payment counts as the smaller payment it became; refunds then take
    credit and, in a closed form of the rule, re-open bills from the newest down."""
    bills, rows = data
    kept, refund = _netted(rows)
    base = allocate(bills, kept)
    expected_credit = max(base.credit_fen - refund, 0)
    rest = max(refund - base.credit_fen, 0)
    expected, newer = {}, 0
    for b in reversed(bill_order(bills)):
        paid = base.paid_fen[b.id]
        expected[b.id] = paid - min(paid, max(rest - newer, 0))
        newer += paid
    result = allocate(bills, rows)
    assert result.paid_fen == expected and result.credit_fen == expected_credit


@settings(max_examples=200, deadline=None)
@given(with_negatives())
def test_without_named_payments_a_refund_is_a_smaller_pool(data):
    """With no named bills, refunding R of P paid allocates exactly as paying P - R."""
    bills, rows = data
    rows = [replace(p, bill_id=None) for p in rows]
    kept, refund = _netted(rows)
    net = sum(p.amount_fen for p in kept) - refund
    assert allocate(bills, rows) == allocate(bills, [PaymentIn(1, net)] if net else [])


@pytest.mark.parametrize("payment,target,already,message", [
    (Row(2, -60, 7), Row(1, 100), 0, "This row does not reverse payment 1."),
    (Row(2, 0, 1), Row(1, 100), 0, "A reversal takes money back: its amount must be negative."),
    (Row(2, -60, 1), Row(1, 0), 0,
     "Payment 1 is itself a refund or reversal and cannot be reversed."),
    (Row(2, -60, 1, D), Row(1, 100, paid_on=D + timedelta(days=1)), 0,
     "A reversal cannot be dated before the payment 1 it reverses."),
    (Row(2, -1, 1), Row(1, 100), 100,
     "Reversal of ¥0.01 is more than the ¥0.00 of payment 1 not yet reversed."),
    (Row(2, -1, 1), Row(1, 100), 150,  # over-reversed before: nothing left, not less
     "Reversal of ¥0.01 is more than the ¥0.00 of payment 1 not yet reversed."),
])
def test_check_reversal_messages_word_for_word(payment, target, already, message):
    """The import report shows these sentences as they are: each one exactly."""
    assert check_reversal(payment, target, already_reversed_fen=already) == message


@pytest.mark.parametrize("payment,target", [
    (Row(2, -1, 1), Row(1, 1)),  # the smallest payment can be reversed
    (Row(2, -60, 1, D), Row(1, 100, paid_on=D)),  # on the payment's own day
    (Row(2, -60, 1, D), Row(1, 100)),  # only one of them dated: nothing to compare
    (Row(2, -60, 1), Row(1, 100, paid_on=D)),
    (PaymentIn(2, -60, reverses=1), PaymentIn(1, 100)),  # rows with no date at all
])
def test_check_reversal_accepts_edge_cases(payment, target):
    """Valid reversals at the edges: one fen, the same day, undated rows."""
    assert check_reversal(payment, target, already_reversed_fen=0) is None
