"""Domain rules as plain functions: allocation, arrears, bands, late fees, money."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldapp.domain.allocation import BillDue, PaymentIn, allocate
from fieldapp.domain.arrears import (
    Band,
    aging_band,
    arrears_of,
    band_cutoffs,
    bands_from_policy,
    days_overdue,
    overdue_band,
    with_earliest_band,
)
from fieldapp.domain.money import format_yuan, mask_phone, parse_yuan
from fieldapp.domain.stages import STAGES, severity_order, severity_rank
from fieldapp.models import DEFAULT_BANDS

D = date(2026, 11, 22)


@dataclass
class B:
    amount_fen: int
    paid_fen: int
    due_date: date


def test_unnamed_payment_pays_oldest_bill_first():
    """A payment that names no bill settles the oldest due date first."""
    bills = [BillDue(2, 100, D), BillDue(1, 100, D - timedelta(days=30))]
    result = allocate(bills, [PaymentIn(1, 150)])
    assert result.paid_fen == {1: 100, 2: 50}
    assert result.credit_fen == 0


def test_named_payment_pays_its_bill_first_and_rest_flows_oldest_first():
    """A payment naming a bill pays it first; any excess pays the oldest others."""
    bills = [BillDue(1, 100, D - timedelta(days=60)), BillDue(2, 100, D - timedelta(days=30)),
             BillDue(3, 100, D)]
    result = allocate(bills, [PaymentIn(1, 130, bill_id=3)])
    assert result.paid_fen == {1: 30, 2: 0, 3: 100}


def test_overpayment_becomes_credit():
    """Money beyond every bill is kept as credit, not lost or allocated twice."""
    result = allocate([BillDue(1, 100, D)], [PaymentIn(1, 250)])
    assert result.paid_fen == {1: 100}
    assert result.credit_fen == 150


def test_payment_naming_unknown_bill_goes_to_the_pool():
    """A bill id from another unit or a typo does not swallow the money."""
    result = allocate([BillDue(1, 100, D)], [PaymentIn(1, 60, bill_id=999)])
    assert result.paid_fen == {1: 60}


bills_st = st.lists(st.builds(BillDue, id=st.integers(1, 10_000),
                              amount_fen=st.integers(0, 500_000),
                              due_date=st.dates(date(2024, 1, 1), date(2027, 1, 1))),
                    max_size=15, unique_by=lambda b: b.id)


@st.composite
def bills_and_payments(draw):
    bills = draw(bills_st)
    ids = [b.id for b in bills] + [None]
    payments = draw(st.lists(st.builds(PaymentIn, id=st.integers(1, 10_000),
                                       amount_fen=st.integers(1, 800_000),
                                       bill_id=st.sampled_from(ids)), max_size=12))
    return bills, payments


@settings(max_examples=300, deadline=None)
@given(bills_and_payments(), st.randoms())
def test_allocation_invariants(data, rnd):
    """Allocated never exceeds paid or billed, nothing is negative, and the order of
    payment rows does not change the result."""
    bills, payments = data
    result = allocate(bills, payments)
    paid_total = sum(p.amount_fen for p in payments)
    assert all(v >= 0 for v in result.paid_fen.values()) and result.credit_fen >= 0
    for b in bills:
        assert result.paid_fen[b.id] <= b.amount_fen
    assert sum(result.paid_fen.values()) <= paid_total
    assert sum(result.paid_fen.values()) + result.credit_fen == paid_total
    shuffled = list(payments)
    rnd.shuffle(shuffled)
    shuffled_bills = list(bills)
    rnd.shuffle(shuffled_bills)
    assert allocate(shuffled_bills, shuffled) == result


def test_arrears_counts_only_bills_past_due():
    """Arrears are the unpaid part of bills past due; a bill due today is not yet late."""
    a = arrears_of([B(10_000, 2_500, D - timedelta(days=40)), B(10_000, 0, D),
                    B(5_000, 5_000, D - timedelta(days=100))], D)
    assert a.arrears_fen == 7_500
    assert a.unpaid_fen == 17_500
    assert a.oldest_unpaid_due == D - timedelta(days=40)
    assert a.valid_until == D
    assert a.days_overdue(D) == 40


def test_days_overdue_is_zero_without_arrears():
    assert days_overdue(None, D) == 0
    assert days_overdue(D, D) == 0
    assert days_overdue(D - timedelta(days=1), D) == 1


@pytest.mark.parametrize("days,key", [(0, None), (1, "reminder"), (15, "reminder"),
                                      (16, "contact"), (30, "contact"), (31, "visit"),
                                      (60, "visit"), (61, "demand"), (180, "demand"),
                                      (181, "legal"), (2000, "legal")])
def test_default_bands(days, key):
    """The default bands match DESIGN.md: 1-15, 16-30, 31-60, 61-180, 181+."""
    band = aging_band(days, bands_from_policy(DEFAULT_BANDS))
    assert (band.key if band else None) == key


def test_bands_are_data():
    """A community with 30/90/180 bands gets its own bands, in any order given."""
    bands = bands_from_policy([{"key": "d180", "min_days": 181, "stage": "legal"},
                               {"key": "d30", "min_days": 1, "stage": "reminder"},
                               {"key": "d90", "min_days": 31, "stage": "visit"},
                               {"key": "d91", "min_days": 91, "stage": "demand"}])
    assert aging_band(30, bands).key == "d30"
    assert aging_band(90, bands).key == "d90"
    assert aging_band(91, bands).key == "d91"
    assert aging_band(400, bands).key == "d180"


LATE_START = [{"key": "d30", "min_days": 30, "stage": "contact"},
              {"key": "d90", "min_days": 90, "stage": "visit"},
              {"key": "d180", "min_days": 180, "stage": "demand"}]


@pytest.mark.parametrize("days,key,stage", [(0, None, None), (1, "reminder", "reminder"),
                                            (10, "reminder", "reminder"),
                                            (29, "reminder", "reminder"), (30, "d30", "contact"),
                                            (90, "d90", "visit"), (400, "d180", "demand")])
def test_overdue_below_the_first_band_is_at_the_earliest_stage(days, key, stage):
    """First band at 30 days: a unit 10 days overdue gets the reminder stage, not none."""
    band = overdue_band(days, bands_from_policy(LATE_START))
    assert (band.key if band else None, band.stage if band else None) == (key, stage)
    assert aging_band(10, bands_from_policy(LATE_START)) is None  # the strict lookup stays


def test_first_band_of_the_earliest_stage_reaches_down_to_day_one():
    """A first band that already is the reminder stage takes in the days before it."""
    bands = bands_from_policy([{"key": "r", "min_days": 30, "stage": "reminder"},
                               {"key": "v", "min_days": 90, "stage": "visit"}])
    assert with_earliest_band(bands) == [Band("r", 1, "reminder"), Band("v", 90, "visit")]
    assert overdue_band(5, bands) == Band("r", 1, "reminder")


def test_bands_from_day_one_are_left_as_they_are():
    """The default bands already start at 1 day: nothing is added."""
    bands = bands_from_policy(DEFAULT_BANDS)
    assert with_earliest_band(bands) == bands
    assert overdue_band(5, bands) == aging_band(5, bands)


def test_earliest_band_key_never_collides():
    """If a later band is already keyed 'reminder', the added band gets a key of its own."""
    bands = bands_from_policy([{"key": "reminder", "min_days": 30, "stage": "visit"}])
    added = with_earliest_band(bands)[0]
    assert added.stage == "reminder" and added.key not in {b.key for b in bands}
    assert len({b.key for b in with_earliest_band(bands)}) == 2


def test_earliest_band_cutoff_covers_one_day_overdue():
    """For SQL: the extended bands' cutoffs put a unit 1 day overdue in the reminder band."""
    cutoffs = band_cutoffs(with_earliest_band(bands_from_policy(LATE_START)), D)
    band, cutoff = cutoffs[-1]
    assert band.stage == "reminder" and cutoff == D - timedelta(days=1)


