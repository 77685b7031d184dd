"""Logging a visit: rules per outcome, bad input, idempotency, photos, access."""
from __future__ import annotations

import io
import re
import threading
import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from fieldapp.domain.visits import check_visit
from fieldapp.extensions import db
from fieldapp.limits import DEFAULT
from fieldapp.models import FieldPayment, Photo, Promise, Role, Unit, Visit
from fieldapp.photos.storage import LocalStorage, photo_keys

from .factories import TODAY, make_bill, make_building, make_unit, make_user
from .photos import make_jpeg, make_png_bomb

JSON = {"Accept": "application/json"}


def check(**form):
    form.setdefault("client_uuid", str(uuid.uuid4()))
    photos = form.pop("photos", 0)
    return check_visit(form, photo_count=photos, arrears_fen=100_000, today=TODAY,
                       promise_horizon_days=30).errors


@pytest.mark.parametrize("form,field", [
    ({}, "outcome"),
    ({"outcome": "teleported"}, "outcome"),
    ({"outcome": "met_owner"}, "reason"),
    ({"outcome": "refused"}, "reason"),
    ({"outcome": "met_owner", "reason": "service"}, "service_category"),
    ({"outcome": "met_owner", "reason": "other"}, "reason_detail"),
    ({"outcome": "promised", "reason": "hardship"}, "promise_date"),
    ({"outcome": "promised", "reason": "hardship", "promise_date": "2026-11-21",
      "promise_amount": "100"}, "promise_date"),
    ({"outcome": "promised", "reason": "hardship", "promise_date": "2027-01-30",
      "promise_amount": "100"}, "promise_date"),
    ({"outcome": "promised", "reason": "hardship", "promise_date": "2026-12-01",
      "promise_amount": "1000.01"}, "promise_amount"),
    ({"outcome": "promised", "reason": "hardship", "promise_date": "2026-12-01",
      "promise_amount": "-5"}, "promise_amount"),
    ({"outcome": "paid_on_site", "paid_amount": "abc", "payment_ref": "x"}, "paid_amount"),
    ({"outcome": "paid_on_site", "paid_amount": "10"}, "payment_ref"),
    ({"outcome": "nobody_home", "notice_type": "demand_letter"}, "delivery"),
    ({"outcome": "nobody_home", "notice_type": "demand_letter", "delivery": "door"}, "photos"),
    ({"outcome": "nobody_home", "client_uuid": "not-a-uuid"}, "client_uuid"),
])
def test_each_outcome_requires_what_it_needs(form, field):
    assert field in check(**form)


@pytest.mark.parametrize("form", [
    {"outcome": "nobody_home"},
    {"outcome": "vacant", "notes": "no furniture"},
    {"outcome": "met_owner", "reason": "service", "service_category": "leak"},
    {"outcome": "promised", "reason": "hardship", "promise_date": "2026-12-22",
     "promise_amount": "1000.00"},
    {"outcome": "paid_on_site", "paid_amount": "300", "payment_ref": "WX123"},
    {"outcome": "nobody_home", "notice_type": "reminder", "delivery": "door", "photos": 1},
])
def test_valid_visits_pass(form):
    assert check(**form) == {}


@pytest.fixture
def door(app):
    """A housekeeper, an overdue unit in their patch, and one outside it."""
    building = make_building()
    unit = make_unit(building)
    make_bill(unit, 100_000, TODAY - timedelta(days=90))
    hk = make_user(Role.HOUSEKEEPER, buildings=[building])
    outside = make_unit(make_building())
    return hk, unit, outside


def post_visit(client, unit_id, photos=(), headers=None, **fields):
    data = {"client_uuid": str(uuid.uuid4()), "outcome": "nobody_home", **fields}
    data["photos"] = [(io.BytesIO(content), name) for name, content in photos]
    return client.post(f"/units/{unit_id}/visits", data=data, headers=headers or {},
                       content_type="multipart/form-data")


def test_form_page_has_everything_and_no_server_minted_id(client, login_as, door):
    hk, unit, _ = door
    login_as(hk)
    html = client.get(f"/units/{unit.id}/visits/new").get_data(as_text=True)
    assert 'capture="environment"' in html and 'name="outcome"' in html
    assert 'name="client_uuid" value=""' in html


