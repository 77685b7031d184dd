"""Recording a visit (visits/services.py and the form's helpers): every field kept as
checked, photos in order, the distance from the building and its flag, the promise or
payment it carries, the unit's summary and the audit trail, a complaint filed with it."""
from __future__ import annotations

import io
import uuid
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from fieldapp.domain.visits import check_visit
from fieldapp.extensions import db
from fieldapp.limits import DEFAULT
from fieldapp.models import (
    AuditEvent,
    Complaint,
    FieldPayment,
    Promise,
    PromiseStatus,
    Role,
    Unit,
    Visit,
    WorkOrder,
)
from fieldapp.photos.evidence import Upload
from fieldapp.photos.storage import LocalStorage
from fieldapp.visits.choices import label
from fieldapp.visits.services import payload_sha256, record_visit

from .conftest import has_chinese
from .factories import TODAY, make_bill, make_building, make_payment, make_unit, make_user
from .photos import make_jpeg

JSON = {"Accept": "application/json"}
LAT, LON = 31.2304, 121.4737  # the factories' building


@pytest.fixture
def door(app, tmp_path):
    building = make_building()
    unit = make_unit(building)
    make_bill(unit, 100_000, TODAY - timedelta(days=90))
    hk = make_user(Role.HOUSEKEEPER, buildings=[building])
    return hk, unit, LocalStorage(str(tmp_path / "store"))


def record(door, photos=(), tz=timezone.utc, **form):
    hk, unit, store = door
    form.setdefault("client_uuid", str(uuid.uuid4()))
    data = check_visit(form, photo_count=len(photos), arrears_fen=unit.arrears_fen, today=TODAY,
                       promise_horizon_days=30)
    assert data.errors == {}, data.errors
    uploads = [Upload(name, content, meta) for name, content, meta in photos]
    return record_visit(db.session, store, unit, hk, data, uploads, today=TODAY, tz=tz)


def as_utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes even for timezone-aware columns.
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def test_every_checked_field_is_stored(door, shanghai_clock):
    """What the form check kept is what the visit row holds, with who and where, at the
    server's time in UTC (whatever the machine's own zone)."""
    hk, unit, _ = door
    key = str(uuid.uuid4())
    before = datetime.now(timezone.utc)
    visit, created = record(door, client_uuid=key, outcome="met_owner", reason="service",
                            service_category="lift", reason_detail="电梯坏了",
                            notes="约了周六", lat=str(LAT), lon=str(LON), accuracy="8",
                            geo_error="", device_time="2026-11-22T01:02:03Z")
    assert before <= as_utc(visit.created_at) <= datetime.now(timezone.utc)
    db.session.expire_all()
    stored = db.session.get(Visit, visit.id)
    assert created and (stored.client_uuid, stored.unit_id, stored.user_id) == (key, unit.id, hk.id)
    assert (stored.outcome.value, stored.reason.value, stored.service_category.value) == \
        ("met_owner", "service", "lift")
    assert (stored.reason_detail, stored.notes) == ("电梯坏了", "约了周六")
    assert (stored.lat, stored.lon, stored.accuracy_m) == (LAT, LON, 8.0)
    assert stored.device_time.replace(tzinfo=timezone.utc).isoformat() == \
        "2026-11-22T01:02:03+00:00"
    assert stored.created_at is not None and stored.payload_sha256 == visit.payload_sha256
    assert (stored.notice_type.value, stored.delivery) == ("none", None)


def test_a_notice_is_stored_with_its_delivery_and_photos_in_order(door):
    """Photos keep the order they were taken in, with the phone's metadata."""
    visit, _ = record(door, photos=[("1.jpg", make_jpeg(color=(9, 0, 0)), {"n": 1}),
                                    ("2.jpg", make_jpeg(color=(0, 9, 0)), {"n": 2})],
                      outcome="nobody_home", notice_type="demand_letter", delivery="handed")
    db.session.expire_all()
    stored = db.session.get(Visit, visit.id)
    assert (stored.notice_type.value, stored.delivery.value) == ("demand_letter", "handed")
    assert [(p.position, p.client_meta) for p in stored.photos] == [(0, {"n": 1}), (1, {"n": 2})]


