"""Arrears, days overdue, aging bands and the dunning ladder as plain functions."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from fieldapp.domain.arrears import (
    DUPLICATE_KEY,
    FIRST_DAY,
    MILDER_STAGE,
    NO_BANDS,
    NOT_INCREASING,
    UNKNOWN_STAGE,
    Band,
    aging_band,
    band_problems,
    arrears_of,
    band_cutoffs,
    bands_from_policy,
    days_overdue,
    with_earliest_band,
)
from fieldapp.domain.stages import STAGES, next_step, stage_label, stage_rank
from fieldapp.models import DEFAULT_BANDS

from .conftest import has_chinese

D = date(2026, 11, 22)


@dataclass
class B:
    amount_fen: int
    paid_fen: int
    due_date: date


def test_arrears_add_up_every_overdue_bill_whatever_the_order():
    """Every unpaid overdue bill counts, even after a settled one in the list."""
    bills = [B(5_000, 5_000, D - timedelta(days=90)), B(10_000, 0, D - timedelta(days=40)),
             B(3_000, 1_000, D - timedelta(days=70)), B(4_000, 0, D + timedelta(days=9))]
    a = arrears_of(bills, D)
    assert (a.arrears_fen, a.unpaid_fen) == (12_000, 16_000)
    assert a.oldest_unpaid_due == D - timedelta(days=70)
    assert a.valid_until == D + timedelta(days=9)


def test_nothing_unpaid_means_no_dates():
    """A settled unit has no oldest due date and nothing to expire."""
    a = arrears_of([B(5_000, 5_000, D - timedelta(days=90))], D)
    assert (a.arrears_fen, a.unpaid_fen, a.oldest_unpaid_due, a.valid_until) == (0, 0, None, None)
    assert a.days_overdue(D) == 0


def test_days_overdue_counts_from_the_day_after_the_due_date():
    """Due yesterday is one day overdue; due today or later is not overdue."""
    assert [days_overdue(D - timedelta(days=n), D) for n in (-3, 0, 1, 45)] == [0, 0, 1, 45]


def test_not_overdue_is_no_band():
    """Zero days overdue has no band at all (not an empty one)."""
    assert aging_band(0, bands_from_policy(DEFAULT_BANDS)) is None


def test_a_band_without_a_stage_is_its_own_stage():
    """Policy bands name their dunning stage; a band that does not is read as its key."""
    bands = bands_from_policy([{"key": "visit", "min_days": 1},
                               {"key": "late", "min_days": 60, "stage": "legal"}])
    assert [(b.key, b.min_days, b.stage) for b in bands] == [("visit", 1, "visit"),
                                                             ("late", 60, "legal")]


@pytest.mark.parametrize("raw,words", [
    ([{"key": "a", "min_days": 0}], "aging bands: first_day (band 1)"),
    ([], "aging bands: no_bands (band 0)"),
    ([{"key": "a", "min_days": 1}, {"key": "a", "min_days": 5}],
     "aging bands: duplicate_key (band 2)"),
    ([{"key": "a", "min_days": 1}, {"key": "b", "min_days": 1}],
     "aging bands: not_increasing (band 2)"),
])
def test_bad_bands_are_refused_saying_why(raw, words):
    """An administrator's bad policy is refused naming the problem and the band."""
    with pytest.raises(ValueError) as refused:
        bands_from_policy(raw)
    assert str(refused.value) == words


@pytest.mark.parametrize("days", [1, 15, 16, 30, 31, 60, 61, 180, 181, 3000])
def test_band_cutoffs_agree_with_aging_band(days):
    """The first cutoff (most severe first) that the oldest due date reaches is the band
    `aging_band` gives for the same days overdue."""
    bands = bands_from_policy(DEFAULT_BANDS)
    oldest_due = D - timedelta(days=days)
    first = next(b for b, cutoff in band_cutoffs(bands, D) if oldest_due <= cutoff)
    assert first == aging_band(days, bands)


def test_stages_rank_by_severity_and_unknown_stages_rank_mildest():
    """The ladder's order is its severity; a stage the ladder does not know is mildest."""
    assert [stage_rank(s) for s in STAGES] == sorted(stage_rank(s) for s in STAGES)
    assert len({stage_rank(s) for s in STAGES}) == len(STAGES)
    assert stage_rank("sms_blast") == stage_rank(STAGES[0]) < stage_rank(STAGES[1])


def test_each_stage_has_its_words_and_its_next_step(zh):
    """Every stage has a label and advice in the user's language, each its own."""
    labels = [str(stage_label(s)) for s in STAGES]
    steps = [str(next_step(s)) for s in STAGES]
    assert all(has_chinese(t) for t in labels + steps)
    assert len(set(labels)) == len(set(steps)) == len(STAGES)


def test_an_unknown_stage_shows_its_name_and_no_advice():
    """A stage added in a policy but not yet in the ladder shows as is, with no advice."""
    assert stage_label("sms_blast") == "sms_blast"
    assert next_step("sms_blast") == ""


def test_bands_from_day_one_are_kept_whatever_their_first_stage():
    """A community whose first band starts on day 1 covers every day already."""
    bands = [Band("knock", 1, "visit"), Band("court", 90, "legal")]
    assert with_earliest_band(bands) == bands


def test_a_first_band_from_day_two_leaves_no_day_uncovered():
    """Day 1 gets the earliest stage: the first band is brought down when it is that
    stage, a band of it is put in front otherwise."""
    assert with_earliest_band([Band("soft", 2, "reminder"), Band("knock", 30, "visit")]) == \
        [Band("soft", 1, "reminder"), Band("knock", 30, "visit")]
    assert with_earliest_band([Band("call", 2, "contact")]) == \
        [Band("reminder", 1, "reminder"), Band("call", 2, "contact")]
    taken = with_earliest_band([Band("reminder", 10, "contact")])
    assert taken == [Band("reminder-early", 1, "reminder"), Band("reminder", 10, "contact")]


def test_band_problems_name_the_field_to_show_them_at():
    """The policy form puts each problem next to its field: no bands and a first band
    before day 1 are problems of the days."""
    assert band_problems([]) == [(-1, "days", NO_BANDS)]
    assert band_problems([Band("a", 0, "reminder"), Band("b", 0, "visit")]) == \
        [(0, "days", FIRST_DAY), (1, "days", NOT_INCREASING)]
    assert band_problems([Band("a", 1, "visit"), Band("a", 10, "bogus"),
                          Band("c", 20, "reminder")]) == \
        [(1, "key", DUPLICATE_KEY), (1, "stage", UNKNOWN_STAGE)]  # after an unknown: no order
    assert band_problems([Band("a", 1, "visit"), Band("b", 10, "reminder")]) == \
        [(1, "stage", MILDER_STAGE)]
    assert band_problems([Band("a", 1, "reminder"), Band("b", 10, "visit")]) == []
    assert band_problems([Band("a", 1, "visit"), Band("b", 10, "visit")]) == []  # one stage


def test_a_summary_is_valid_until_the_earliest_bill_still_to_fall_due():
    """Whatever the order of the bills, the summary changes when the first of the
    bills not yet due falls due."""
    today = date(2026, 11, 22)
    soon, later = today + timedelta(days=3), today + timedelta(days=40)
    for order in ((soon, later), (later, soon)):
        bills = [B(10_000, 0, due) for due in order] + [B(5_000, 0, today - timedelta(1))]
        result = arrears_of(bills, today)
        assert (result.valid_until, result.arrears_fen, result.unpaid_fen) == \
            (soon, 5_000, 25_000)
