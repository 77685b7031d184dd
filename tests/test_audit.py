"""The audit trail: every state-changing route leaves an event, and supervisors read the
trail by unit, by user, by kind and by day, newest first, a page at a time."""
from __future__ import annotations

import io
import re
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from fieldapp.extensions import db
from fieldapp.models import AuditEvent, Complaint, InstallmentPlan, Role, record_audit

from .factories import PASSWORD, make_user
from .photos import make_jpeg
from .test_access_matrix import routes
from .world import make_world

JSON = {"Accept": "application/json"}
# Changes only the signed-out browser's session: there is no record to audit.
NOT_AUDITED = {"auth.language"}


def last_id() -> int:
    db.session.expire_all()
    return db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0


def events_since(event_id: int) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.id > event_id)))


def test_every_state_changing_route_leaves_an_audit_event(app):
    world = make_world()
    u = world.users
    clients = {}

    def as_(role):
        if role not in clients:
            clients[role] = app.test_client()
            r = clients[role].post("/login", data={"username": u[role].username,
                                                   "password": PASSWORD})
            assert r.status_code == 303
        return clients[role]

    def latest_plan_id():
        return db.session.scalar(select(InstallmentPlan.id).order_by(InstallmentPlan.id.desc()))

    def new_order_id():
        return db.session.scalar(select(Complaint).order_by(Complaint.id.desc())).work_order.id

    unit = world.unit.id
    def photo_of(color):
        return {"photos": [(io.BytesIO(make_jpeg(color=color)), "photo.jpg")]}

    photo = photo_of((7, 7, 7))
    steps = [
        ("hk", "auth.login", None, None, "user.sign_in"),
        ("hk", "auth.account", "/account", {"locale": "en"}, "user.language"),
        ("hk", "auth.route_setting", "/account/route", {}, "user.route_setting"),
        ("hk_other", "promises.create", f"/units/{world.other_unit.id}/plans",
         {"date-1": "2026-12-20", "amount-1": "600", "date-2": "2027-01-20",
          "amount-2": "600"}, "plan.create"),
        ("hk_other", "promises.cancel", lambda: f"/plans/{latest_plan_id()}/cancel", {},
         "plan.cancel"),
        ("supervisor", "promises.decide", f"/waivers/{world.waiver.id}/decide",
         {"decision": "decline", "comment": "不符合条件"}, "waiver.declined"),
        ("hk", "promises.create_waiver", f"/units/{unit}/waivers",
         {"amount": "1", "reason": "独居老人"}, "waiver.request"),
        ("hk", "visits.create", f"/units/{unit}/visits",
         {"client_uuid": str(uuid.uuid4()), "outcome": "nobody_home"}, "visit.create"),
        ("hk", "visits.correct", f"/visits/{world.visit.id}/corrections",
         {"note": "补拍了门牌", **photo_of((5, 5, 5))}, "review.correct"),
        ("supervisor", "review.decision", f"/review/visits/{world.visit.id}/decision",
         {"decision": "send_back", "comment": "还是看不清"}, "review.send_back"),
        ("supervisor", "review.approve_selected", "/review/approve",
         {"visit": str(world.clean_visit.id)}, "review.approve"),
        ("hk", "workorders.create_complaint", f"/units/{unit}/complaints",
         {"client_uuid": str(uuid.uuid4()), "category": "lift", "description": "电梯坏了"},
         "complaint.create"),
        ("supervisor", "workorders.assign_engineer", lambda: f"/workorders/{new_order_id()}/assign",
         {"engineer_id": u["engineer"].id}, "work_order.assigned"),
        ("engineer", "workorders.transition", lambda: f"/workorders/{new_order_id()}/accept",
         {}, "work_order.accept"),
        ("engineer", "workorders.note", lambda: f"/workorders/{new_order_id()}/note",
         {"note": "明天带零件"}, "work_order.note"),
        ("engineer", "workorders.transition", lambda: f"/workorders/{new_order_id()}/start",
         {}, "work_order.start"),
        ("engineer", "workorders.transition", lambda: f"/workorders/{new_order_id()}/close",
         {"repair_notes": "换了门机", **photo}, "work_order.close"),
        ("hk", "workorders.satisfaction", f"/units/{unit}/satisfaction",
         {"satisfied": "no", "note": "还是会停"}, "work_order.reopen"),
        ("hk", "auth.change_password", "/account/password",
         {"current_password": PASSWORD, "new_password": "another long password",
          "confirm_password": "another long password"}, "user.password_change"),
        ("admin", "imports.upload", "/imports",
         {"kind": "buildings", "file": (io.BytesIO("楼栋,地址\n9栋,人民路9号\n".encode()), "b.csv")},
         "import.upload"),
        ("admin", "imports.add_header", "/imports/headers",
         {"community": world.unit.building.community_id, "kind": "units", "field": "area",
          "alias": "产权面积"}, "import.header_add"),
        ("supervisor", "imports.remove_header", f"/imports/headers/{world.header_alias.id}/delete",
         {}, "import.header_remove"),
        ("admin", "auth.revoke_user_sessions", f"/users/{u['hk_other'].id}/sessions/revoke", {},
         "user.revoke_sessions"),
        ("supervisor", "auth.sign_out_all_devices", "/account/sessions/revoke", {},
         "user.sign_out_everywhere"),
        ("admin", "auth.logout", "/logout", {}, "user.sign_out"),
    ]
    walked = set()
    for role, endpoint, path, data, action in steps:
        before = last_id()
        if path is None:
            as_(role)
        else:
            target = path() if callable(path) else path
            r = as_(role).post(target, data=data, headers=JSON,
                               content_type="multipart/form-data")
            assert r.status_code < 400, (endpoint, r.status_code, r.get_data(as_text=True)[:300])
        left = [(e.action, e.user_id) for e in events_since(before)]
        assert (action, u[role].id) in left, (endpoint, left)
        walked.add(endpoint)
    changing = {e for e, m in routes(app) if m in ("POST", "PUT", "PATCH", "DELETE")}
    assert changing - NOT_AUDITED == walked