def test_photo_capture_times_are_read_in_the_company_time_zone(door):
    """A camera writes local time: 10:00 in Shanghai is stored as 02:00 UTC."""
    visit, _ = record(door, photos=[("d.jpg", make_jpeg(taken="2026:11:21 10:00:00"), {})],
                      tz=ZoneInfo("Asia/Shanghai"), outcome="nobody_home",
                      notice_type="reminder", delivery="door")
    taken = visit.photos[0].photo.taken_at
    assert taken.replace(tzinfo=taken.tzinfo or timezone.utc) == \
        datetime(2026, 11, 21, 2, 0, tzinfo=timezone.utc)


def test_the_stored_digest_is_of_the_visit_and_its_photos(door):
    """The visit's digest is what a repeat is compared with: its unit, fields and photos."""
    hk, unit, _ = door
    photo = make_jpeg()
    form = {"client_uuid": str(uuid.uuid4()), "outcome": "nobody_home",
            "notice_type": "reminder", "delivery": "door"}
    visit, _ = record(door, photos=[("d.jpg", photo, {})], **form)
    data = check_visit(form, photo_count=1, arrears_fen=unit.arrears_fen, today=TODAY,
                       promise_horizon_days=30)
    from fieldapp.photos.pipeline import sha256_of
    assert visit.payload_sha256 == payload_sha256(unit.id, data, [sha256_of(photo)])
    assert visit.payload_sha256 != payload_sha256(unit.id + 1, data, [sha256_of(photo)])
    assert visit.payload_sha256 != payload_sha256(unit.id, data, [])


@pytest.mark.parametrize("where,threshold,far", [
    ((LAT, LON), 0, False),            # at the door: 0 m is not beyond a 0 m threshold
    ((LAT + 0.001, LON), 150, False),  # about 111 m
    ((LAT + 0.001, LON), 100, True),
])
def test_distance_from_the_building_and_the_far_flag(door, where, threshold, far):
    """Metres from the building to one decimal; flagged only beyond the policy's
    threshold."""
    _, unit, _ = door
    unit.building.community.policy.gps_threshold_m = threshold
    db.session.commit()
    visit, _ = record(door, outcome="nobody_home", lat=str(where[0]), lon=str(where[1]))
    assert visit.far_from_building is far
    assert visit.distance_m == round(visit.distance_m, 1)
    assert (visit.distance_m == 0) is (where == (LAT, LON))
    assert where == (LAT, LON) or 105 < visit.distance_m < 115


def test_no_position_or_no_building_position_means_no_distance(door):
    """Without the phone's position, or the building's, no distance and no flag."""
    _, unit, _ = door
    visit, _ = record(door, outcome="nobody_home", geo_error="1")
    assert (visit.distance_m, visit.far_from_building, visit.geo_error) == (None, False, "denied")
    unit.building.lat = unit.building.lon = None
    db.session.commit()
    visit, _ = record(door, outcome="nobody_home", lat="0", lon="0")
    assert (visit.distance_m, visit.far_from_building) == (None, False)


def test_a_promise_visit_carries_its_promise(door):
    """A promise is stored for the unit, with its date and amount, open."""
    _, unit, _ = door
    visit, _ = record(door, outcome="promised", reason="hardship", promise_date="2026-12-05",
                      promise_amount="300")
    promise = db.session.scalar(select(Promise))
    assert (promise.unit_id, promise.due_date, promise.amount_fen) == \
        (unit.id, date(2026, 12, 5), 30_000)
    assert promise.status == PromiseStatus.OPEN and visit.promise.id == promise.id
    assert db.session.scalar(select(func.count()).select_from(FieldPayment)) == 0


