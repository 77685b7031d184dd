"""A repair's life in the work order services: filing, accepting, closing with notes and
after-photos, reopening, notes, assignment and the owner's verdict, each an event on the
order's own timeline and an audit record, each keeping the unit's hold true."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from fieldapp.domain.workorders import WorkOrderRefused
from fieldapp.extensions import db
from fieldapp.models import (
    AuditEvent,
    Complaint,
    Role,
    ServiceCategory,
    Unit,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderStatus,
)
from fieldapp.photos.evidence import Upload
from fieldapp.photos.storage import LocalStorage
from fieldapp.workorders.services import (
    ComplaintInput,
    act,
    add_note,
    assign,
    file_complaint,
    latest_closed,
    record_satisfaction,
)

from .factories import TODAY, make_bill, make_building, make_unit, make_user
from .photos import make_jpeg

S = WorkOrderStatus
UTC = timezone.utc


@pytest.fixture
def repair(app, tmp_path):
    """A held unit: its housekeeper filed a leak with one photo. Runs inside a request, as
    the services do, so a refusal can say why in the user's language."""
    with app.test_request_context():
        yield _filed(tmp_path)


def _filed(tmp_path):
    building = make_building()
    unit = make_unit(building)
    make_bill(unit, 80_000, TODAY - timedelta(days=70))
    hk = make_user(Role.HOUSEKEEPER, buildings=[building])
    engineer = make_user(Role.ENGINEER)
    store = LocalStorage(str(tmp_path / "store"))
    complaint, created = file_complaint(
        db.session, store, unit, hk,
        ComplaintInput(str(uuid.uuid4()), ServiceCategory.LEAK, "屋顶漏水"),
        [Upload("leak.jpg", make_jpeg(), {})], tz=UTC)
    assert created
    return hk, engineer, unit, complaint.work_order, store


def photo(color) -> list[Upload]:
    return [Upload("after.jpg", make_jpeg(color=color), {})]


def events(order) -> list[tuple[str, int | None, str]]:
    db.session.expire_all()
    return [(e.action, e.user_id, e.note) for e in db.session.scalars(
        select(WorkOrderEvent).where(WorkOrderEvent.work_order_id == order.id)
        .order_by(WorkOrderEvent.id))]


def audit(action: str) -> list[AuditEvent]:
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_filing_opens_an_order_for_the_unit_and_holds_it(repair):
    """The complaint keeps its words, photo and author; its order is open for the same
    unit and category; the unit is on hold and no longer "rectified"."""
    hk, _, unit, order, _ = repair
    complaint = db.session.get(Complaint, order.complaint_id)
    assert (complaint.unit_id, complaint.created_by, complaint.description) == \
        (unit.id, hk.id, "屋顶漏水")
    assert (complaint.category, complaint.visit_id) == (ServiceCategory.LEAK, None)
    assert [p.position for p in complaint.photos] == [0]
    assert (order.unit_id, order.category, order.status) == (unit.id, ServiceCategory.LEAK, S.OPEN)
    assert events(order) == [("filed", hk.id, "屋顶漏水")]
    [created] = audit("complaint.create")
    assert (created.user_id, created.entity, created.entity_id, created.unit_id,
            created.detail) == (hk.id, "complaint", complaint.id, unit.id, {"category": "leak"})
    [filed] = audit("work_order.filed")
    assert (filed.user_id, filed.entity, filed.entity_id, filed.unit_id, filed.detail) == \
        (hk.id, "work_order", order.id, unit.id, {"status": "open"})
    stored = db.session.get(Unit, unit.id)
    assert stored.on_hold and stored.rectified_at is None


def test_the_same_complaint_sent_again_by_its_author_is_the_first_one(repair):
    """Resending the same client_uuid from the same form returns the filed complaint."""
    hk, _, unit, order, store = repair
    first = db.session.get(Complaint, order.complaint_id)
    again, created = file_complaint(
        db.session, store, unit, hk,
        ComplaintInput(first.client_uuid, ServiceCategory.LEAK, "屋顶漏水"), [], tz=UTC)
    assert (created, again.id) == (False, first.id)
    assert len(db.session.scalars(select(WorkOrder)).all()) == 1


def test_a_complaint_filed_inside_a_visit_waits_for_the_visits_commit(repair):
    """With commit=False the complaint is flushed but left to the caller's transaction."""
    hk, _, unit, _, store = repair
    complaint, _ = file_complaint(db.session, store, unit, hk,
                                  ComplaintInput(str(uuid.uuid4()), ServiceCategory.LIFT, "电梯"),
                                  [], tz=UTC, commit=False)
    db.session.rollback()
    assert db.session.scalar(select(Complaint).where(Complaint.description == "电梯")) is None