def test_plain_post_redirects_to_the_route_list_row(client, login_as, door):
    """A plain promise post stores the promise and returns to the unit's row, badged."""
    hk, unit, _ = door
    login_as(hk)
    r = post_visit(client, unit.id, outcome="promised", reason="hardship",
                   promise_date="2026-12-05", promise_amount="500")
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/route?saved={unit.id}")
    promise = db.session.scalar(select(Promise))
    assert (promise.due_date.isoformat(), promise.amount_fen) == ("2026-12-05", 50_000)
    stored = db.session.get(Unit, unit.id)
    assert stored.last_visit_outcome == "promised"
    assert stored.next_promise_date.isoformat() == "2026-12-05"
    route = client.get(r.headers["Location"]).get_data(as_text=True)
    row = route.split(f'id="unit-{unit.id}"', 1)[1].split("</li>", 1)[0]
    assert "badge-promise" in row and "12-05" in row
    assert f"已保存 {unit.label} 的走访" in route
    card = client.get(f"/units/{unit.id}").get_data(as_text=True)
    assert "data-visit-id" in card and "500.00" in card


def test_bad_input_comes_back_with_what_was_typed(client, login_as, door):
    hk, unit, _ = door
    login_as(hk)
    r = post_visit(client, unit.id, outcome="promised", reason="hardship",
                   promise_date="2026-01-01", promise_amount="321.5", notes="按门铃三次")
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert 'value="2026-01-01"' in html and 'value="321.5"' in html and "按门铃三次" in html
    assert 'id="err-promise_date"' in html and 'aria-invalid="true"' in html
    assert db.session.scalar(select(func.count()).select_from(Visit)) == 0


def test_json_contract_created_then_repeated(client, login_as, door):
    """The same client_uuid twice is stored once and answered with the stored visit."""
    hk, unit, _ = door
    login_as(hk)
    key = str(uuid.uuid4())
    photo = [("door.jpg", make_jpeg())]
    first = post_visit(client, unit.id, photo, JSON, client_uuid=key,
                       notice_type="reminder", delivery="door")
    again = post_visit(client, unit.id, photo, JSON, client_uuid=key,
                       notice_type="reminder", delivery="door")
    assert first.status_code == 201 and again.status_code == 200
    assert first.json["visit_id"] == again.json["visit_id"]
    assert first.json["client_uuid"] == again.json["client_uuid"] == key
    assert db.session.scalar(select(func.count()).select_from(Visit)) == 1


def test_same_id_for_a_different_visit_is_refused(client, login_as, door):
    hk, unit, _ = door
    login_as(hk)
    key = str(uuid.uuid4())
    assert post_visit(client, unit.id, headers=JSON, client_uuid=key).status_code == 201
    r = post_visit(client, unit.id, headers=JSON, client_uuid=key, outcome="vacant")
    assert r.status_code == 422 and r.json["error"] == "client_uuid_reused"


def test_json_errors_name_the_fields(client, login_as, door):
    hk, unit, _ = door
    login_as(hk)
    r = post_visit(client, unit.id, headers=JSON, outcome="met_owner")
    assert r.status_code == 422 and r.json["error"] == "invalid" and "reason" in r.json["errors"]
    r = post_visit(client, unit.id, headers=JSON, client_uuid="")
    assert r.status_code == 422 and "client_uuid" in r.json["errors"]


def test_notice_without_photo_is_refused(client, login_as, door):
    hk, unit, _ = door
    login_as(hk)
    r = post_visit(client, unit.id, headers=JSON, notice_type="demand_letter", delivery="handed")
    assert r.status_code == 422 and "photos" in r.json["errors"]