def test_a_payment_on_the_spot_is_reported_not_booked(door):
    """A field payment is kept as reported; the bills stay as they are."""
    _, unit, _ = door
    record(door, outcome="paid_on_site", paid_amount="250.50", payment_ref="ZFB-1")
    reported = db.session.scalar(select(FieldPayment))
    assert (reported.unit_id, reported.amount_fen, reported.reference) == (unit.id, 25_050, "ZFB-1")
    assert db.session.scalar(select(func.count()).select_from(Promise)) == 0
    assert db.session.get(Unit, unit.id).arrears_fen == 100_000


def test_the_unit_summary_follows_the_latest_visit_and_the_soonest_open_promise(door):
    """Last visit and outcome are the newest visit's; the promise date is the unit's
    soonest promise still open (not a neighbour's)."""
    _, unit, _ = door
    record(door, outcome="promised", reason="hardship", promise_date="2026-12-10",
           promise_amount="100")
    record(door, outcome="promised", reason="hardship", promise_date="2026-12-03",
           promise_amount="100")
    make_payment(unit, 10_000, TODAY)  # covers the earliest due promise: 12-03 is kept
    soonest = db.session.scalar(select(Promise).where(Promise.due_date == date(2026, 12, 3)))
    assert soonest.status == PromiseStatus.KEPT
    neighbour = make_unit(unit.building)
    db.session.add(Promise(unit_id=neighbour.id, made_on=TODAY, due_date=date(2026, 11, 25),
                           amount_fen=100))
    db.session.commit()
    last, _ = record(door, outcome="nobody_home")
    stored = db.session.get(Unit, unit.id)
    assert stored.next_promise_date == date(2026, 12, 10)
    assert (stored.last_visit_outcome, stored.last_visit_at) == ("nobody_home", last.created_at)


def test_each_visit_leaves_an_audit_event(door):
    """Who logged which visit, at which unit, with what outcome, how many photos and how
    many review flags."""
    hk, unit, _ = door
    visit, _ = record(door, photos=[("d.jpg", make_jpeg(), {})], outcome="nobody_home",
                      notice_type="reminder", delivery="door")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "visit.create"))
    assert (event.user_id, event.entity, event.entity_id, event.unit_id) == \
        (hk.id, "visit", visit.id, unit.id)
    # No position and a photo without a capture time: two doubts for the review.
    assert sorted(f.kind.value for f in visit.flags) == ["exif_missing", "no_position"]
    assert event.detail == {"outcome": "nobody_home", "photos": 1, "flags": 2}


def test_a_repeat_changes_nothing(door):
    """The same submission again returns the stored visit, adds no row, no audit event."""
    key = str(uuid.uuid4())
    first, created = record(door, client_uuid=key, outcome="nobody_home")
    again, created_again = record(door, client_uuid=key, outcome="nobody_home")
    assert (created, created_again, again.id) == (True, False, first.id)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "visit.create")) == 1


def post(client, unit_id, **fields):
    data = {"client_uuid": str(uuid.uuid4()), "outcome": "met_owner", "reason": "service",
            "service_category": "leak", **fields}
    return client.post(f"/units/{unit_id}/visits", data=data, headers=JSON,
                       content_type="multipart/form-data")


def test_a_complaint_from_a_visit_belongs_to_it(client, login_as, door):
    """Ticking "open a repair" on a service visit files the complaint with the visit's
    category and words, linked to the visit, and holds the unit."""
    hk, unit, _ = door
    login_as(hk)
    r = post(client, unit.id, service_category="lift", complaint="1",
             complaint_description="  电梯经常停  ")
    complaint = db.session.scalar(select(Complaint))
    assert r.status_code == 201 and complaint.visit_id == r.json["visit_id"]
    assert (complaint.category.value, complaint.description) == ("lift", "电梯经常停")
    assert complaint.work_order.category.value == "lift"
    assert db.session.get(Unit, unit.id).on_hold


