"""Holes a hostile user found: inputs that caused a 500, photo requests that held a
worker, routes that skipped the limits. Each test failed before its fix."""
from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from fieldapp.extensions import db
from fieldapp.limits import DEFAULT, MAX_ID
from fieldapp.models import Photo, Promise, Role, Visit, VisitPhoto, WorkOrder, WorkOrderEvent
from fieldapp.photos import evidence, pipeline

from .factories import TODAY, make_bill, make_building, make_unit, make_user
from .http import post_multipart
from .photos import jpeg_claiming, make_flat_png, make_jpeg

JSON = {"Accept": "application/json"}
HUGE = str(2**63)  # beyond SQLite's integer; PostgreSQL's integer ends at 2**31 - 1


@pytest.fixture
def door(app):
    building = make_building()
    unit = make_unit(building)
    make_bill(unit, 100_000, TODAY - timedelta(days=90))
    hk = make_user(Role.HOUSEKEEPER, buildings=[building])
    return hk, unit


def post_visit(client, unit_id, photos=(), **fields):
    data = {"client_uuid": str(uuid.uuid4()), "outcome": "nobody_home", **fields}
    return post_multipart(client, f"/units/{unit_id}/visits", data,
                          [("photos", name, content) for name, content in photos], JSON)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("field,amount", [
    ("promise_amount", "1e27"), ("promise_amount", "100000000000000000"),
    ("promise_amount", "NaN"), ("promise_amount", "Infinity"), ("promise_amount", "-0"),
    ("paid_amount", "1e27"), ("paid_amount", "100000000000000000"),
    ("paid_amount", "99999999999999999999999999999"), ("paid_amount", "0x10"),
])
def test_absurd_amounts_get_a_message_not_a_500(client, login_as, door, field, amount):
    hk, unit = door
    login_as(hk)
    outcome = {"promise_amount": dict(outcome="promised", reason="hardship",
                                      promise_date="2026-12-01"),
               "paid_amount": dict(outcome="paid_on_site", payment_ref="WX1")}[field]
    r = post_visit(client, unit.id, **outcome, **{field: amount})
    assert r.status_code == 422 and r.json["error"] == "invalid"
    assert set(r.json["errors"]) == {field}
    assert count(Visit) == 0


def test_a_field_payment_above_the_ceiling_names_the_ceiling(client, login_as, door):
    hk, unit = door
    login_as(hk)
    r = post_visit(client, unit.id, outcome="paid_on_site", payment_ref="WX1",
                   paid_amount="1000001")
    assert r.status_code == 422 and "1,000,000.00" in r.json["errors"]["paid_amount"]


@pytest.mark.parametrize("method,url", [
    ("GET", "/units/{huge}"), ("GET", "/units/{huge}/visits/new"),
    ("POST", "/units/{huge}/visits"), ("GET", "/units/{huge}/complaints/new"),
    ("POST", "/units/{huge}/complaints"), ("POST", "/units/{huge}/satisfaction"),
    ("GET", "/photos/{huge}/thumb"), ("GET", "/workorders/{huge}"),
    ("POST", "/workorders/{huge}/accept"), ("POST", "/workorders/{huge}/note"),
    ("POST", "/workorders/{huge}/assign"),
    ("GET", "/units/{max_plus_one}"), ("GET", "/units/0"),
    ("GET", "/route?page={huge}"), ("GET", "/route?building={huge}"),
    ("GET", "/route?hk={huge}"), ("GET", "/route?building=-1"), ("GET", "/route?hk=1e3"),
])
def test_ids_that_cannot_exist_are_404(client, login_as, door, method, url):
    """Any integer in a URL, query or form that no row can have is a 404, on both
    databases, never an overflow in the driver."""
    login_as(make_user(Role.SUPERVISOR))
    target = url.format(huge=HUGE, max_plus_one=MAX_ID + 1)
    r = client.open(target, method=method, headers=JSON)
    assert r.status_code == 404, r.get_data(as_text=True)[:300]


def test_an_engineer_id_that_cannot_exist_is_404(client, login_as, door):
    hk, unit = door
    login_as(hk)
    order_id = client.post(f"/units/{unit.id}/complaints", headers=JSON, data={
        "client_uuid": str(uuid.uuid4()), "category": "leak", "description": "漏水"}
    ).json["work_order_id"]
    client.post("/logout")
    login_as(make_user(Role.SUPERVISOR))
    for bad in (HUGE, "-3", "abc", "9" * 400):
        r = client.post(f"/workorders/{order_id}/assign", data={"engineer_id": bad},
                        headers=JSON)
        assert r.status_code == 404
    assert db.session.get(WorkOrder, order_id).engineer_id is None


def test_page_past_the_end_is_empty_and_junk_is_page_one(client, login_as, door):
    hk, _ = door
    login_as(hk)
    assert client.get("/route?page=9999").status_code == 200
    assert client.get("/route?page=abc").status_code == 200
    assert client.get("/route?page=10001").status_code == 404


