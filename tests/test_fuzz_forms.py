"""Every form of the URL map, fuzzed with hypothesis: long strings, control characters,
NUL, RTL marks, emoji, markup, SQL, huge/negative/non-finite numbers, out-of-range ids
and dates, wrong types, missing fields. Never a 500; a refused request stores nothing."""
from __future__ import annotations

import io
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from fieldapp.extensions import db

from .factories import PASSWORD
from .photos import make_jpeg
from .test_access_matrix import CASES, OK, sign_in
from .world import make_world

JSON = {"Accept": "application/json"}
TRY_AS = ("hk", "engineer", "supervisor", "admin", "anon")

FIELDS = {
    "visits.create": ["client_uuid", "outcome", "reason", "service_category", "reason_detail",
                      "notice_type", "delivery", "promise_date", "promise_amount",
                      "paid_amount", "payment_ref", "notes", "lat", "lon", "accuracy",
                      "geo_error", "device_time", "queued_by", "complaint",
                      "complaint_description", "photo_meta"],
    "visits.correct": ["note", "client_uuid"],
    "review.decision": ["decision", "comment", "flags_seen", "focus_next"],
    "review.approve_selected": ["visit"],
    "workorders.create_complaint": ["client_uuid", "category", "description"],
    "workorders.satisfaction": ["satisfied", "note"],
    "workorders.transition": ["repair_notes", "reason"],
    "workorders.note": ["note"],
    "workorders.assign_engineer": ["engineer_id", "back"],
    "promises.create": ["date-1", "amount-1", "date-2", "amount-2", "reason", "count"],
    "promises.cancel": ["reason"],
    "promises.create_waiver": ["amount", "reason"],
    "promises.decide": ["decision", "comment"],
    "auth.login": ["username", "password"],
    "auth.language": ["locale"],
    "auth.account": ["locale"],
    "auth.route_setting": ["visited_sink"],
    "auth.change_password": ["current_password", "new_password", "confirm_password"],
    "auth.sign_out_all_devices": [],
    "auth.revoke_user_sessions": [],
    "auth.logout": [],
    "imports.upload": ["kind", "community", "dry_run"],
    "imports.add_header": ["community", "kind", "field", "alias"],
    "imports.remove_header": [],
}
# A valid submission per form, which the fuzzer then bends a few fields of, so that
# it reaches the checks behind the first one.
BASE = {
    "visits.create": lambda w: {"client_uuid": str(uuid.uuid4()), "outcome": "promised",
                                "reason": "hardship", "promise_date": "2026-12-01",
                                "promise_amount": "100", "lat": "31.23", "lon": "121.47"},
    "visits.correct": lambda w: {"note": "补拍了门牌", "client_uuid": str(uuid.uuid4())},
    "review.decision": lambda w: {"decision": "send_back", "comment": "门牌看不清",
                                  "focus_next": str(w.clean_visit.id)},
    "review.approve_selected": lambda w: {"visit": str(w.clean_visit.id)},
    "workorders.create_complaint": lambda w: {"client_uuid": str(uuid.uuid4()),
                                              "category": "leak", "description": "漏水"},
    "workorders.satisfaction": lambda w: {"satisfied": "no", "note": "还在漏"},
    "workorders.transition": lambda w: {"repair_notes": "修好了"},
    "workorders.note": lambda w: {"note": "明天去"},
    "workorders.assign_engineer": lambda w: {"engineer_id": str(w.users["engineer"].id)},
    "promises.create": lambda w: {"date-1": "2026-12-20", "amount-1": "600",
                                  "date-2": "2027-01-20", "amount-2": "600", "reason": "困难"},
    "promises.create_waiver": lambda w: {"amount": "1", "reason": "困难"},
    "promises.decide": lambda w: {"decision": "approve", "comment": "同意"},
    "auth.account": lambda w: {"locale": "en"},
    "imports.upload": lambda w: {"kind": "bills", "file": (io.BytesIO(
        "单据号,房号,应收金额,应缴日期\nB-1,0001,100,2025-03-15\n".encode("gb18030")), "b.csv")},
    "imports.add_header": lambda w: {"community": str(w.unit.building.community_id),
                                     "kind": "bills", "field": "due_date", "alias": "最迟缴费日"},
    "auth.change_password": lambda w: {"current_password": PASSWORD,
                                       "new_password": "a new long password",
                                       "confirm_password": "a new long password"},
}
TAKES_PHOTOS = {"visits.create", "visits.correct", "workorders.create_complaint",
                "workorders.transition"}
# Tables a refused request may still write to: the sign-in throttle counts failures.
MAY_CHANGE_WHEN_REFUSED = {"login_throttle"}

