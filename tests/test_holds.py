"""Fix first, then collect: while any work order of a unit is not closed, every dunning
action (each kind of notice, a promise request) is refused with 409 naming the order, in
every unclosed state; visits that are not dunning still go through."""
from __future__ import annotations

import io
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from fieldapp.domain.holds import (
    DunningHold,
    ensure_can_dun,
    is_dunning,
    open_work_order,
    refresh_hold,
)
from fieldapp.extensions import db
from fieldapp.models import (
    Complaint,
    NoticeType,
    Outcome,
    Role,
    Unit,
    Visit,
    WorkOrder,
    WorkOrderStatus,
)

from .factories import TODAY, make_bill, make_building, make_unit, make_user
from .photos import make_jpeg

JSON = {"Accept": "application/json"}
S = WorkOrderStatus

NOTICES = [n.value for n in NoticeType if n is not NoticeType.NONE]
PROMISE = {"outcome": "promised", "reason": "hardship", "promise_date": "2026-12-01",
           "promise_amount": "100"}
# Every dunning action, each valid in itself: a refusal can only come from the hold.
MET_PROMISE = {"outcome": "met_owner", "reason": "hardship", "promise_date": "2026-12-01",
               "promise_amount": "100"}  # today's form: who was met, then the promise
DUNNING = {f"notice:{n}": {"outcome": "nobody_home", "notice_type": n, "delivery": "door"}
           for n in NOTICES} | {"promise": PROMISE, "promise when met": MET_PROMISE,
                                "promise when the occupant was met":
                                    {**MET_PROMISE, "outcome": "met_occupant"}}
NOT_DUNNING = {
    "repair check": {"outcome": "met_owner", "reason": "service", "service_category": "leak",
                     "notes": "问维修进度"},
    "nobody home": {"outcome": "nobody_home"},
    "paid on the spot": {"outcome": "paid_on_site", "paid_amount": "50", "payment_ref": "WX9"},
}


@pytest.mark.parametrize("outcome", list(Outcome))
@pytest.mark.parametrize("notice", list(NoticeType))
@pytest.mark.parametrize("promise", [False, True])
def test_dunning_is_any_notice_or_a_promise_request(outcome, notice, promise):
    """Delivering any notice, or asking for a promise (the old "promised" outcome or a
    promise date under any outcome), is dunning; nothing else is."""
    assert is_dunning(outcome, notice, promise) is (notice is not NoticeType.NONE
                                                    or outcome is Outcome.PROMISED or promise)



def test_without_a_promise_date_a_visit_is_not_a_promise_request():
    """Called without the promise flag, a plain visit with no notice is not dunning."""
    assert is_dunning(Outcome.NOBODY_HOME, NoticeType.NONE) is False


@pytest.fixture
def estate(app):
    building = make_building()
    unit = make_unit(building)
    make_bill(unit, 80_000, TODAY - timedelta(days=70))
    hk = make_user(Role.HOUSEKEEPER, buildings=[building])
    engineer = make_user(Role.ENGINEER)
    return hk, engineer, unit


def post(client, url, fields, photo=False):
    data = dict(fields)
    if photo:
        data["photos"] = [(io.BytesIO(make_jpeg()), "door.jpg")]
    return client.post(url, data=data, headers=JSON, content_type="multipart/form-data")


def visit(client, unit_id, fields):
    notice = fields.get("notice_type", "none") != "none"
    return post(client, f"/units/{unit_id}/visits",
                {"client_uuid": str(uuid.uuid4()), **fields}, photo=notice)


def complain(client, unit_id) -> int:
    r = post(client, f"/units/{unit_id}/complaints",
             {"client_uuid": str(uuid.uuid4()), "category": "leak",
              "description": "屋顶漏水"}, photo=True)
    assert r.status_code == 201, r.json
    return r.json["work_order_id"]


def switch(client, login_as, who):
    client.post("/logout")
    login_as(who)


