"""Fix first, then collect: complaints, the work order state machine, dunning hold."""
from __future__ import annotations

import io
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from fieldapp.domain.holds import DunningHold, ensure_can_dun, is_dunning
from fieldapp.domain.workorders import WorkOrderRefused, check_action
from fieldapp.extensions import db
from fieldapp.models import (
    AuditEvent,
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


@pytest.mark.parametrize("outcome,notice,dunning", [
    (Outcome.NOBODY_HOME, NoticeType.REMINDER, True),
    (Outcome.PROMISED, NoticeType.NONE, True),
    (Outcome.MET_OWNER, NoticeType.NONE, False),
    (Outcome.PAID_ON_SITE, NoticeType.NONE, False),
])
def test_what_counts_as_dunning(outcome, notice, dunning):
    assert is_dunning(outcome, notice) is dunning


def order_in(status: S, engineer_id=None) -> WorkOrder:
    return WorkOrder(status=status, engineer_id=engineer_id, unit_id=1, category="leak")


ENGINEER = type("U", (), {"role": Role.ENGINEER, "id": 7})()
OTHER_ENGINEER = type("U", (), {"role": Role.ENGINEER, "id": 8})()
SUPERVISOR = type("U", (), {"role": Role.SUPERVISOR, "id": 9})()
HOUSEKEEPER = type("U", (), {"role": Role.HOUSEKEEPER, "id": 10})()


@pytest.mark.parametrize("status,action,user,after", [
    (S.OPEN, "accept", ENGINEER, S.ACCEPTED),
    (S.ACCEPTED, "start", ENGINEER, S.IN_PROGRESS),
    (S.IN_PROGRESS, "close", ENGINEER, S.CLOSED),
    (S.IN_PROGRESS, "close", SUPERVISOR, S.CLOSED),
    (S.CLOSED, "reopen", HOUSEKEEPER, S.OPEN),
])
def test_allowed_transitions(status, action, user, after):
    order = order_in(status, engineer_id=7 if status != S.OPEN else None)
    assert check_action(order, action, user, note="fixed the seal", photo_count=1) == after


@pytest.mark.parametrize("status,action,user,note,photos", [
    (S.OPEN, "start", ENGINEER, "", 0),  # skips accept
    (S.OPEN, "close", ENGINEER, "done", 1),  # skips two states
    (S.ACCEPTED, "close", ENGINEER, "done", 1),
    (S.IN_PROGRESS, "close", ENGINEER, "", 1),  # no notes
    (S.IN_PROGRESS, "close", ENGINEER, "done", 0),  # no photo
    (S.IN_PROGRESS, "close", OTHER_ENGINEER, "done", 1),  # someone else's order
    (S.IN_PROGRESS, "close", HOUSEKEEPER, "done", 1),
    (S.CLOSED, "reopen", HOUSEKEEPER, "", 0),  # no reason
    (S.CLOSED, "reopen", ENGINEER, "not good", 0),
    (S.CLOSED, "close", ENGINEER, "done", 1),
])
def test_refused_transitions(status, action, user, note, photos):
    order = order_in(status, engineer_id=7)
    with pytest.raises(WorkOrderRefused):
        check_action(order, action, user, note=note, photo_count=photos)


@pytest.fixture
def estate(app):
    building = make_building()
    unit = make_unit(building)
    make_bill(unit, 80_000, TODAY - timedelta(days=70))
    hk = make_user(Role.HOUSEKEEPER, buildings=[building])
    engineer = make_user(Role.ENGINEER)
    return hk, engineer, unit


def file(client, unit_id, **fields):
    data = {"client_uuid": str(uuid.uuid4()), "category": "leak",
            "description": "屋顶漏水，卧室天花板发霉", **fields}
    data["photos"] = [(io.BytesIO(make_jpeg()), "leak.jpg")]
    return client.post(f"/units/{unit_id}/complaints", data=data, headers=JSON,
                       content_type="multipart/form-data")


def visit(client, unit_id, **fields):
    data = {"client_uuid": str(uuid.uuid4()), "outcome": "met_owner", "reason": "service",
            "service_category": "leak", **fields}
    return client.post(f"/units/{unit_id}/visits", data=data, headers=JSON,
                       content_type="multipart/form-data")


def test_complaint_opens_a_work_order_and_puts_the_unit_on_hold(client, login_as, estate):
    hk, _, unit = estate
    login_as(hk)
    r = file(client, unit.id)
    assert r.status_code == 201
    order = db.session.get(WorkOrder, r.json["work_order_id"])
    assert order.status == S.OPEN and order.complaint.id == r.json["complaint_id"]
    assert db.session.get(Unit, unit.id).on_hold
    with pytest.raises(DunningHold) as e:
        ensure_can_dun(db.session, unit.id)
    assert e.value.work_order.id == order.id
    again = file(client, unit.id, client_uuid=r.json["client_uuid"])
    assert again.status_code == 200 and again.json["work_order_id"] == order.id
    assert db.session.scalar(select(func.count()).select_from(Complaint)) == 1


@pytest.mark.parametrize("reuse", ["other_user", "other_unit", "other_text"])
def test_a_complaint_id_reused_for_another_complaint_is_refused(client, login_as, estate,
                                                                 reuse):
    """Another user's (or unit's, or text's) client_uuid answers 422 client_uuid_reused:
    never someone else's complaint, and nothing is filed under the borrowed id."""
    hk, _, unit = estate
    second = make_unit(unit.building)
    login_as(hk)
    first = file(client, unit.id).json
    if reuse == "other_user":
        client.post("/logout")
        login_as(make_user(Role.HOUSEKEEPER, buildings=[unit.building]))
    target = second if reuse in ("other_user", "other_unit") else unit
    fields = {"description": "电梯坏了"} if reuse == "other_text" else {}
    r = file(client, target.id, client_uuid=first["client_uuid"], **fields)
    assert r.status_code == 422 and r.json["error"] == "client_uuid_reused"
    assert "work_order_id" not in r.json and "complaint_id" not in r.json
    assert db.session.scalar(select(func.count()).select_from(Complaint)) == 1
    assert db.session.get(Unit, second.id).on_hold is False
    fresh = file(client, target.id)
    assert fresh.status_code == 201 and fresh.json["work_order_id"] != first["work_order_id"]


def test_dunning_on_hold_is_refused_with_409_naming_the_order(client, login_as, estate):
    """A promise or a notice for a held unit is refused with 409 naming the work order,
    as JSON and as the form page; a visit to check on the repair is still taken."""
    hk, _, unit = estate
    login_as(hk)
    order_id = file(client, unit.id).json["work_order_id"]
    r = visit(client, unit.id, outcome="promised", reason="hardship",
              promise_date="2026-12-01", promise_amount="100")
    assert r.status_code == 409
    assert r.json["error"] == "dunning_hold" and r.json["work_order_id"] == order_id
    assert f"#{order_id}" in r.json["message"]
    # A notice with its photo: valid in itself, so only the hold can refuse it.
    r = visit(client, unit.id, outcome="nobody_home", reason="", notice_type="reminder",
              delivery="door", photos=[(io.BytesIO(make_jpeg()), "door.jpg")])
    assert r.status_code == 409 and r.json["work_order_id"] == order_id
    html = client.post(f"/units/{unit.id}/visits", data={
        "outcome": "promised", "reason": "hardship", "promise_date": "2026-12-01",
        "promise_amount": "100", "notes": "再来一次"})
    assert html.status_code == 409 and "再来一次" in html.get_data(as_text=True)
    # Checking on the repair is still a visit worth logging.
    assert visit(client, unit.id, notes="问维修进度").status_code == 201


def test_held_unit_is_listed_apart_in_the_route_list(client, login_as, estate):
    hk, _, unit = estate
    other = make_unit(unit.building)
    make_bill(other, 10_000, TODAY - timedelta(days=70))
    login_as(hk)
    file(client, unit.id)
    html = client.get("/route").get_data(as_text=True)
    held = html.split('class="held card"')[1].split("</details>", 1)[0]
    main = html.split('id="route-rows"')[1].split("</ol>", 1)[0]
    assert f'data-unit-id="{unit.id}"' in held and "badge-hold" in held
    assert f'data-unit-id="{unit.id}"' not in main and f'data-unit-id="{other.id}"' in main


def test_visit_can_file_the_complaint_directly(client, login_as, estate):
    hk, _, unit = estate
    login_as(hk)
    r = visit(client, unit.id, complaint="1", complaint_description="电梯经常停")
    assert r.status_code == 201
    order = db.session.scalar(select(WorkOrder))
    assert order.complaint.visit_id == r.json["visit_id"]
    assert order.complaint.description == "电梯经常停"
    assert visit(client, unit.id, complaint="1").status_code == 422  # description required


def filed_then_engineer(client, login_as, hk, engineer, unit) -> int:
    """The housekeeper files a complaint; then the engineer is the one signed in."""
    login_as(hk)
    order_id = file(client, unit.id).json["work_order_id"]
    client.post("/logout")
    login_as(engineer)
    return order_id


def full_repair(client, login_as, hk, engineer, unit):
    order_id = filed_then_engineer(client, login_as, hk, engineer, unit)
    for action in ("accept", "start"):
        assert client.post(f"/workorders/{order_id}/{action}", headers=JSON).status_code == 200
    r = client.post(f"/workorders/{order_id}/close", headers=JSON,
                    content_type="multipart/form-data",
                    data={"repair_notes": "更换防水层",
                          "photos": [(io.BytesIO(make_jpeg(color=(9, 9, 9))), "after.jpg")]})
    assert r.status_code == 200 and r.json["status"] == "closed"
    client.post("/logout")
    return order_id


def test_closing_lifts_the_hold_and_marks_rectified(client, login_as, estate):
    hk, engineer, unit = estate
    order_id = full_repair(client, login_as, hk, engineer, unit)
    stored = db.session.get(Unit, unit.id)
    assert not stored.on_hold and stored.rectified_at is not None
    login_as(hk)
    route = client.get("/route").get_data(as_text=True)
    assert "badge-rectified" in route
    card = client.get(f"/units/{unit.id}").get_data(as_text=True)
    assert "更换防水层" in card and "rectified-banner" in card
    actions = [a for (a,) in db.session.execute(
        select(AuditEvent.action).where(AuditEvent.entity == "work_order")
        .order_by(AuditEvent.id))]
    assert actions == ["work_order.filed", "work_order.accept", "work_order.start",
                       "work_order.close"]
    assert f'data-work-order-id="{order_id}"' in card


def test_unsatisfied_owner_reopens_and_the_hold_returns(client, login_as, estate):
    hk, engineer, unit = estate
    order_id = full_repair(client, login_as, hk, engineer, unit)
    login_as(hk)
    assert client.post(f"/units/{unit.id}/satisfaction", data={"satisfied": "no"},
                       headers=JSON).status_code == 422  # a reason is required
    r = client.post(f"/units/{unit.id}/satisfaction",
                    data={"satisfied": "no", "note": "还在漏"})
    assert r.status_code == 303
    order = db.session.get(WorkOrder, order_id)
    assert order.status == S.OPEN and order.reopen_count == 1
    assert db.session.get(Unit, unit.id).on_hold


def test_satisfied_owner_ends_the_rectified_state(client, login_as, estate):
    hk, engineer, unit = estate
    full_repair(client, login_as, hk, engineer, unit)
    login_as(hk)
    client.post(f"/units/{unit.id}/satisfaction", data={"satisfied": "yes", "note": "满意"})
    stored = db.session.get(Unit, unit.id)
    assert stored.rectified_at is None and not stored.on_hold


def test_close_without_notes_or_photo_is_refused(client, login_as, estate):
    hk, engineer, unit = estate
    order_id = filed_then_engineer(client, login_as, hk, engineer, unit)
    client.post(f"/workorders/{order_id}/accept")
    client.post(f"/workorders/{order_id}/start")
    r = client.post(f"/workorders/{order_id}/close", data={"repair_notes": "修好了"})
    assert r.status_code == 422 and "修好了" in r.get_data(as_text=True)
    assert db.session.get(WorkOrder, order_id).status == S.IN_PROGRESS


def test_skipping_states_is_refused_over_http(client, login_as, estate):
    hk, engineer, unit = estate
    order_id = filed_then_engineer(client, login_as, hk, engineer, unit)
    r = client.post(f"/workorders/{order_id}/start", headers=JSON)
    assert r.status_code == 409 and r.json["error"] == "refused"


def test_engineer_sees_location_but_no_owner_or_arrears(client, login_as, estate):
    hk, engineer, unit = estate
    order_id = filed_then_engineer(client, login_as, hk, engineer, unit)
    page = client.get(f"/workorders/{order_id}").get_data(as_text=True)
    assert unit.number in page and "屋顶漏水" in page
    assert "13812345678" not in page and "138****5678" not in page and "800.00" not in page
    assert client.get(f"/units/{unit.id}").status_code == 403
    assert client.get("/route").status_code == 403
    listing = client.get("/workorders").get_data(as_text=True)
    assert f'data-work-order-id="{order_id}"' in listing


def test_someone_elses_order_is_hidden_from_an_engineer(client, login_as, estate):
    hk, engineer, unit = estate
    order_id = filed_then_engineer(client, login_as, hk, engineer, unit)
    client.post(f"/workorders/{order_id}/accept")
    client.post("/logout")
    login_as(make_user(Role.ENGINEER))
    assert client.get(f"/workorders/{order_id}").status_code == 404
    assert client.post(f"/workorders/{order_id}/start").status_code == 404


def test_supervisor_assigns_and_reassigns(client, login_as, estate):
    hk, engineer, unit = estate
    second = make_user(Role.ENGINEER)
    login_as(hk)
    order_id = file(client, unit.id).json["work_order_id"]
    client.post("/logout")
    login_as(make_user(Role.SUPERVISOR))
    client.post(f"/workorders/{order_id}/assign", data={"engineer_id": engineer.id})
    client.post(f"/workorders/{order_id}/assign", data={"engineer_id": second.id})
    assert db.session.get(WorkOrder, order_id).engineer_id == second.id
    assert client.post(f"/workorders/{order_id}/assign",
                       data={"engineer_id": hk.id}).status_code == 409


def test_housekeeper_cannot_work_on_orders(client, login_as, estate):
    hk, _, unit = estate
    login_as(hk)
    order_id = file(client, unit.id).json["work_order_id"]
    assert client.get("/workorders").status_code == 403
    assert client.post(f"/workorders/{order_id}/accept").status_code == 403


def test_bad_complaint_input(client, login_as, estate):
    hk, _, unit = estate
    login_as(hk)
    r = file(client, unit.id, category="plumbing", description="")
    assert r.status_code == 422 and {"category", "description"} <= set(r.json["errors"])
    r = client.post(f"/units/{unit.id}/complaints", content_type="multipart/form-data",
                    data={"category": "lift", "description": "电梯坏了",
                          "photos": [(io.BytesIO(b"not an image"), "lift.jpg")]})
    assert r.status_code == 422 and "lift.jpg" in r.get_data(as_text=True)
    assert "电梯坏了" in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(WorkOrder)) == 0
    assert db.session.scalar(select(func.count()).select_from(Visit)) == 0