def test_accepting_makes_the_order_the_engineers(repair):
    """An engineer accepting an unassigned order becomes its engineer; the hold stays."""
    _, engineer, unit, order, store = repair
    act(db.session, store, order, engineer, "accept")
    assert (order.status, order.engineer_id) == (S.ACCEPTED, engineer.id)
    assert events(order)[-1] == ("accept", engineer.id, "")
    [accepted] = audit("work_order.accept")
    assert (accepted.unit_id, accepted.detail) == (unit.id, {"status": "accepted"})
    assert db.session.get(Unit, unit.id).on_hold


def test_accepting_an_assigned_order_keeps_its_engineer(repair):
    """A supervisor accepting an order assigned to an engineer does not take it over."""
    _, engineer, _, order, store = repair
    boss = make_user(Role.SUPERVISOR)
    assign(db.session, order, boss, engineer)
    act(db.session, store, order, boss, "accept")
    assert order.engineer_id == engineer.id


def close(repair, notes="  更换防水层  ", uploads=None):
    _, engineer, _, order, store = repair
    act(db.session, store, order, engineer, "accept")
    act(db.session, store, order, engineer, "start")
    return act(db.session, store, order, engineer, "close", note=notes,
               uploads=uploads if uploads is not None else photo((1, 2, 3)))


def test_closing_records_the_repair_and_lifts_the_hold(repair, shanghai_clock):
    """Notes (trimmed), after-photos and the time (UTC, whatever the machine's zone) are
    kept; the unit is rectified."""
    _, engineer, unit, order, _ = repair
    before = datetime.now(UTC)
    close(repair, uploads=photo((1, 2, 3)) + photo((4, 5, 6)))
    assert order.status == S.CLOSED and order.repair_notes == "更换防水层"
    assert [p.position for p in order.after_photos] == [0, 1]
    closed_at = order.closed_at if order.closed_at.tzinfo else order.closed_at.replace(tzinfo=UTC)
    assert before <= closed_at <= datetime.now(UTC)
    assert order.owner_satisfied is None
    assert [a for a, _, _ in events(order)] == ["filed", "accept", "start", "close"]
    assert events(order)[-1] == ("close", engineer.id, "更换防水层")
    stored = db.session.get(Unit, unit.id)
    assert not stored.on_hold and stored.rectified_at is not None


def test_reopening_counts_and_brings_the_hold_back(repair):
    """Each reopening is counted, clears the closing time and the verdict, and holds."""
    hk, engineer, unit, order, store = repair
    close(repair)
    act(db.session, store, order, hk, "reopen", note="第一次")
    for action in ("accept", "start"):
        act(db.session, store, order, engineer, action)
    act(db.session, store, order, engineer, "close", note="再修", uploads=photo((5, 5, 5)))
    act(db.session, store, order, hk, "reopen", note=" 还在漏 ")
    assert (order.status, order.reopen_count, order.closed_at) == (S.OPEN, 2, None)
    assert order.owner_satisfied is False
    assert events(order)[-1] == ("reopen", hk.id, "还在漏")
    stored = db.session.get(Unit, unit.id)
    assert stored.on_hold and stored.rectified_at is None


def test_a_second_closing_adds_its_photos_after_the_first(repair):
    """After a reopening, the new after-photos follow the old ones; a photo already on the
    order is not added twice."""
    hk, engineer, _, order, store = repair
    close(repair, uploads=photo((1, 1, 1)))
    first_photo = order.after_photos[0].photo_id
    act(db.session, store, order, hk, "reopen", note="还在漏")
    act(db.session, store, order, engineer, "accept")
    act(db.session, store, order, engineer, "start")
    act(db.session, store, order, engineer, "close", note="再修",
        uploads=photo((1, 1, 1)) + photo((2, 2, 2)))
    positions = [(p.position, p.photo_id) for p in order.after_photos]
    assert len(positions) == 2 and positions == sorted(positions)
    assert positions[0][1] == first_photo
    assert order.reopen_count == 1


def test_a_refused_action_changes_nothing(app, repair):
    """A refusal raises before anything is written: no event, no status change."""
    _, engineer, _, order, store = repair
    with pytest.raises(WorkOrderRefused):
        act(db.session, store, order, engineer, "start")
    db.session.rollback()
    assert db.session.get(WorkOrder, order.id).status == S.OPEN
    assert [a for a, _, _ in events(order)] == ["filed"]


def test_notes_are_events_and_need_words(repair):
    """A note is kept, trimmed, under its author; an empty note is refused."""
    hk, engineer, _, order, _ = repair
    add_note(db.session, order, engineer, "  明天带梯子  ")
    assert events(order)[-1] == ("note", engineer.id, "明天带梯子")
    with pytest.raises(WorkOrderRefused):
        add_note(db.session, order, engineer, "   ")
    assert len(audit("work_order.note")) == 1