@pytest.mark.parametrize("taken,offset", [
    ("0001:01:01 00:00:00", "+08:00"), ("9999:12:31 23:59:59", "-08:00"),
    ("0000:00:00 00:00:00", None), ("2026:13:45 99:00:00", None),
])
def test_exif_dates_at_the_edges_of_time_keep_the_photo(client, login_as, door, taken, offset):
    """A camera clock that was never set costs the capture time, not the visit."""
    hk, unit = door
    login_as(hk)
    r = post_visit(client, unit.id, [("d.jpg", make_jpeg(taken=taken, offset=offset))],
                   notice_type="reminder", delivery="door")
    assert r.status_code == 201
    assert db.session.scalar(select(Photo)).taken_at is None


def test_exif_gps_that_is_no_place_on_earth_is_not_kept(client, login_as, door):
    hk, unit = door
    login_as(hk)
    data = make_jpeg(raw_gps=((4_000_000_000, 0, 0), (121, 28, 0)))
    assert post_visit(client, unit.id, [("d.jpg", data)]).status_code == 201
    photo = db.session.scalar(select(Photo))
    assert (photo.exif_lat, photo.exif_lon) == (None, None)


def test_photo_meta_of_nested_brackets_is_ignored(client, login_as, door):
    hk, unit = door
    login_as(hk)
    r = post_visit(client, unit.id, [("d.jpg", make_jpeg())], photo_meta="[" * 2000)
    assert r.status_code == 201
    assert db.session.scalar(select(VisitPhoto)).client_meta == {}


def test_device_time_with_an_offset_is_stored_as_the_same_moment(client, login_as, door):
    hk, unit = door
    login_as(hk)
    post_visit(client, unit.id, device_time="2026-11-22T09:00:00+08:00")
    db.session.expire_all()
    stored = db.session.scalar(select(Visit)).device_time
    assert stored == datetime(2026, 11, 22, 1, 0, tzinfo=timezone.utc)


def test_a_jpeg_claiming_more_pixels_than_its_bytes_can_hold_is_refused(client, login_as,
                                                                        door):
    hk, unit = door
    login_as(hk)
    lie = jpeg_claiming(8000, 6000)
    assert len(lie) < 1000
    r = post_visit(client, unit.id, [("door.jpg", lie)], notes="门上贴了")
    assert r.status_code == 422 and "door.jpg" in r.json["errors"]["photos"]
    assert count(Photo) == 0 and count(Visit) == 0


@pytest.fixture(scope="module")
def big_png():
    return make_flat_png(7000, 7000)  # 49 MP, ~160 KB


def test_too_many_pixels_for_one_request_is_refused_before_decoding(
        client, login_as, door, big_png, monkeypatch):
    """Eight 49 MP PNGs (each within the per-file limits) once held a worker for 30 s;
    now the request's decode budget refuses them from their headers alone."""
    hk, unit = door
    login_as(hk)
    decoded = []
    monkeypatch.setattr(evidence, "process", lambda *a, **k: decoded.append(a) or 1 / 0)
    r = post_visit(client, unit.id, [(f"p{i}.png", big_png) for i in range(8)])
    assert r.status_code == 422 and "无法一次处理" in r.json["errors"]["photos"]
    assert decoded == [] and count(Visit) == 0 and count(Photo) == 0


def test_decode_budget_counts_jpegs_at_their_draft_scale():
    """A 48 MP phone JPEG decodes at a quarter of its size: eight fit one request."""
    img = pipeline.open_checked(make_jpeg(8000, 6000, quality=40), "big.jpg")
    assert pipeline.decode_pixels(img) == 2000 * 1500
    assert 8 * pipeline.decode_pixels(img) <= DEFAULT.decode_pixels


def complaint(client, unit_id, photos=(), **fields):
    data = {"client_uuid": str(uuid.uuid4()), "category": "leak", "description": "漏水",
            **fields}
    return post_multipart(client, f"/units/{unit_id}/complaints", data,
                          [("photos", name, content) for name, content in photos], JSON)


def test_complaints_apply_the_photo_count_and_size_limits(app, client, login_as, door):
    hk, unit = door
    login_as(hk)
    many = [(f"p{i}.jpg", make_jpeg(color=(i, 9, 9))) for i in range(20)]
    r = complaint(client, unit.id, many)
    assert r.status_code == 422 and "8" in r.json["errors"]["photos"]
    oversize = b"\xff\xd8\xff" + b"\0" * (DEFAULT.photo_bytes + 10)
    r = complaint(client, unit.id, [("big.jpg", oversize)])
    assert r.status_code == 422 and "big.jpg" in r.json["errors"]["photos"]
    r = complaint(client, unit.id, description="漏" * 2001)
    assert r.status_code == 422 and set(r.json["errors"]) == {"description"}
    assert count(Photo) == 0 and count(WorkOrder) == 0