# Tried on every field of every form, one at a time, on top of a valid submission.
EDGES = ["", "\x00", "\u202e", "😀" * 300, "<b>x</b>", "' OR 1=1 --", "9" * 400, str(2**63),
         str(2**31), "-1", "0", "1e308", "1e27", "NaN", "-inf", "１２３", "2026-02-30",
         "9999-12-31T23:59:59+14:00", "[" * 2000, "长" * 3000]
NASTY = st.sampled_from([
    "", " ", "\x00", "a\x00b", "\u202e\u202dRTL", "\ufeff", "😀" * 500, "\U0010ffff",
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "' OR 1=1 --",
    "'; DROP TABLE unit; --", "%", "_", "\\", "../../etc/passwd", "1e308", "-1e308", "1e27",
    "-1", "0", "-0", "NaN", "nan", "Infinity", "-inf", "9" * 400, str(2**63), str(2**31),
    "0x1F", "1_000", "１２３", "2026-02-30", "0001-01-01", "9999-12-31",
    "9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00-12:00", "2026-11-22T09:00:00+08:00",
    "[" * 2000, "{" * 2000, '{"a": 1e400}', "true", "null", "[]", "{}",
    "met_owner", "promised", "paid_on_site", "service", "other", "leak", "reminder", "door",
    "yes", "no", "1", "en", "zh_CN", "list", "00000000-0000-0000-0000-000000000000",
    "not-a-uuid", "a" * 2001, "长" * 3000,
])
VALUE = st.one_of(NASTY, st.sampled_from(EDGES), st.text(max_size=300),
                  st.integers().map(str),
                  st.floats(allow_nan=True, allow_infinity=True).map(repr),
                  st.dates().map(str), st.uuids().map(str))


def form_for(endpoint: str):
    names = FIELDS[endpoint]
    known = st.fixed_dictionaries({}, optional={n: VALUE for n in names}) if names else \
        st.just({})
    extra = st.dictionaries(st.text(min_size=1, max_size=20), VALUE, max_size=3)
    photos = st.sampled_from([None, "jpeg", "garbage"]) if endpoint in TAKES_PHOTOS else \
        st.just(None)
    return st.tuples(known, extra, photos)


def row_counts() -> dict[str, int]:
    db.session.expire_all()
    return {t.name: db.session.scalar(select(func.count()).select_from(t))
            for t in db.metadata.sorted_tables}


def fuzzed_cases():
    seen = set()
    for case in CASES:
        if case.method == "POST" and case.endpoint not in seen:
            seen.add(case.endpoint)
            yield pytest.param(case, id=case.endpoint)


def test_every_form_is_fuzzed():
    assert {c.endpoint for c in CASES if c.method == "POST"} == set(FIELDS)


def check_answer(before: dict, r, data) -> dict:
    """Assert the answer; returns the row counts to compare the next request with."""
    assert r.status_code < 500, (data, r.get_data(as_text=True)[:500])
    after = row_counts()
    if r.status_code >= 400:
        changed = {t for t in before if before[t] != after[t]}
        assert changed <= MAY_CHANGE_WHEN_REFUSED, (data, r.status_code, changed)
    return after


@pytest.mark.parametrize("case", list(fuzzed_cases()))
def test_every_field_takes_every_edge_value(app, client, case):
    """Each edge value in each field, alone on a valid submission."""
    world = make_world()
    user = world.users[next(r for r in TRY_AS if case.expected[r] == OK)]
    sign_in(client, user)
    counts = row_counts()
    for name in FIELDS[case.endpoint]:
        for value in EDGES:
            data = {**BASE.get(case.endpoint, lambda w: {})(world), name: value}
            counts = check_answer(counts, client.post(case.path(world), data=data,
                                                      headers=JSON), data)
            if case.ends_session:
                sign_in(client, user)


@pytest.mark.parametrize("case", list(fuzzed_cases()))
def test_fuzzed_form_never_errors_and_a_refusal_stores_nothing(app, client, case):
    world = make_world()
    role = next(r for r in TRY_AS if case.expected[r] == OK)
    user = world.users[role]
    sign_in(client, user)

    @settings(max_examples=25, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(form_for(case.endpoint))
    def attempt(generated):
        known, extra, photo = generated
        data = {**extra, **BASE.get(case.endpoint, lambda w: {})(world), **known}
        if photo:
            content = make_jpeg() if photo == "jpeg" else b"\x89PNG garbage"
            data["photos"] = [(io.BytesIO(content), "p.jpg")]
        before = row_counts()
        r = client.post(case.path(world), data=data, headers=JSON,
                        content_type="multipart/form-data")
        check_answer(before, r, data)
        if case.ends_session or r.status_code == 401:
            sign_in(client, user)

    attempt()