def bring_to(state: str, client, login_as, hk, engineer, unit) -> int:
    """File a complaint as the housekeeper and move its order to `state` for real."""
    login_as(hk)
    order_id = complain(client, unit.id)
    steps = {"open": [], "accepted": ["accept"], "in_progress": ["accept", "start"],
             "reopened": ["accept", "start", "close"], "closed": ["accept", "start", "close"]}
    if steps[state]:
        switch(client, login_as, engineer)
        for action in steps[state]:
            fields = {"repair_notes": "更换防水层"} if action == "close" else {}
            r = post(client, f"/workorders/{order_id}/{action}", fields,
                     photo=action == "close")
            assert r.status_code == 200, r.json
        switch(client, login_as, hk)
    if state == "reopened":
        r = client.post(f"/units/{unit.id}/satisfaction", data={"satisfied": "no",
                                                               "note": "还在漏"})
        assert r.status_code == 303
    return order_id


UNCLOSED = ["open", "accepted", "in_progress", "reopened"]


@pytest.mark.parametrize("state", UNCLOSED)
def test_every_dunning_action_is_refused_in_every_unclosed_state(client, login_as, estate,
                                                                   state):
    """409 with the order's number, for each notice kind and a promise; nothing stored.
    The domain check that every dunning path uses names the same order."""
    hk, engineer, unit = estate
    order_id = bring_to(state, client, login_as, hk, engineer, unit)
    with pytest.raises(DunningHold) as e:
        ensure_can_dun(db.session, unit.id)
    assert e.value.work_order.id == order_id
    assert f"work order {order_id}" in str(e.value) and f"unit {unit.id}" in str(e.value)
    for action, fields in DUNNING.items():
        r = visit(client, unit.id, fields)
        assert r.status_code == 409, (state, action, r.status_code, r.json)
        assert r.json["error"] == "dunning_hold" and r.json["work_order_id"] == order_id
        assert f"#{order_id}" in r.json["message"], action
    assert db.session.scalar(select(func.count()).select_from(Visit)) == 0
    assert db.session.get(Unit, unit.id).on_hold


@pytest.mark.parametrize("state", UNCLOSED)
def test_visits_that_do_not_dun_go_through_while_on_hold(client, login_as, estate, state):
    """Checking on the repair, finding nobody, taking a payment: still logged (201)."""
    hk, engineer, unit = estate
    bring_to(state, client, login_as, hk, engineer, unit)
    for name, fields in NOT_DUNNING.items():
        r = visit(client, unit.id, fields)
        assert r.status_code == 201, (state, name, r.json)
    assert db.session.scalar(select(func.count()).select_from(Visit)) == len(NOT_DUNNING)


def test_once_closed_every_dunning_action_is_allowed_again(client, login_as, estate):
    """Closing the repair lifts the hold: notices and promises are taken (201)."""
    hk, engineer, unit = estate
    bring_to("closed", client, login_as, hk, engineer, unit)
    for action, fields in DUNNING.items():
        assert visit(client, unit.id, fields).status_code == 201, action
    stored = db.session.get(Unit, unit.id)
    assert not stored.on_hold and stored.rectified_at is not None


@pytest.mark.parametrize("state", UNCLOSED)
def test_the_held_unit_is_shown_as_held_everywhere(client, login_as, estate, state):
    """In every unclosed state: the route list's repair-pending section (even when it is
    the patch's only overdue unit), the card's banner and the visit form's note say so."""
    hk, engineer, unit = estate
    bring_to(state, client, login_as, hk, engineer, unit)
    route = client.get("/route").get_data(as_text=True)
    main, rest = route.split('class="held card"')  # repairs pending, below the list
    held = rest.split("</details>", 1)[0]
    assert f'data-unit-id="{unit.id}"' in held and f'data-unit-id="{unit.id}"' not in main
    assert "empty-state" not in main  # not "nothing overdue": the unit waits for its repair
    assert "hold-banner" in client.get(f"/units/{unit.id}").get_data(as_text=True)
    assert "hold-note" in client.get(f"/units/{unit.id}/visits/new").get_data(as_text=True)


def test_a_plain_form_post_on_hold_gets_the_form_back_with_the_reason(client, login_as, estate):
    """Without JavaScript: 409, the message naming the order, and what was typed kept."""
    hk, engineer, unit = estate
    order_id = bring_to("accepted", client, login_as, hk, engineer, unit)
    r = client.post(f"/units/{unit.id}/visits", content_type="multipart/form-data", data={
        "outcome": "nobody_home", "notice_type": "demand_letter", "delivery": "handed",
        "notes": "贴在门上", "photos": [(io.BytesIO(make_jpeg()), "door.jpg")]})
    html = r.get_data(as_text=True)
    assert r.status_code == 409 and f"#{order_id}" in html and "贴在门上" in html