def test_severity_rank_follows_the_ladder():
    """Ranks rise with the ladder; no stage is lowest; unknown stages sort as the mildest."""
    assert [severity_rank(s) for s in STAGES] == [1, 2, 3, 4, 5]
    assert severity_rank(None) == 0 and severity_rank("nonsense") == severity_rank("reminder")


def test_units_of_communities_with_different_bands_sort_by_stage_then_arrears():
    """A door visit at 40 days (bands 1/16/31...) and one at 100 days (bands 30/90/180)
    rank as equals and sort by arrears, whatever the day thresholds."""
    default, late = bands_from_policy(DEFAULT_BANDS), bands_from_policy(LATE_START)
    units = [  # (unit id, days overdue, arrears, bands)
        (1, 40, 50_000, default), (2, 100, 30_000, late), (3, 10, 900_000, late),
        (4, 200, 10_000, default), (5, 100, 80_000, late), (6, 12, 1_000, default)]
    ordered = sorted(units, key=lambda u: severity_order(overdue_band(u[1], u[3]).stage,
                                                         u[2], u[0]))
    assert [u[0] for u in ordered] == [4, 5, 1, 2, 3, 6]


@pytest.mark.parametrize("raw", [[], [{"key": "a", "min_days": 0}],
                                 [{"key": "a", "min_days": 1}, {"key": "a", "min_days": 5}]])
def test_invalid_bands_are_refused(raw):
    with pytest.raises(ValueError):
        bands_from_policy(raw)


@pytest.mark.parametrize("text,fen", [("12", 1200), ("12.5", 1250), ("0.01", 1),
                                      ("1,234.56", 123456), ("¥8", 800)])
def test_parse_yuan(text, fen):
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("text", ["", "abc", "1.234", "NaN", "1e3x"])
def test_parse_yuan_refuses_bad_amounts(text):
    with pytest.raises(ValueError):
        parse_yuan(text)


def test_format_and_mask():
    assert format_yuan(123456789) == "1,234,567.89"
    assert format_yuan(5) == "0.05"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("8765") == "**65"


def test_random_allocation_matches_brute_force():
    """Cross-check against a step-by-step simulation of oldest-first payment."""
    rnd = random.Random(7)
    for _ in range(200):
        bills = [BillDue(i, rnd.randint(0, 1000), D - timedelta(days=rnd.randint(0, 400)))
                 for i in range(rnd.randint(0, 8))]
        pool = rnd.randint(0, 6000)
        result = allocate(bills, [PaymentIn(1, pool)] if pool else [])
        left = pool
        for b in sorted(bills, key=lambda b: (b.due_date, b.id)):
            take = min(left, b.amount_fen)
            assert result.paid_fen[b.id] == take
            left -= take
