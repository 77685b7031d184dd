"""The same visit sent twice is stored once (DESIGN.md §4); a client_uuid is one visit,
by one user, at one unit, with one content: anything else reusing it is refused, never
merged into someone else's visit."""
from __future__ import annotations

import io
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from fieldapp.extensions import db
from fieldapp.models import Promise, Role, Unit, Visit

from .factories import TODAY, make_bill, make_building, make_unit, make_user
from .photos import make_jpeg

JSON = {"Accept": "application/json"}


@pytest.fixture
def shared_building(app):
    """Two housekeepers sharing a building with two overdue units."""
    building = make_building()
    units = [make_unit(building), make_unit(building)]
    for unit in units:
        make_bill(unit, 50_000, TODAY - timedelta(days=40))
    first = make_user(Role.HOUSEKEEPER, buildings=[building])
    second = make_user(Role.HOUSEKEEPER, buildings=[building])
    return first, second, units


def send(client, unit_id, key, photos=(), headers=JSON, **fields):
    data = {"client_uuid": key, "outcome": "nobody_home", "notes": "门上贴了条", **fields}
    data["photos"] = [(io.BytesIO(content), name) for name, content in photos]
    return client.post(f"/units/{unit_id}/visits", data=data, headers=headers,
                       content_type="multipart/form-data")


def visits() -> int:
    return db.session.scalar(select(func.count()).select_from(Visit))


def test_a_repeat_answers_200_with_the_stored_visit(client, login_as, shared_building):
    """The second copy is answered 200 with the first copy's id, and nothing new is kept."""
    hk, _, (unit, _) = shared_building
    login_as(hk)
    key = str(uuid.uuid4())
    first = send(client, unit.id, key)
    again = send(client, unit.id, key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["visit_id"] == first.json["visit_id"] and visits() == 1


def test_another_users_visit_with_the_same_id_is_refused(client, login_as, shared_building):
    """A colleague's submission reusing my id, word for word, is refused: it is not
    answered with my visit, and not filed under my name."""
    hk, colleague, (unit, _) = shared_building
    key = str(uuid.uuid4())
    login_as(hk)
    assert send(client, unit.id, key).status_code == 201
    client.post("/logout")
    login_as(colleague)
    r = send(client, unit.id, key)
    assert r.status_code == 422 and r.json["error"] == "client_uuid_reused"
    assert "visit_id" not in r.json
    assert db.session.scalar(select(Visit.user_id)) == hk.id and visits() == 1


def test_the_same_id_at_another_unit_is_refused(client, login_as, shared_building):
    """One id is one door: the same fields sent for the neighbour are refused."""
    hk, _, (unit, neighbour) = shared_building
    login_as(hk)
    key = str(uuid.uuid4())
    assert send(client, unit.id, key).status_code == 201
    r = send(client, neighbour.id, key)
    assert r.status_code == 422 and r.json["error"] == "client_uuid_reused"
    assert db.session.scalar(select(Visit.unit_id)) == unit.id and visits() == 1


@pytest.mark.parametrize("change", [{"notes": "改了备注"}, {"outcome": "vacant"},
                                    {"lat": "31.2304", "lon": "121.4737"}])
def test_the_same_id_with_other_content_is_refused(client, login_as, shared_building, change):
    """Any field that differs makes it another visit: refused, the first one untouched."""
    hk, _, (unit, _) = shared_building
    login_as(hk)
    key = str(uuid.uuid4())
    assert send(client, unit.id, key).status_code == 201
    assert send(client, unit.id, key, **change).status_code == 422
    stored = db.session.scalar(select(Visit))
    assert (stored.notes, stored.outcome.value, stored.lat) == ("门上贴了条", "nobody_home", None)


def test_other_photos_with_the_same_id_are_refused(client, login_as, shared_building):
    """The photos are part of the visit: another photo is another visit."""
    hk, _, (unit, _) = shared_building
    login_as(hk)
    key = str(uuid.uuid4())
    notice = {"notice_type": "reminder", "delivery": "door"}
    assert send(client, unit.id, key, [("a.jpg", make_jpeg())], **notice).status_code == 201
    r = send(client, unit.id, key, [("b.jpg", make_jpeg(color=(0, 99, 0)))], **notice)
    assert r.status_code == 422 and r.json["error"] == "client_uuid_reused"


def test_photo_order_and_the_phone_clock_do_not_make_another_visit(client, login_as,
                                                                   shared_building):
    """A retry may list the photos in another order and carry a later device time: it is
    still the same visit."""
    hk, _, (unit, _) = shared_building
    login_as(hk)
    key = str(uuid.uuid4())
    a, b = ("a.jpg", make_jpeg()), ("b.jpg", make_jpeg(color=(0, 99, 0)))
    notice = {"notice_type": "reminder", "delivery": "door"}
    first = send(client, unit.id, key, [a, b], device_time="2026-11-22T09:00:00Z", **notice)
    again = send(client, unit.id, key, [b, a], device_time="2026-11-22T09:05:00Z", **notice)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["visit_id"] == first.json["visit_id"] and visits() == 1


def test_a_plain_form_posted_twice_is_one_visit(client, login_as, shared_building):
    """Without JavaScript a double press posts the form's id twice: one visit, both
    answered with the way back to the route list."""
    hk, _, (unit, _) = shared_building
    login_as(hk)
    key = str(uuid.uuid4())
    answers = [send(client, unit.id, key, headers={}) for _ in range(2)]
    assert [r.status_code for r in answers] == [303, 303]
    assert answers[0].headers["Location"] == answers[1].headers["Location"]
    assert visits() == 1


def test_a_repeat_leaves_the_unit_summary_as_the_first_copy_left_it(client, login_as,
                                                                    shared_building):
    """A repeated promise does not add a second promise or move the unit's dates."""
    hk, _, (unit, _) = shared_building
    login_as(hk)
    key = str(uuid.uuid4())
    promise = {"outcome": "promised", "reason": "hardship", "promise_date": "2026-12-05",
               "promise_amount": "200"}
    assert send(client, unit.id, key, **promise).status_code == 201
    assert send(client, unit.id, key, **promise).status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Promise)) == 1
    assert db.session.get(Unit, unit.id).next_promise_date.isoformat() == "2026-12-05"


