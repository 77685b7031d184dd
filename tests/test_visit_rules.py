"""The visit form's rules as a plain function: what `check_visit` keeps from the form,
what it refuses, and that every refusal is a sentence in the user's language."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from fieldapp.domain.visits import check_visit
from fieldapp.limits import DEFAULT
from fieldapp.models import Delivery, NoticeType, Outcome, Reason, ServiceCategory

from .conftest import has_chinese
from .factories import TODAY

ARREARS = 100_000
HORIZON = 30


def check(photos: int = 0, **form):
    form.setdefault("client_uuid", str(uuid.uuid4()))
    return check_visit(form, photo_count=photos, arrears_fen=ARREARS, today=TODAY,
                       promise_horizon_days=HORIZON)


def promise(**form):
    fields = {"outcome": "promised", "reason": "hardship", "promise_date": "2026-12-01",
              "promise_amount": "100"}
    return check(**{**fields, **form})


def test_client_uuid_is_kept_in_its_canonical_form():
    """An id typed in capitals or braces is the same id, stored the one way."""
    key = uuid.uuid4()
    data = check(outcome="nobody_home", client_uuid="{" + str(key).upper() + "}")
    assert data.errors == {} and data.client_uuid == str(key)


def test_a_valid_visit_keeps_what_was_entered():
    """Fields come back stripped and typed: enums, text, the notice and its delivery."""
    data = check(photos=1, outcome=" met_owner ", reason="service", service_category="leak",
                 reason_detail="  卫生间漏水  ", notice_type="reminder", delivery="door",
                 notes="  按门铃三次 ")
    assert data.errors == {}
    assert (data.outcome, data.reason, data.service_category) == \
        (Outcome.MET_OWNER, Reason.SERVICE, ServiceCategory.LEAK)
    assert (data.reason_detail, data.notes) == ("卫生间漏水", "按门铃三次")
    assert (data.notice_type, data.delivery) == (NoticeType.REMINDER, Delivery.DOOR)


def test_no_notice_chosen_means_no_notice():
    """Leaving the notice out is "no notice", and then no delivery or photo is asked."""
    data = check(outcome="nobody_home")
    assert data.errors == {} and data.notice_type is NoticeType.NONE and data.delivery is None


@pytest.mark.parametrize("outcome", ["met_owner", "met_occupant", "refused", "promised"])
def test_someone_met_who_did_not_pay_needs_a_reason(outcome):
    """Met and did not pay: the reason is what the supervisor needs."""
    assert "reason" in check(outcome=outcome).errors


@pytest.mark.parametrize("outcome", ["nobody_home", "wrong_contact", "vacant"])
def test_nobody_to_ask_means_no_reason_is_kept(outcome):
    """With nobody met there is no reason to record, even if the form still carries one."""
    data = check(outcome=outcome, reason="refusal", reason_detail="不在家")
    assert data.errors == {} and data.reason is None and data.reason_detail == ""


def test_paid_on_site_needs_no_reason():
    """Paying on the spot is not a refusal: no reason is asked or kept."""
    data = check(outcome="paid_on_site", paid_amount="12.50", payment_ref=" WX-1 ",
                 reason="hardship")
    assert data.errors == {} and data.reason is None
    assert (data.paid_amount_fen, data.payment_ref) == (1_250, "WX-1")


def test_a_service_reason_without_its_category_is_refused():
    """"Dissatisfied with service" names which service; other reasons do not."""
    assert "service_category" in check(outcome="met_owner", reason="service").errors
    data = check(outcome="met_owner", reason="hardship", service_category="leak")
    assert data.errors == {} and data.service_category is None


def test_other_reason_needs_words():
    """"Other" is only useful with a few words saying what it is."""
    assert "reason_detail" in check(outcome="refused", reason="other").errors
    assert check(outcome="refused", reason="other", reason_detail="邻居纠纷").errors == {}


@pytest.mark.parametrize("field,extra", [
    ("reason_detail", {"outcome": "met_owner", "reason": "other"}),
    ("notes", {"outcome": "nobody_home"}),
    ("payment_ref", {"outcome": "paid_on_site", "paid_amount": "10"}),
])
def test_text_limits_are_inclusive(field, extra):
    """A text exactly at its limit is accepted; one character more is refused."""
    limit = DEFAULT.text_limit(field)
    assert field not in check(**extra, **{field: "字" * limit}).errors
    assert field in check(**extra, **{field: "字" * (limit + 1)}).errors


@pytest.mark.parametrize("field", ["notes", "reason_detail", "payment_ref"])
def test_over_long_text_is_refused_and_kept_as_typed(field):
    """Text over its limit is refused by name and kept whole, so the form shows it again
    for the user to shorten (nothing typed is lost)."""
    limit = DEFAULT.text_limit(field)
    data = check(outcome="paid_on_site" if field == "payment_ref" else "met_owner",
                 reason="other" if field == "reason_detail" else "hardship", paid_amount="10",
                 **{field: "a" * limit + "b"})
    assert set(data.errors) == {field}
    assert getattr(data, field) == "a" * limit + "b"


@pytest.mark.parametrize("notice", ["reminder", "payment_notice", "demand_letter",
                                    "lawyer_letter"])
def test_every_notice_needs_its_delivery_and_a_photo(notice):
    """Any notice delivered needs how it was delivered and at least one photo."""
    errors = check(outcome="nobody_home", notice_type=notice).errors
    assert {"delivery", "photos"} <= set(errors)
    assert check(photos=1, outcome="nobody_home", notice_type=notice,
                 delivery="mailbox").errors == {}


def test_unknown_choices_are_refused_by_name():
    """A value the form never offers is an error on that field, not a crash."""
    errors = check(outcome="met_owner", reason="bored", notice_type="poster").errors
    assert {"reason", "notice_type"} <= set(errors)
    assert "delivery" not in errors  # an unknown notice is not treated as a notice


@pytest.mark.parametrize("days_ahead,ok", [(0, False), (1, True), (HORIZON, True),
                                           (HORIZON + 1, False)])
def test_promise_date_is_tomorrow_up_to_the_horizon(days_ahead, ok):
    """A promise is for a day after today and at most the policy's horizon ahead."""
    day = (TODAY + timedelta(days=days_ahead)).isoformat()
    data = promise(promise_date=day)
    assert ("promise_date" not in data.errors) is ok
    assert data.promise_date == (TODAY + timedelta(days=days_ahead) if ok else None)


