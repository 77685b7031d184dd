"""Promise status as a plain function of payments as of a date, plan status, the
shown promise, installment rows; and the wiring that keeps them current."""
from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from fieldapp.domain.promises import (
    BEHIND,
    BROKEN,
    COMPLETED,
    KEPT,
    ON_TRACK,
    OPEN,
    MoneyIn,
    PromiseIn,
    check_installments,
    monthly_dates,
    net_receipts,
    plan_status,
    resolve_promises,
    split_evenly,
    summarise,
)
from fieldapp.domain.summary import refresh_due_promises
from fieldapp.extensions import db
from fieldapp.models import Promise, Role, Unit

from .factories import TODAY, make_bill, make_building, make_payment, make_unit, make_user

D = date(2026, 11, 1)


def day(n: int) -> date:
    return D + timedelta(days=n)


def resolve(promises, money, as_of, grace=0):
    return {k: (r.status, r.resolved_on) for k, r in
            resolve_promises(promises, money, as_of, grace).items()}


def test_a_promise_covered_by_its_date_is_kept_on_the_day_it_was_covered():
    p = PromiseIn(1, day(0), day(10), 50_000)
    money = [MoneyIn(1, day(3), 20_000), MoneyIn(2, day(9), 30_000)]
    assert resolve([p], money, day(20)) == {1: (KEPT, day(9))}


def test_a_promise_stays_open_until_its_last_day_then_breaks():
    p = PromiseIn(1, day(0), day(10), 50_000)
    money = [MoneyIn(1, day(3), 20_000)]
    assert resolve([p], money, day(10)) == {1: (OPEN, None)}
    assert resolve([p], money, day(11)) == {1: (BROKEN, day(11))}


def test_the_grace_days_count_and_a_later_payment_does_not():
    p = PromiseIn(1, day(0), day(10), 50_000)
    assert resolve([p], [MoneyIn(1, day(13), 50_000)], day(30), grace=3)[1] == (KEPT, day(13))
    assert resolve([p], [MoneyIn(1, day(14), 50_000)], day(30), grace=3)[1] == \
        (BROKEN, day(14))


def test_payments_made_before_the_promise_do_not_count_towards_it():
    p = PromiseIn(1, day(5), day(10), 50_000)
    assert resolve([p], [MoneyIn(1, day(4), 50_000)], day(11))[1][0] == BROKEN


def test_one_payment_counts_once_earliest_promise_first():
    first, second = PromiseIn(1, day(0), day(10), 30_000), PromiseIn(2, day(0), day(20), 30_000)
    got = resolve([second, first], [MoneyIn(1, day(5), 40_000)], day(21))
    assert got == {1: (KEPT, day(5)), 2: (BROKEN, day(21))}
    got = resolve([first, second], [MoneyIn(1, day(5), 60_000)], day(21))
    assert got == {1: (KEPT, day(5)), 2: (KEPT, day(5))}


def test_a_reversed_payment_keeps_nothing():
    p = PromiseIn(1, day(0), day(10), 50_000)
    money = [MoneyIn(1, day(3), 50_000), MoneyIn(2, day(12), -50_000, reverses=1)]
    assert resolve([p], money, day(20))[1][0] == BROKEN
    money = [MoneyIn(1, day(3), 50_000), MoneyIn(2, day(12), -20_000, reverses=1)]
    assert resolve([p], money, day(20))[1][0] == BROKEN  # 30,000 of 50,000 stayed


def test_a_refund_takes_back_the_latest_receipts_first():
    money = [MoneyIn(1, day(1), 10_000), MoneyIn(2, day(2), 5_000), MoneyIn(3, day(3), -7_000)]
    assert net_receipts(money) == [(day(1), 8_000)]


amounts = st.integers(min_value=1, max_value=200_000)
promise_lists = st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40), amounts),
                         min_size=1, max_size=6)
money_lists = st.lists(st.tuples(st.integers(0, 60), amounts), max_size=8)