def test_events_of_a_unit_carry_it(app, client, login_as):
    world = make_world()
    unit_events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.unit_id == world.unit.id)).all()
    assert {e.action for e in unit_events} >= {"visit.create", "complaint.create",
                                                "work_order.filed"}


def test_supervisors_read_the_trail_by_unit_user_kind_and_day(app, client, login_as):
    world = make_world()
    hk = world.users["hk"]
    long_ago = datetime.now(timezone.utc) - timedelta(days=40)
    old = record_audit(hk, "visit.create", "visit", None, unit_id=world.other_unit.id,
                       outcome="vacant", photos=0)
    old.at = long_ago
    db.session.commit()
    login_as(make_user(Role.SUPERVISOR, locale="en"))
    page = client.get(f"/audit?unit={world.unit.id}").get_data(as_text=True)
    assert "Visit logged" in page and "Complaint filed" in page
    assert page.count('data-audit-id=') == 3  # visit, complaint, work order opened
    by_kind = client.get(f"/audit?unit={world.unit.id}&kind=complaint").get_data(as_text=True)
    assert by_kind.count('data-audit-id=') == 1 and "Complaint filed" in by_kind
    day = long_ago.astimezone(timezone(timedelta(hours=8))).date().isoformat()
    by_day = client.get(f"/audit?user={hk.id}&from={day}&to={day}").get_data(as_text=True)
    assert by_day.count('data-audit-id=') == 1 and "Vacant" in by_day


def test_the_trail_pages_newest_first_without_gaps(app, client, login_as):
    hk = make_user(Role.HOUSEKEEPER)
    ids = [record_audit(hk, "user.language", "user", hk.id, before="zh_CN", after="en")
           for _ in range(120)]
    db.session.commit()
    login_as(make_user(Role.SUPERVISOR))
    seen, url = [], f"/audit?user={hk.id}"
    while url:
        html = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
        assert "<html" not in html
        seen += [int(x) for x in re.findall(r'data-audit-id="(\d+)"', html)]
        found = re.search(r'href="(/audit\?[^"]*before=\d+[^"]*)"', html)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert seen == sorted((e.id for e in ids), reverse=True)


def test_an_empty_trail_says_so(app, client, login_as):
    login_as(make_user(Role.SUPERVISOR, locale="en"))
    assert "Nothing recorded" in client.get("/audit?kind=user&from=2001-01-01&to=2001-01-02"
                                            ).get_data(as_text=True)