@pytest.mark.parametrize("raw", ["", "2026-13-01", "下周一"])
def test_promise_date_must_be_a_date(raw):
    """No date, or something that is not a date, is refused and nothing is kept."""
    data = promise(promise_date=raw)
    assert "promise_date" in data.errors and data.promise_date is None


@pytest.mark.parametrize("raw,fen", [("1000", ARREARS), ("0.01", 1), ("¥500.5", 50_050)])
def test_promise_amount_up_to_the_arrears_is_kept_in_fen(raw, fen):
    """Up to the whole arrears may be promised; the amount is kept in fen."""
    data = promise(promise_amount=raw)
    assert data.errors == {} and data.promise_amount_fen == fen


@pytest.mark.parametrize("raw", ["", "0", "-5", "abc", "1000.01"])
def test_bad_promise_amounts_are_refused(raw):
    """Missing, zero, negative, not a number, or more than the arrears: refused."""
    data = promise(promise_amount=raw)
    assert "promise_amount" in data.errors and data.promise_amount_fen is None


@pytest.mark.parametrize("raw", ["", "0", "12.345", "abc"])
def test_bad_payment_amounts_are_refused(raw):
    """A payment on the spot needs a positive amount in yuan and fen."""
    data = check(outcome="paid_on_site", paid_amount=raw, payment_ref="WX")
    assert "paid_amount" in data.errors and data.paid_amount_fen is None


def test_payment_needs_its_reference():
    """The receipt or transfer reference is what lets accounts find the money."""
    assert "payment_ref" in check(outcome="paid_on_site", paid_amount="10").errors


@pytest.mark.parametrize("lat,lon", [("90", "180"), ("-90", "-180"), ("31.23", "121.47")])
def test_positions_on_the_globe_are_kept(lat, lon):
    """Any latitude and longitude on the globe, edges included, is kept with its accuracy."""
    data = check(outcome="nobody_home", lat=lat, lon=lon, accuracy="15")
    assert (data.lat, data.lon, data.accuracy_m) == (float(lat), float(lon), 15.0)


@pytest.mark.parametrize("lat,lon", [("90.5", "121"), ("31", "180.5"), ("-90.5", "0"),
                                     ("0", "-180.5"), ("31", ""), ("", "121"), ("x", "1")])