def test_a_complaint_up_to_its_limit_is_kept_and_a_longer_one_refused(client, login_as, door):
    """The repair description is kept whole up to its limit; one character more is refused
    by name (422, the limit in the message) and nothing is stored, so nothing is cut."""
    hk, unit, _ = door
    login_as(hk)
    limit = DEFAULT.text_limit("complaint_description")
    r = post(client, unit.id, complaint="1", complaint_description="漏" * (limit + 1))
    assert r.status_code == 422 and str(limit) in r.json["errors"]["complaint_description"]
    assert db.session.scalar(select(func.count()).select_from(Visit)) == 0
    assert db.session.scalar(select(func.count()).select_from(Complaint)) == 0
    r = post(client, unit.id, complaint="1", complaint_description="漏" * limit)
    assert r.status_code == 201
    assert db.session.scalar(select(Complaint.description)) == "漏" * limit


@pytest.mark.parametrize("fields", [
    {"complaint": "0", "complaint_description": "漏水"},
    {"complaint_description": "漏水"},
    {"complaint": "1", "complaint_description": "漏水", "reason": "hardship"},
])
def test_no_complaint_unless_asked_for_a_service_reason(client, login_as, door, fields):
    """Only the ticked box on a "dissatisfied with service" visit opens a repair."""
    hk, unit, _ = door
    login_as(hk)
    assert post(client, unit.id, **fields).status_code == 201
    assert db.session.scalar(select(func.count()).select_from(WorkOrder)) == 0


def test_a_complaint_needs_words(client, login_as, door):
    """Ticked without a description (or only spaces): refused, nothing stored."""
    hk, unit, _ = door
    login_as(hk)
    r = post(client, unit.id, complaint="1", complaint_description="   ")
    assert r.status_code == 422 and has_chinese(r.json["errors"]["complaint_description"])
    assert db.session.scalar(select(func.count()).select_from(Visit)) == 0


def test_two_visits_with_complaints_open_two_repairs(client, login_as, door):
    """Each visit's complaint is its own: a second one is not taken for a repeat."""
    hk, unit, _ = door
    login_as(hk)
    for words in ("电梯停了", "又漏水了"):
        assert post(client, unit.id, complaint="1", complaint_description=words).status_code == 201
    assert sorted(db.session.scalars(select(Complaint.description))) == ["又漏水了", "电梯停了"]
    assert db.session.scalar(select(func.count()).select_from(WorkOrder)) == 2


def test_the_hold_message_names_the_order_and_its_category(app, client, login_as, door):
    """The 409 says which work order and what it is about, in the user's words."""
    hk, unit, _ = door
    login_as(hk)
    post(client, unit.id, service_category="lift", complaint="1", complaint_description="电梯停了")
    order = db.session.scalar(select(WorkOrder))
    r = post(client, unit.id, outcome="promised", reason="hardship", promise_date="2026-12-01",
             promise_amount="10")
    assert r.status_code == 409 and has_chinese(r.json["message"])
    assert f"#{order.id}" in r.json["message"]
    with app.test_request_context():
        lift = label("service_category", "lift")
    assert lift != "lift" and lift in r.json["message"]


def test_the_form_page_keeps_the_way_back(client, login_as, door):
    """The visit form posts to, and returns to, the page it was opened from."""
    hk, unit, _ = door
    login_as(hk)
    page = client.get(f"/units/{unit.id}/visits/new?next=/route?page=2")
    assert page.status_code == 200
    assert 'data-next="/route?page=2"' in page.get_data(as_text=True)
    r = client.post(f"/units/{unit.id}/visits?next=/route?page=2",
                    data={"client_uuid": str(uuid.uuid4()), "outcome": "nobody_home"})
    assert r.status_code == 303 and r.headers["Location"] == f"/route?page=2&saved={unit.id}"
    unsafe = client.get(f"/units/{unit.id}/visits/new?next=//evil.example/").get_data(as_text=True)
    assert "evil.example" not in unsafe
    plain = client.get(f"/units/{unit.id}/visits/new").get_data(as_text=True)
    assert 'data-next="/route"' in plain  # by default, back to the route list