@settings(max_examples=300, deadline=None)
@given(promise_lists, money_lists, st.integers(0, 70), st.integers(0, 5))
def test_resolution_invariants(raw_promises, raw_money, as_of_day, grace):
    """Kept ones are covered in full by money inside their window, the money counted
    never exceeds what was received, broken ones are past their last day, open ones
    are not, and adding money never breaks a kept promise."""
    promises = [PromiseIn(i, day(min(a, b)), day(max(a, b)), amount)
                for i, (a, b, amount) in enumerate(raw_promises)]
    money = [MoneyIn(i, day(d), amount) for i, (d, amount) in enumerate(raw_money)]
    as_of = day(as_of_day)
    result = resolve_promises(promises, money, as_of, grace)
    received = sum(m.amount_fen for m in money if m.paid_on <= as_of)
    assert sum(r.covered_fen for r in result.values()) <= received
    for p in promises:
        r, last = result[p.id], p.due_date + timedelta(days=grace)
        window = sum(m.amount_fen for m in money if p.made_on <= m.paid_on <= min(last, as_of))
        if r.status == KEPT:
            assert r.covered_fen == p.amount_fen <= window
            assert p.made_on <= r.resolved_on <= min(last, as_of)
        elif r.status == BROKEN:
            assert as_of > last and r.covered_fen < p.amount_fen
        else:
            assert as_of <= last and r.covered_fen < p.amount_fen
    more = money + [MoneyIn(999, day(0), 1_000_000)]
    again = resolve_promises(promises, more, as_of, grace)
    assert all(again[k].status == KEPT for k, r in result.items() if r.status == KEPT)


@pytest.mark.parametrize("statuses,expected", [
    ([OPEN, OPEN], ON_TRACK), ([KEPT, OPEN], ON_TRACK), ([KEPT, BROKEN, OPEN], BEHIND),
    ([KEPT, KEPT], COMPLETED), ([], ON_TRACK)])
def test_plan_status(statuses, expected):
    assert plan_status(statuses) == expected


def test_the_shown_promise_is_the_earliest_open_one_else_the_last_resolved():
    old = PromiseIn(1, day(0), day(9), 100)
    new = PromiseIn(2, day(10), day(34), 100)
    resolutions = resolve_promises([old, new], [MoneyIn(1, day(8), 100)], day(20), 0)
    shown = summarise([old, new], resolutions, day(20))
    assert (shown.date, shown.status) == (day(34), OPEN)
    resolutions = resolve_promises([old, new], [MoneyIn(1, day(8), 100)], day(40), 0)
    shown = summarise([old, new], resolutions, day(40))
    assert (shown.date, shown.status, shown.broken_in_row) == (day(34), BROKEN, 1)
    shown = summarise([old, new], resolutions, day(200))
    assert (shown.date, shown.status) == (None, None)


def test_broken_promises_in_a_row_count_back_from_the_latest():
    ps = [PromiseIn(i, day(0), day(i * 10), 100) for i in range(1, 4)]
    resolutions = resolve_promises(ps, [MoneyIn(1, day(5), 100)], day(60), 0)
    assert summarise(ps, resolutions, day(60)).broken_in_row == 2


def test_installments_split_to_whole_yuan_and_add_up():
    assert split_evenly(100_000, 3) == [33_300, 33_300, 33_400]
    assert split_evenly(250, 3) == [83, 83, 84]
    assert monthly_dates(date(2026, 1, 31), 3) == [date(2026, 1, 31), date(2026, 2, 28),
                                                    date(2026, 3, 31)]
    assert monthly_dates(date(2026, 1, 1), 2, every_days=14) == [date(2026, 1, 1),
                                                                  date(2026, 1, 15)]