@pytest.mark.parametrize("name,content,words", [
    ("fake.jpg", b"MZ\x90\x00 definitely not a jpeg", "fake.jpg"),
    ("bomb.png", make_png_bomb(), "bomb.png"),
])
def test_bad_photos_are_named_and_the_rest_is_kept(client, login_as, door, name, content, words):
    hk, unit, _ = door
    login_as(hk)
    r = post_visit(client, unit.id, [("ok.jpg", make_jpeg()), (name, content)],
                   notes="留在门上")
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and words in html and "留在门上" in html
    assert "ok.jpg" not in html.split('id="err-photos"')[1][:300]
    assert db.session.scalar(select(func.count()).select_from(Photo)) == 0


def test_too_large_and_too_many_photos(app, client, login_as, door):
    """A photo over the byte limit is named; more photos than allowed says the limit."""
    hk, unit, _ = door
    login_as(hk)
    app.config["LIMITS"] = replace(DEFAULT, photo_bytes=2_000)
    r = post_visit(client, unit.id, [("huge.jpg", make_jpeg(800, 800))], JSON)
    assert r.status_code == 422 and "huge.jpg" in r.json["errors"]["photos"]
    app.config["LIMITS"] = DEFAULT
    nine = [(f"p{i}.jpg", make_jpeg(color=(i, 0, 0))) for i in range(9)]
    r = post_visit(client, unit.id, nine, JSON)
    limit = DEFAULT.photos_per_request
    assert len(nine) > limit
    assert r.status_code == 422 and re.search(rf"(?<!\d){limit}(?!\d)", r.json["errors"]["photos"])


def test_request_over_the_size_limit_is_a_clear_413(app, client, login_as, door):
    hk, unit, _ = door
    login_as(hk)
    app.config["MAX_CONTENT_LENGTH"] = 10_000  # what create_app sets from LIMITS.request_bytes
    r = post_visit(client, unit.id, [("big.jpg", make_jpeg(1000, 1000, quality=100))], JSON)
    assert r.status_code == 413 and r.json["error"] == "too_large"


def test_photos_are_hashed_stored_once_and_served_only_inside_the_patch(
        app, client, login_as, door):
    hk, unit, outside = door
    login_as(hk)
    data = make_jpeg(orientation=6, taken="2026:11:21 10:00:00")
    for _ in range(2):
        r = post_visit(client, unit.id, [("door.jpg", data)], JSON, notice_type="reminder",
                       delivery="door")
        assert r.status_code == 201
    photo = db.session.scalar(select(Photo))
    assert db.session.scalar(select(func.count()).select_from(Photo)) == 1
    store = LocalStorage(app.config["UPLOAD_DIR"])
    assert store.get(photo_keys(photo.sha256)["original"]) == data
    assert photo.taken_at is not None
    thumb = client.get(f"/photos/{photo.id}/thumb")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert "private" in thumb.headers["Cache-Control"]
    assert Image.open(io.BytesIO(client.get(f"/photos/{photo.id}/display").data)).size == \
        (200, 400)
    assert client.get(f"/photos/{photo.id}/original").data == data
    client.post("/logout")
    login_as(make_user(Role.HOUSEKEEPER, buildings=[outside.building]))
    assert client.get(f"/photos/{photo.id}/thumb").status_code == 404


def test_gps_distance_and_far_flag(client, login_as, door):
    hk, unit, _ = door
    login_as(hk)
    post_visit(client, unit.id, headers=JSON, lat="31.2304", lon="121.4737", accuracy="12")
    post_visit(client, unit.id, headers=JSON, lat="31.2404", lon="121.4737", accuracy="12")
    post_visit(client, unit.id, headers=JSON, geo_error="1")
    near, far, none = db.session.scalars(select(Visit).order_by(Visit.id)).all()
    assert near.distance_m < 1 and not near.far_from_building
    assert 1_000 < far.distance_m < 1_200 and far.far_from_building
    assert none.distance_m is None and none.geo_error == "denied"


def test_paid_on_site_is_a_field_report_not_a_bill_payment(client, login_as, door):
    hk, unit, _ = door
    login_as(hk)
    post_visit(client, unit.id, headers=JSON, outcome="paid_on_site", paid_amount="1000",
               payment_ref="WX-778")
    reported = db.session.scalar(select(FieldPayment))
    assert (reported.amount_fen, reported.reference) == (100_000, "WX-778")
    assert db.session.get(Unit, unit.id).arrears_fen == 100_000