@pytest.fixture
def order_in_progress(client, login_as, door):
    hk, unit = door
    engineer = make_user(Role.ENGINEER)
    login_as(hk)
    order_id = complaint(client, unit.id).json["work_order_id"]
    client.post("/logout")
    login_as(engineer)
    for action in ("accept", "start"):
        assert client.post(f"/workorders/{order_id}/{action}", headers=JSON).status_code == 200
    return order_id


def test_work_order_close_applies_the_limits(client, order_in_progress):
    order_id = order_in_progress
    events = count(WorkOrderEvent)

    def close(notes, photos):
        return post_multipart(client, f"/workorders/{order_id}/close", {"repair_notes": notes},
                              [("photos", n, c) for n, c in photos], JSON)
    r = close("x" * 10_000, [("after.jpg", make_jpeg())])
    assert r.status_code == 422 and "2000" in r.json["message"]
    r = close("x" * 1_000_000, [("after.jpg", make_jpeg())])
    assert r.status_code == 413 and r.json["error"] == "too_large"
    r = close("修好了", [(f"a{i}.jpg", make_jpeg(color=(i, 1, 1))) for i in range(20)])
    assert r.status_code == 422
    r = client.post(f"/workorders/{order_id}/note", data={"note": "y" * 10_000},
                    headers=JSON)
    assert r.status_code == 422
    db.session.expire_all()
    order = db.session.get(WorkOrder, order_id)
    assert order.status.value == "in_progress" and order.repair_notes == ""
    assert count(WorkOrderEvent) == events and count(Photo) == 0
    assert close("修好了", [("after.jpg", make_jpeg())]).status_code == 200


def test_limits_come_from_one_table(app, client, login_as, door):
    """Shrinking the table shrinks every route that takes photos."""
    hk, unit = door
    login_as(hk)
    app.config["LIMITS"] = replace(DEFAULT, photos_per_request=1)
    two = [("a.jpg", make_jpeg()), ("b.jpg", make_jpeg(color=(1, 2, 3)))]
    assert post_visit(client, unit.id, two).status_code == 422
    assert complaint(client, unit.id, two).status_code == 422
    assert count(Promise) == 0 and count(Photo) == 0


def test_the_same_photo_chosen_twice_is_one_photo(client, login_as, door):
    """Two identical files in one visit or complaint once failed a unique index (500)."""
    hk, unit = door
    login_as(hk)
    same = make_jpeg()
    assert post_visit(client, unit.id, [("a.jpg", same), ("b.jpg", same)]).status_code == 201
    assert complaint(client, unit.id, [("a.jpg", same), ("b.jpg", same)]).status_code == 201
    assert count(Photo) == 1 and count(VisitPhoto) == 1


def test_nul_characters_are_dropped_from_text(client, login_as, door):
    """No keyboard types NUL and PostgreSQL cannot store it: it once made any text a 500."""
    hk, unit = door
    login_as(hk)
    r = complaint(client, unit.id, description="漏\x00水")
    assert r.status_code == 201
    assert db.session.get(WorkOrder, r.json["work_order_id"]).complaint.description == "漏水"


def test_concurrent_first_failures_of_one_username_are_counted_without_a_500(app):
    """Two first failures at once once collided on the throttle's key."""
    import threading
    make_user(username="target")
    statuses, barrier = [], threading.Barrier(4)

    def guess():
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post("/login", data={"username": "target",
                                                    "password": "guess"}).status_code)
    threads = [threading.Thread(target=guess) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [401] * 4


def test_guessing_the_current_password_is_slowed_down(client, login_as):
    """A borrowed, signed-in phone cannot guess its owner's password at full speed."""
    from .factories import PASSWORD
    user = make_user(Role.HOUSEKEEPER, locale="en")
    login_as(user)
    form = {"new_password": "a brand new passphrase", "confirm_password": "a brand new passphrase"}
    for _ in range(4):
        r = client.post("/account/password", data={**form, "current_password": "guess"})
        assert r.status_code == 422 and "not your current password" in r.get_data(as_text=True)
    r = client.post("/account/password", data={**form, "current_password": "guess"})
    assert "Too many wrong passwords. Please wait 15 seconds" in r.get_data(as_text=True)
    r = client.post("/account/password", data={**form, "current_password": PASSWORD})
    assert r.status_code == 422 and "Too many wrong passwords" in r.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/route?endpoint=units.card", "/route?_external=1&sort=walk",
                                 "/route/buildings?bq=1&endpoint=x&_anchor=y",
                                 "/audit?endpoint=x&_scheme=https"])
def test_query_arguments_url_for_takes_as_its_own_are_dropped(client, login_as, door, app,
                                                              url):
    """Links keep the page's query: a typed `endpoint` or `_external` was passed on to
    url_for as its own argument (a 500, or links made absolute from the Host header)."""
    app.config["ROUTE_BUILDING_CHOICES"] = 0  # the building search, for /route/buildings
    login_as(make_user(Role.ADMIN))
    response = client.get(url)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "http://localhost" not in page and "endpoint=" not in page and "_anchor" not in page