def test_assigning_needs_an_engineer_and_an_unclosed_order(repair):
    """Only an engineer can be assigned, and only while the order is not closed; each
    assignment is an event naming the engineer."""
    hk, engineer, _, order, store = repair
    boss = make_user(Role.SUPERVISOR)
    assign(db.session, order, boss, engineer)
    assert order.engineer_id == engineer.id
    assert events(order)[-1] == ("assigned", boss.id, engineer.display_name)
    unnamed = make_user(Role.ENGINEER, display_name="")
    assign(db.session, order, boss, unnamed)
    assert events(order)[-1] == ("assigned", boss.id, unnamed.username)
    with pytest.raises(WorkOrderRefused):
        assign(db.session, order, boss, hk)
    act(db.session, store, order, unnamed, "accept")
    act(db.session, store, order, unnamed, "start")
    act(db.session, store, order, unnamed, "close", note="好了", uploads=photo((7, 7, 7)))
    with pytest.raises(WorkOrderRefused):
        assign(db.session, order, boss, engineer)


def test_the_latest_closed_repair_is_the_one_asked_about(repair):
    """With several closed repairs, the owner is asked about the one closed last."""
    hk, engineer, unit, order, store = repair
    close(repair)
    second, _ = file_complaint(db.session, store, unit, hk,
                               ComplaintInput(str(uuid.uuid4()), ServiceCategory.LIFT, "电梯"),
                               [], tz=UTC)
    newer = second.work_order
    for action in ("accept", "start"):
        act(db.session, store, newer, engineer, action)
    act(db.session, store, newer, engineer, "close", note="修好", uploads=photo((8, 8, 8)))
    assert latest_closed(db.session, unit.id).id == newer.id
    newer.closed_at = order.closed_at - timedelta(days=1)
    db.session.commit()
    assert latest_closed(db.session, unit.id).id == order.id
    newer.closed_at = order.closed_at  # closed in the same instant: the later filed wins
    db.session.commit()
    assert latest_closed(db.session, unit.id).id == newer.id
    assert latest_closed(db.session, unit.id + 1000) is None


def test_a_satisfied_owner_ends_rectified_without_reopening(repair):
    """"Satisfied" is recorded on the order with the owner's words; the unit is neither
    held nor rectified any more."""
    hk, _, unit, order, store = repair
    close(repair)
    assert record_satisfaction(db.session, store, unit, hk, True, " 满意 ").id == order.id
    assert (order.status, order.owner_satisfied) == (S.CLOSED, True)
    assert events(order)[-1] == ("satisfied", hk.id, "满意")
    stored = db.session.get(Unit, unit.id)
    assert stored.rectified_at is None and not stored.on_hold


def test_an_unsatisfied_owner_reopens_the_repair(repair):
    """"Not satisfied" reopens the last closed order with the owner's words."""
    hk, _, unit, order, store = repair
    close(repair)
    assert record_satisfaction(db.session, store, unit, hk, False, "还在漏").id == order.id
    assert (order.status, order.reopen_count) == (S.OPEN, 1)
    assert events(order)[-1] == ("reopen", hk.id, "还在漏")
    assert db.session.get(Unit, unit.id).on_hold


def test_no_closed_repair_no_verdict(repair):
    """Asking about satisfaction before any repair is closed is refused."""
    hk, _, unit, _, store = repair
    with pytest.raises(WorkOrderRefused):
        record_satisfaction(db.session, store, unit, hk, True, "")


def test_after_photos_keep_their_capture_time_in_the_company_zone(repair):
    """An after-photo taken at 10:00 in Shanghai is stored as taken at 02:00 UTC."""
    _, engineer, _, order, store = repair
    act(db.session, store, order, engineer, "accept")
    act(db.session, store, order, engineer, "start")
    act(db.session, store, order, engineer, "close", note="好了", tz=ZoneInfo("Asia/Shanghai"),
        uploads=[Upload("after.jpg", make_jpeg(taken="2026:11:21 10:00:00"), {})])
    taken = order.after_photos[0].photo.taken_at
    assert taken.replace(tzinfo=taken.tzinfo or UTC) == datetime(2026, 11, 21, 2, tzinfo=UTC)


def test_complaint_photos_keep_their_capture_time_in_the_company_zone(repair):
    """A complaint photo taken at 10:00 in Shanghai is stored as taken at 02:00 UTC."""
    hk, _, unit, _, store = repair
    complaint, _ = file_complaint(
        db.session, store, unit, hk, ComplaintInput(str(uuid.uuid4()), ServiceCategory.LIFT, "电梯"),
        [Upload("lift.jpg", make_jpeg(taken="2026:11:21 10:00:00", color=(3, 3, 3)), {})],
        tz=ZoneInfo("Asia/Shanghai"))
    taken = complaint.photos[0].photo.taken_at
    assert taken.replace(tzinfo=taken.tzinfo or UTC) == datetime(2026, 11, 21, 2, tzinfo=UTC)