def _sha(body: str) -> str:
    import hashlib
    return hashlib.sha256(body.encode()).hexdigest()


# What a queued visit's digest was computed over: its unit, every field but the phone's
# clock and the form errors, keys sorted, photos by hash in sorted order.
_FIELDS = ('"accuracy_m": null, "client_uuid": "k", "delivery": null, "geo_error": "", "lat": null, '
           '"lon": null, "notes": "n", %s"notice_type": "none", "outcome": "nobody_home", '
           '"paid_amount_fen": null, "payment_ref": "", "promise_amount_fen": null, '
           '"promise_date": null, "reason": null, "reason_detail": "", '
           '"service_category": null')


def test_the_payload_digest_is_over_the_documented_body():
    """The digest stays what stored visits hold: unit, fields (no clock, no errors, no
    empty notice), sorted photo hashes, keys sorted."""
    from datetime import datetime, timezone

    from fieldapp.domain.visits import VisitData
    from fieldapp.models import Outcome
    from fieldapp.visits.services import payload_sha256
    data = VisitData(client_uuid="k", outcome=Outcome.NOBODY_HOME, notes="n",
                     device_time=datetime(2025, 1, 1, tzinfo=timezone.utc),
                     errors={"notes": "too long"})
    fields = _FIELDS % ""
    assert payload_sha256(7, data, ["b", "a"]) == _sha(
        '{"fields": {%s}, "photos": ["a", "b"], "unit": 7}' % fields)


def test_a_picked_notice_is_part_of_the_digest():
    """A visit that delivered an issued notice hashes its notice id among the fields."""
    from fieldapp.domain.visits import VisitData
    from fieldapp.models import Outcome
    from fieldapp.visits.services import payload_sha256
    data = VisitData(client_uuid="k", outcome=Outcome.NOBODY_HOME, notes="n", notice_id=3)
    fields = _FIELDS % '"notice_id": 3, '
    assert payload_sha256(7, data, []) == _sha(
        '{"fields": {%s}, "photos": [], "unit": 7}' % fields)