@pytest.mark.parametrize("who", ["other_patch", "engineer", "signed_out"])
def test_access(client, login_as, door, who):
    hk, unit, outside = door
    if who == "other_patch":
        login_as(hk)
        r = post_visit(client, outside.id, headers=JSON)
        assert r.status_code == 404
        assert client.get(f"/units/{outside.id}/visits/new").status_code == 404
    elif who == "engineer":
        login_as(make_user(Role.ENGINEER))
        assert post_visit(client, unit.id, headers=JSON).status_code == 403
    else:
        r = post_visit(client, unit.id, headers=JSON)
        assert r.status_code == 401 and r.json["error"] == "login_required"
    assert db.session.scalar(select(func.count()).select_from(Visit)) == 0


def test_unknown_unit_is_404(client, login_as, door):
    hk, *_ = door
    login_as(hk)
    assert post_visit(client, 987654, headers=JSON).status_code == 404


def test_concurrent_duplicates_are_stored_once(app, door):
    """Two copies of one visit racing (tabs, retries) leave one row on either database."""
    hk, unit, _ = door
    username, unit_id = hk.username, unit.id
    key = str(uuid.uuid4())
    statuses = []
    barrier = threading.Barrier(4)

    def send():
        client = app.test_client()
        client.post("/login", data={"username": username, "password": "correct horse battery"})
        barrier.wait()
        statuses.append(post_visit(client, unit_id, headers=JSON, client_uuid=key).status_code)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 200, 200, 201]
    assert db.session.scalar(select(func.count()).select_from(Visit)) == 1


def test_queue_of_another_user_is_refused(client, login_as, door):
    """A visit queued under another user's session is never filed under mine."""
    hk, unit, _ = door
    login_as(hk)
    r = post_visit(client, unit.id, headers=JSON, queued_by=str(hk.id + 1000))
    assert r.status_code == 403 and r.json["error"] == "wrong_user"
    assert post_visit(client, unit.id, headers=JSON, queued_by=str(hk.id)).status_code == 201


def test_session_api_gives_a_fresh_token_or_401(client, login_as, door):
    assert client.get("/api/session").status_code == 401
    hk, *_ = door
    login_as(hk)
    r = client.get("/api/session")
    assert r.json["user_id"] == hk.id and r.json["csrf_token"]
    assert r.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("form,errors", [
    ({"outcome": "met_owner", "reason": "hardship", "promise_date": "2026-12-05",
      "promise_amount": "300"}, set()),
    ({"outcome": "met_occupant", "reason": "forgot", "promise_date": "2026-12-05"},
     {"promise_amount"}),
    ({"outcome": "met_owner", "paid": "1", "paid_amount": "1000", "payment_ref": "WX9"}, set()),
    ({"outcome": "met_owner", "paid": "1", "paid_amount": "400", "payment_ref": "WX9"},
     {"reason"}),
    ({"outcome": "met_owner", "reason": "hardship", "paid": "1", "paid_amount": "400",
      "payment_ref": "WX9", "promise_date": "2026-12-05", "promise_amount": "600"}, set()),
    ({"outcome": "nobody_home", "promise_date": "2026-12-05", "promise_amount": "600"},
     set()),
])
def test_meeting_someone_can_carry_a_promise_and_a_payment(form, errors):
    """Who was met and what they promised are two questions; paid in full needs no
    reason; a promise date from nobody home is ignored."""
    assert set(check(**form)) == errors


def test_a_promise_made_while_meeting_the_owner_is_stored_with_it(client, login_as, door):
    hk, unit, _ = door
    login_as(hk)
    r = post_visit(client, unit.id, headers=JSON, outcome="met_owner", reason="hardship",
                   promise_date="2026-12-05", promise_amount="500", paid="1",
                   paid_amount="200", payment_ref="WX-1")
    assert r.status_code == 201
    visit = db.session.get(Visit, r.json["visit_id"])
    assert visit.outcome.value == "met_owner"
    assert (visit.promise.amount_fen, visit.field_payment.amount_fen) == (50_000, 20_000)
    assert db.session.get(Unit, unit.id).promise_status == "open"