def test_a_unit_without_repairs_can_be_dunned(estate):
    """No work order, no hold."""
    _, _, unit = estate
    assert ensure_can_dun(db.session, unit.id) is None
    assert open_work_order(db.session, unit.id) is None


def order_for(unit, status: S, opened_minutes_ago: int) -> WorkOrder:
    """A work order in `status`, with the complaint it comes from."""
    complaint = Complaint(client_uuid=str(uuid.uuid4()), unit_id=unit.id, category="leak",
                          description="漏水", created_by=make_user(Role.HOUSEKEEPER).id)
    order = WorkOrder(complaint=complaint, unit_id=unit.id, category="leak", status=status,
                      opened_at=datetime.now(timezone.utc)
                      - timedelta(minutes=opened_minutes_ago))
    db.session.add_all([complaint, order])
    db.session.flush()
    return order


def test_the_oldest_unclosed_order_is_the_one_named(estate):
    """With several repairs pending the hold names the one opened first; a closed order
    never holds, however old."""
    _, _, unit = estate
    order_for(unit, S.CLOSED, 500)
    newer = order_for(unit, S.IN_PROGRESS, 10)
    older = order_for(unit, S.ACCEPTED, 60)
    assert open_work_order(db.session, unit.id).id == older.id
    older.status = S.CLOSED
    db.session.flush()
    assert open_work_order(db.session, unit.id).id == newer.id


def test_orders_opened_at_the_same_moment_name_the_first_filed(estate):
    """Two repairs filed in the same instant: the hold names the one filed first,
    whatever their states."""
    _, _, unit = estate
    first = order_for(unit, S.IN_PROGRESS, 30)
    second = order_for(unit, S.ACCEPTED, 30)
    second.opened_at = first.opened_at
    db.session.flush()
    assert first.id < second.id
    assert open_work_order(db.session, unit.id).id == first.id


def test_another_units_repair_does_not_hold_this_unit(estate):
    """The hold is per unit: a neighbour's leak does not stop this unit's dunning."""
    _, _, unit = estate
    neighbour = make_unit(unit.building)
    order_for(neighbour, S.OPEN, 5)
    assert open_work_order(db.session, unit.id) is None


def test_refresh_hold_keeps_the_flag_and_marks_rectified_only_on_the_last_close(estate):
    """Held while any order is open; rectified when the last one closes; a new repair
    clears "rectified" again."""
    _, _, unit = estate
    first, second = order_for(unit, S.OPEN, 20), order_for(unit, S.OPEN, 10)
    moments = [datetime(2026, 11, 22, h, tzinfo=timezone.utc) for h in (8, 9, 10, 11)]
    refresh_hold(db.session, unit, moments[0])
    assert unit.on_hold and unit.rectified_at is None
    first.status = S.CLOSED
    refresh_hold(db.session, unit, moments[1])
    assert unit.on_hold and unit.rectified_at is None
    second.status = S.CLOSED
    refresh_hold(db.session, unit, moments[2])
    assert not unit.on_hold and unit.rectified_at == moments[2]
    refresh_hold(db.session, unit, moments[3])  # nothing changed: the date stays
    assert unit.rectified_at == moments[2]
    order_for(unit, S.OPEN, 0)
    refresh_hold(db.session, unit, moments[3])
    assert unit.on_hold and unit.rectified_at is None


def test_the_hold_message_is_the_sentence_naming_the_order_and_its_category(app, estate):
    """Word for word: the order's number, its category in the user's words, and what may
    still be done."""
    from flask_babel import gettext

    from fieldapp.domain.holds import hold_message
    from fieldapp.visits.choices import label
    hk, _, unit = estate
    complaint = Complaint(client_uuid=str(uuid.uuid4()), unit_id=unit.id, category="lift",
                          description="电梯", created_by=hk.id)
    order = WorkOrder(complaint=complaint, unit_id=unit.id, category="lift")
    db.session.add(order)
    db.session.commit()
    with app.test_request_context():
        expected = gettext(
            "This unit is on dunning hold until work order #%(id)s (%(category)s) is "
            "closed: fix first, then collect. You can still log a visit to check on the "
            "repair, without a notice or a promise.",
            id=order.id, category=label("service_category", order.category))
        assert hold_message(order) == expected
        assert f"#{order.id}" in expected and label("service_category", "lift") in expected
