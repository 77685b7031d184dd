"""The limitation clock as a plain function, on crafted histories."""
from __future__ import annotations

from datetime import date, timedelta

from fieldapp.domain.limitation import (
    Demand,
    add_years,
    earliest_end,
    ends_soon,
    latest_due_at_risk,
    limitation_ends,
)


def test_without_any_demand_a_bill_ends_three_years_after_its_due_date():
    """No demand: due date plus three years."""
    assert limitation_ends([(1, date(2023, 3, 15))], []) == {1: date(2026, 3, 15)}


def test_a_bill_due_on_a_leap_day_ends_on_28_february():
    """29 February plus three years is 28 February."""
    assert add_years(date(2024, 2, 29)) == date(2027, 2, 28)
    assert limitation_ends([(1, date(2024, 2, 29))], []) == {1: date(2027, 2, 28)}


def test_a_delivered_notice_with_a_photo_restarts_every_bill_already_due():
    """A proven notice restarts the clock of each bill due on or before its day."""
    bills = [(1, date(2023, 1, 1)), (2, date(2024, 6, 1)), (3, date(2025, 1, 1))]
    ends = limitation_ends(bills, [Demand(date(2024, 6, 1), "notice", proven=True)])
    assert ends == {1: date(2027, 6, 1), 2: date(2027, 6, 1), 3: date(2028, 1, 1)}


def test_a_notice_without_proof_of_delivery_restarts_nothing():
    """No photo, no evidence: the clock runs on."""
    ends = limitation_ends([(1, date(2023, 1, 1))],
                           [Demand(date(2024, 6, 1), "notice", proven=False)])
    assert ends == {1: date(2026, 1, 1)}


def test_a_promise_and_a_partial_payment_restart_the_clock_the_latest_wins():
    """Promises and partial payments acknowledge the debt; the last one counts."""
    demands = [Demand(date(2023, 5, 2), "promise"), Demand(date(2024, 8, 9), "payment"),
               Demand(date(2023, 9, 1), "acknowledgement")]
    assert limitation_ends([(7, date(2023, 1, 1))], demands) == {7: date(2027, 8, 9)}


def test_a_demand_before_a_bill_fell_due_does_not_touch_it():
    """A bill not yet due when it was demanded keeps its own start."""
    ends = limitation_ends([(1, date(2025, 3, 1))], [Demand(date(2025, 2, 28), "promise")])
    assert ends == {1: date(2028, 3, 1)}


def test_unknown_kinds_of_event_restart_nothing():
    """Only the documented kinds count."""
    assert limitation_ends([(1, date(2023, 1, 1))], [Demand(date(2024, 1, 1), "phone_call")]) \
        == {1: date(2026, 1, 1)}


def test_the_earliest_end_and_the_warning_window():
    """The card shows the first end; within 90 days (or past) it warns."""
    bills = [(1, date(2023, 12, 20)), (2, date(2024, 1, 20))]
    end = earliest_end(bills, [])
    assert end == date(2026, 12, 20)
    assert ends_soon(end, date(2026, 11, 22)) and ends_soon(end, date(2027, 1, 1))
    assert not ends_soon(end, date(2026, 9, 20))
    assert earliest_end([], []) is None and not ends_soon(None, date(2026, 1, 1))


def test_the_prefilter_keeps_every_bill_that_can_end_within_the_window():
    """Every due date whose three years end within 90 days passes the prefilter."""
    today = date(2026, 12, 1)
    for offset in range(-40, 1200):
        due = date(2023, 1, 1) + timedelta(days=offset)
        if add_years(due) <= today + timedelta(days=90):
            assert due <= latest_due_at_risk(today), due