@pytest.mark.parametrize("rows,key", [
    ([], "plan"),
    ([("2026-12-01", "500"), ("2026-12-01", "500")], "date-2"),
    ([("2026-12-10", "500"), ("2026-12-01", "500")], "date-2"),
    ([("2026-11-22", "500"), ("2026-12-22", "500")], "date-1"),
    ([("2026-12-01", "500.001"), ("2026-12-22", "500")], "amount-1"),
    ([("2026-12-01", "-500"), ("2026-12-22", "1500")], "amount-1"),
    ([("2026-12-01", "400"), ("2026-12-22", "500")], "plan"),
    ([("2026-12-01", "1e3")], "amount-1"),
    ([("someday", "1000")], "date-1"),
    ([(f"2027-{m:02d}-01", "100") for m in range(1, 11)], "plan"),
])
def test_bad_installment_rows_are_refused_with_the_field_named(rows, key):
    found, errors = check_installments(rows, total_fen=100_000, today=TODAY, max_count=4)
    assert key in errors and found == []


def test_good_installment_rows_pass():
    found, errors = check_installments([("2026-12-01", "600"), ("2027-01-01", "400.00")],
                                       total_fen=100_000, today=TODAY, max_count=4)
    assert errors == {} and [i.amount_fen for i in found] == [60_000, 40_000]


@pytest.fixture
def door(app):
    building = make_building()
    unit = make_unit(building)
    make_bill(unit, 100_000, TODAY - timedelta(days=60))
    return make_user(Role.HOUSEKEEPER, buildings=[building]), unit


def promise_visit(client, unit_id, on: str, amount: str):
    return client.post(f"/units/{unit_id}/visits", headers={"Accept": "application/json"},
                       data={"client_uuid": str(uuid.uuid4()), "outcome": "promised",
                             "reason": "hardship", "promise_date": on, "promise_amount": amount})


def test_a_kept_promise_gives_way_to_the_next_one_on_the_row(app, client, login_as, door):
    """11-10 promise paid on time, then a new one for 12-05: the row shows 12-05 open."""
    hk, unit = door
    login_as(hk)
    assert promise_visit(client, unit.id, "2026-11-25", "300").status_code == 201
    make_payment(unit, 30_000, TODAY)
    row = db.session.get(Unit, unit.id)
    assert (row.promise_status, row.next_promise_date) == ("kept", date(2026, 11, 25))
    assert promise_visit(client, unit.id, "2026-12-05", "700").status_code == 201
    db.session.expire_all()
    row = db.session.get(Unit, unit.id)
    assert (row.promise_status, row.next_promise_date) == ("open", date(2026, 12, 5))
    html = client.get("/route").get_data(as_text=True)
    assert 'data-promise="open"' in html and 'data-promise-date="2026-12-05"' in html


def test_an_unkept_promise_breaks_when_the_nightly_job_passes_its_day(app, client, login_as,
                                                                      door):
    hk, unit = door
    login_as(hk)
    promise_visit(client, unit.id, "2026-11-25", "300")
    assert refresh_due_promises(db.session, date(2026, 11, 28)) == 1
    db.session.commit()
    promise = db.session.scalar(select(Promise))
    assert promise.status.value == "open"  # within the 3 days of grace
    refresh_due_promises(db.session, date(2026, 11, 29))
    db.session.commit()
    db.session.expire_all()
    assert db.session.scalar(select(Promise)).status.value == "broken"
    row = db.session.get(Unit, unit.id)
    assert (row.promise_status, row.broken_promises_in_row) == ("broken", 1)


@pytest.mark.parametrize("stage,status,steps,expected", [
    ("visit", "broken", 1, "demand"), ("visit", "open", 1, "visit"), ("visit", None, 2, "visit"),
    ("demand", "broken", 2, "legal"), ("legal", "broken", 1, "legal"),
    ("reminder", "broken", 0, "reminder"), ("contact", "kept", 1, "contact"),
])
def test_a_broken_promise_raises_the_next_step(stage, status, steps, expected):
    from fieldapp.domain.stages import next_stage
    assert next_stage(stage, status, steps) == expected


def test_the_card_says_when_a_broken_promise_raised_the_next_step(client, login_as, door):
    hk, unit = door  # 60 days overdue: "door visit"
    hk.locale = "en"
    db.session.commit()
    login_as(hk)
    db.session.add(Promise(unit_id=unit.id, made_on=TODAY - timedelta(days=20),
                           due_date=TODAY - timedelta(days=10), amount_fen=100))
    db.session.flush()
    from fieldapp.domain.summary import refresh_unit
    refresh_unit(db.session, unit.id, TODAY)
    db.session.commit()
    html = client.get(f"/units/{unit.id}").get_data(as_text=True)
    assert "Deliver a formal demand letter" in html and "the last promise was broken" in html