def test_engineer_sees_complaint_photos(client, login_as, estate):
    hk, engineer, unit = estate
    login_as(hk)
    order_id = file(client, unit.id).json["work_order_id"]
    photo_id = db.session.get(WorkOrder, order_id).complaint.photos[0].photo_id
    client.post("/logout")
    login_as(engineer)
    assert client.get(f"/photos/{photo_id}/thumb").status_code == 200


def test_card_of_a_held_unit_does_not_advise_dunning(client, login_as, estate):
    hk, _, unit = estate
    login_as(hk)
    file(client, unit.id)
    html = client.get(f"/units/{unit.id}").get_data(as_text=True)
    assert "跟进工程维修进度" in html and "催告函" not in html.split("next-step")[1][:200]


def test_satisfaction_errors_come_back_on_the_card_with_what_was_typed(client, login_as, estate):
    hk, engineer, unit = estate
    full_repair(client, login_as, hk, engineer, unit)
    login_as(hk)
    r = client.post(f"/units/{unit.id}/satisfaction", data={"note": "业主还没回来"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "请选择业主是否满意" in html and 'value="业主还没回来"' in html
    r = client.post(f"/units/{unit.id}/satisfaction", data={"satisfied": "no"})
    assert r.status_code == 422 and 'value="no" checked' in r.get_data(as_text=True)


def test_close_errors_sit_beside_the_close_form(client, login_as, estate):
    hk, engineer, unit = estate
    order_id = filed_then_engineer(client, login_as, hk, engineer, unit)
    client.post(f"/workorders/{order_id}/accept")
    client.post(f"/workorders/{order_id}/start")
    html = client.post(f"/workorders/{order_id}/close",
                       data={"repair_notes": "换了阀门"}).get_data(as_text=True)
    close_form = html.split('class="card form close-form"')[1].split("</form>")[0]
    assert 'role="alert"' in close_form and "换了阀门" in close_form