def test_half_or_impossible_positions_are_dropped(lat, lon):
    """A position off the globe, or only half of one, is no position (and no accuracy)."""
    data = check(outcome="nobody_home", lat=lat, lon=lon, accuracy="15")
    assert data.errors == {}
    assert (data.lat, data.lon, data.accuracy_m) == (None, None, None)


@pytest.mark.parametrize("accuracy,kept", [("0", 0.0), ("100000", 100_000.0),
                                           ("100001", None), ("-1", None), ("", None)])
def test_accuracy_is_kept_only_when_plausible(accuracy, kept):
    """Accuracy from 0 m to 100 km is kept; anything else is dropped, the position kept."""
    data = check(outcome="nobody_home", lat="31.2", lon="121.4", accuracy=accuracy)
    assert data.lat == 31.2 and data.accuracy_m == kept


@pytest.mark.parametrize("code,word", [("1", "denied"), ("2", "unavailable"), ("3", "timeout"),
                                       ("9", ""), ("", "")])
def test_geolocation_errors_are_named(code, word):
    """The browser's geolocation error code is stored as a word the review can show."""
    assert check(outcome="nobody_home", geo_error=code).geo_error == word


@pytest.mark.parametrize("raw,expected", [
    ("2026-11-22T09:30:00Z", datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc)),
    ("2026-11-22T17:30:00+08:00", datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc)),
    ("2026-11-22T09:30:00", datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc)),
    ("yesterday", None), ("", None)])
def test_device_time_is_an_aware_moment_or_nothing(raw, expected):
    """The phone's clock is kept as an aware time (UTC when it names no zone)."""
    device = check(outcome="nobody_home", device_time=raw).device_time
    assert device == expected
    assert device is None or device.tzinfo is not None


# Every case that refuses a field, with the number its message must carry, if any.
REFUSALS = [
    ({"client_uuid": "not-a-uuid", "outcome": "nobody_home"}, "client_uuid", None),
    ({}, "outcome", None),
    ({"outcome": "teleported"}, "outcome", None),
    ({"outcome": "met_owner"}, "reason", None),
    ({"outcome": "met_owner", "reason": "service"}, "service_category", None),
    ({"outcome": "met_owner", "reason": "other"}, "reason_detail", None),
    ({"outcome": "met_owner", "reason": "other", "reason_detail": "x" * 501}, "reason_detail",
     "500"),
    ({"outcome": "nobody_home", "notes": "x" * 2001}, "notes", "2000"),
    ({"outcome": "nobody_home", "notice_type": "reminder"}, "delivery", None),
    ({"outcome": "nobody_home", "notice_type": "reminder", "delivery": "door"}, "photos", None),
    ({"outcome": "promised", "reason": "hardship", "promise_amount": "1"}, "promise_date",
     None),
    ({"outcome": "promised", "reason": "hardship", "promise_date": "soon",
      "promise_amount": "1"}, "promise_date", None),
    ({"outcome": "promised", "reason": "hardship", "promise_date": "2026-11-22",
      "promise_amount": "1"}, "promise_date", None),
    ({"outcome": "promised", "reason": "hardship", "promise_date": "2027-01-22",
      "promise_amount": "1"}, "promise_date", str(HORIZON)),
    ({"outcome": "promised", "reason": "hardship", "promise_date": "2026-12-01"},
     "promise_amount", None),
    ({"outcome": "promised", "reason": "hardship", "promise_date": "2026-12-01",
      "promise_amount": "12,3.4.5"}, "promise_amount", None),
    ({"outcome": "promised", "reason": "hardship", "promise_date": "2026-12-01",
      "promise_amount": "0"}, "promise_amount", None),
    ({"outcome": "promised", "reason": "hardship", "promise_date": "2026-12-01",
      "promise_amount": "2000"}, "promise_amount", "1,000.00"),
    ({"outcome": "paid_on_site", "paid_amount": "5"}, "payment_ref", None),
]


@pytest.mark.parametrize("form,field,number", REFUSALS)
def test_every_refusal_is_a_sentence_in_chinese(in_chinese, form, field, number):
    """Each error is a translated sentence (not a bare key or English), with its number."""
    data = check(photos=0, **form)
    text = in_chinese(data.errors[field])
    assert has_chinese(text), text
    if number is not None:
        assert number in text


def test_refusals_differ_by_cause(in_chinese):
    """A missing date, a past date and a date too far ahead are three different messages."""
    texts = {in_chinese(promise(promise_date=day).errors["promise_date"])
             for day in ("", "2026-11-01", "2027-06-01", "x")}
    assert len(texts) == 4