def said(message) -> tuple[str, dict]:
    """A lazy message as written in the code: its English text and its figures."""
    return message._args[0], message._kwargs


@pytest.mark.parametrize("total,count,shares", [
    (500, 1, [500]), (3, 3, [1, 1, 1]), (300, 3, [100, 100, 100]), (299, 3, [99, 99, 101]),
    (30_050, 3, [10_000, 10_000, 10_050]),
])
def test_split_evenly_at_its_edges(total, count, shares):
    """One installment takes it all; a fen each is enough; from ¥1 a share the shares
    are whole yuan and the last evens up."""
    assert split_evenly(total, count) == shares


@pytest.mark.parametrize("total,count", [(2, 3), (100, 0), (100, -1)])
def test_split_evenly_refuses_less_than_a_fen_each(total, count):
    """Fewer fen than installments, or no installments, cannot be split."""
    with pytest.raises(ValueError, match="^need at least one fen per installment$"):
        split_evenly(total, count)


def test_monthly_dates_cross_the_year_and_clamp_to_the_month():
    """December runs into January of the next year; the 31st becomes the month's end."""
    assert monthly_dates(date(2026, 11, 30), 4) == [
        date(2026, 11, 30), date(2026, 12, 30), date(2027, 1, 30), date(2027, 2, 28)]
    assert monthly_dates(date(2026, 12, 31), 3) == [
        date(2026, 12, 31), date(2027, 1, 31), date(2027, 2, 28)]


def installments(*rows, total=30_000, max_count=3):
    return check_installments(list(rows), total_fen=total, today=TODAY, max_count=max_count)


def test_installment_messages_word_for_word():
    """Each refusal names its row and says exactly what is wrong."""
    day = lambda n: (TODAY + timedelta(days=n)).isoformat()  # noqa: E731
    assert [said(m) for m in installments(("", ""))[1].values()] == [
        ("Add at least one installment.", {})]
    found, errors = installments(("soon", "1"), (day(0), "x"), (day(5), "0"), (day(4), "-1"),
                                 max_count=4)
    assert found == [] and {k: said(v) for k, v in errors.items()} == {
        "date-1": ("Enter a date like 2026-12-01.", {}),
        "amount-2": ("Enter an amount in yuan, like 1280 or 1280.50.", {}),
        "date-2": ("The date must be in the future.", {}),
        "amount-3": ("The amount must be more than zero.", {}),
        "date-4": ("Each installment must fall after the one before.", {}),
        "amount-4": ("Enter an amount in yuan, like 1280 or 1280.50.", {})}
    errors = installments((day(1), "100"), (day(2), "100"), (day(3), "100"), (day(4), "100"))[1]
    assert said(errors["plan"]) == ("At most %(n)s installments.", {"n": 3})
    errors = installments((day(1), "99999999999"))[1]
    assert said(errors["amount-1"]) == ("More than the arrears.", {})
    errors = installments((day(1), "100"), (day(2), "100"))[1]
    assert said(errors["plan"]) == ("The installments add up to ¥%(sum)s, not ¥%(total)s.",
                                    {"sum": "200.00", "total": "300.00"})


def test_installments_up_to_the_limit_and_half_typed_rows():
    """Exactly the most installments allowed is fine; a row with only a date or only an
    amount is a row to fix, not one to drop; a one-fen installment is an amount."""
    day = lambda n: (TODAY + timedelta(days=n)).isoformat()  # noqa: E731
    found, errors = installments((day(1), "100"), (day(2), "100"), (day(3), "100"))
    assert errors == {} and [i.amount_fen for i in found] == [10_000] * 3
    found, errors = installments((day(1), "299.99"), (day(2), "0.01"))
    assert errors == {} and [i.amount_fen for i in found] == [29_999, 1]
    found, errors = installments((day(1), "300"), (day(2), ""))
    assert found == [] and set(errors) == {"amount-2"}