def test_a_refused_form_comes_back_with_the_policy_horizon(client, login_as, door):
    """The form page carries the community's promise horizon for the date picker."""
    hk, unit, _ = door
    unit.building.community.policy.promise_horizon_days = 12
    db.session.commit()
    login_as(hk)
    html = client.get(f"/units/{unit.id}/visits/new").get_data(as_text=True)
    assert 'max="2026-12-04"' in html


def test_a_complaint_from_a_visit_carries_the_visits_photos(client, login_as, door):
    """The photos taken at the door are the complaint's evidence too, in the same order."""
    hk, unit, _ = door
    login_as(hk)
    photos = [(io.BytesIO(make_jpeg(color=(c, 0, 0))), f"{c}.jpg") for c in (10, 20)]
    r = post(client, unit.id, complaint="1", complaint_description="墙面渗水", photos=photos)
    assert r.status_code == 201
    visit = db.session.get(Visit, r.json["visit_id"])
    complaint = db.session.scalar(select(Complaint))
    assert [p.photo_id for p in complaint.photos] == [p.photo_id for p in visit.photos]
    assert [p.position for p in complaint.photos] == [0, 1]


def test_a_visit_and_its_complaint_are_stored_together_or_not_at_all(door, monkeypatch):
    """If anything fails after the complaint is filed, neither the visit nor the
    complaint (nor the hold) is left behind."""
    from fieldapp.visits import services
    from fieldapp.workorders.services import ComplaintInput

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_update_unit_summary", fail)
    hk, unit, store = door
    form = {"client_uuid": str(uuid.uuid4()), "outcome": "met_owner", "reason": "service",
            "service_category": "leak"}
    data = check_visit(form, photo_count=0, arrears_fen=unit.arrears_fen, today=TODAY,
                       promise_horizon_days=30)
    complaint = ComplaintInput(str(uuid.uuid4()), data.service_category, "漏水")
    with pytest.raises(RuntimeError):
        record_visit(db.session, store, unit, hk, data, [], today=TODAY, tz=timezone.utc,
                     complaint=complaint)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Visit)) == 0
    assert db.session.scalar(select(func.count()).select_from(Complaint)) == 0
    assert not db.session.get(Unit, unit.id).on_hold


def test_a_copy_stored_between_the_check_and_the_insert_is_answered_with_it(door, monkeypatch):
    """The race of two copies: if the other copy commits after this one looked, the unique
    index refuses the insert and the stored visit is returned, not an error."""
    from fieldapp.visits import services
    key = str(uuid.uuid4())
    first, _ = record(door, client_uuid=key, outcome="nobody_home")
    real = services.find_repeat
    calls = []

    def late(*args, **kwargs):
        calls.append(args)
        return None if len(calls) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(services, "find_repeat", late)
    again, created = record(door, client_uuid=key, outcome="nobody_home")
    assert (again.id, created, len(calls)) == (first.id, False, 2)
    assert db.session.scalar(select(func.count()).select_from(Visit)) == 1


def test_a_reused_id_in_the_race_is_still_refused(door, monkeypatch):
    """The same race with a different visit behind the id: refused, not merged."""
    from fieldapp.visits import services
    from fieldapp.visits.services import ClientUuidReused
    key = str(uuid.uuid4())
    record(door, client_uuid=key, outcome="nobody_home")
    real = services.find_repeat
    calls = []

    def late(*args, **kwargs):
        calls.append(args)
        return None if len(calls) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(services, "find_repeat", late)
    with pytest.raises(ClientUuidReused):
        record(door, client_uuid=key, outcome="vacant")