def test_installments_keep_their_dates():
    """What comes back is each row's date with its amount, in order."""
    day = lambda n: TODAY + timedelta(days=n)  # noqa: E731
    found, errors = installments((day(1).isoformat(), "100"), (day(9).isoformat(), "200"))
    assert errors == {} and [(i.due_date, i.amount_fen) for i in found] == \
        [(day(1), 10_000), (day(9), 20_000)]


N1 = date(2026, 11, 1)


def test_a_receipt_skips_a_promise_it_cannot_count_for_and_pays_the_next():
    """Money paid after an early promise's last day goes on to a later promise."""
    early = PromiseIn(1, N1, date(2026, 11, 5), 500)
    later = PromiseIn(2, N1, date(2026, 11, 30), 500)
    got = resolve_promises([early, later], [MoneyIn(1, date(2026, 11, 10), 500)],
                           date(2026, 11, 12), grace_days=0)
    assert (got[1].status, got[2].status, got[2].resolved_on) == \
        (BROKEN, KEPT, date(2026, 11, 10))


def test_the_last_fen_of_a_receipt_still_counts():
    """A receipt one fen over the first promise keeps a one-fen second promise too."""
    first = PromiseIn(1, N1, date(2026, 11, 20), 100)
    second = PromiseIn(2, N1, date(2026, 11, 25), 1)
    got = resolve_promises([first, second], [MoneyIn(1, date(2026, 11, 10), 101)],
                           date(2026, 11, 12), grace_days=0)
    assert (got[1].status, got[2].status, got[2].covered_fen) == (KEPT, KEPT, 1)


@pytest.mark.parametrize("days_ago,shown", [(30, True), (31, False)])
def test_a_resolved_promise_is_shown_for_thirty_days(days_ago, shown):
    """The last resolved promise stays on the row for 30 days, then the row is clear; the
    count of broken promises in a row stays either way."""
    as_of = date(2026, 12, 31)
    promise = PromiseIn(1, N1, as_of - timedelta(days=days_ago + 1), 500)
    got = {1: resolve_promises([promise], [], as_of, grace_days=0)[1]}
    assert got[1].status == BROKEN and got[1].resolved_on == as_of - timedelta(days=days_ago)
    summary = summarise([promise], got, as_of)
    assert (summary.date, summary.status, summary.broken_in_row) == \
        ((promise.due_date, BROKEN, 1) if shown else (None, None, 1))


D1, D2 = date(2026, 11, 10), date(2026, 11, 12)


@pytest.mark.parametrize("money,kept", [
    ([MoneyIn(1, D1, 1)], [(D1, 1)]),  # one fen is money received
    ([MoneyIn(1, D1, 500), MoneyIn(2, D2, -500, reverses=1)], []),  # reversed in full
    ([MoneyIn(1, D1, 500), MoneyIn(2, D1, -200)], [(D1, 300)]),  # a refund the same day
    ([MoneyIn(1, D1, 100), MoneyIn(2, D1, 100), MoneyIn(3, D2, -150)], [(D1, 50)]),
    ([MoneyIn(1, D1, 100), MoneyIn(2, D1, 100), MoneyIn(3, D2, -101)], [(D1, 99)]),
])
def test_net_receipts_at_the_edges(money, kept):
    """A fen counts; a full reversal leaves nothing; a refund takes from the same day's
    receipts and, when one is not enough, from the one before it, to the last fen."""
    assert net_receipts(money) == kept


@pytest.mark.parametrize("stage,notice", [
    ("reminder", "reminder"), ("contact", "reminder"), ("visit", "payment_notice"),
    ("demand", "demand_letter"), ("legal", "lawyer_letter"), (None, "reminder"),
    ("", "reminder"), ("d31", "reminder")])
def test_each_stage_suggests_its_notice(stage, notice):
    """The visit form preselects the stage's notice; no or an unknown stage, a reminder."""
    from fieldapp.domain.stages import suggested_notice
    assert suggested_notice(stage) == notice
