"""Every route of the URL map x every role, against real objects: the expected answers
are written once in the table below, and a route the table does not cover fails."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import pytest

from .factories import PASSWORD
from .world import ROLES, World, make_world

JSON = {"Accept": "application/json"}
OK = "ok"  # served: 2xx, a redirect, 409 or 422


def expect(spec: str) -> dict[str, object]:
    """'401 ok 404 …' in the order of ROLES."""
    words = spec.split()
    assert len(words) == len(ROLES), spec
    return {role: (w if w == OK else int(w)) for role, w in zip(ROLES, words)}


EVERYONE = expect("ok ok ok ok ok ok ok")
SIGNED_IN = expect("401 ok ok ok ok ok ok")
UNIT_OF_MY_PATCH = expect("401 ok 404 403 403 ok ok")
ROUTE_LIST = expect("401 ok ok 403 403 ok ok")
REPAIRS = expect("401 403 403 ok ok ok ok")
MY_WORK_ORDER = expect("401 403 403 ok 404 ok ok")
SUPERVISORS = expect("401 403 403 403 403 ok ok")
ADMINS = expect("401 403 403 403 403 403 ok")
HOUSEKEEPERS_FOR_SUPERVISORS = expect("401 403 403 403 403 404 ok")


def _new_user(w) -> dict:
    return {"username": f"new{len(w.users)}x{id(w) % 100000}", "display_name": "新同事",
            "role": "housekeeper", "locale": "zh_CN", "password": "temporary-pass-1"}


def _policy(w) -> dict:
    from fieldapp.domain.policy import form_values
    from fieldapp.models import POLICY_FIELDS
    policy = w.unit.building.community.policy
    return form_values({k: getattr(policy, k) for k in POLICY_FIELDS}, w.today)


def _building(w) -> dict:
    b = w.unit.building
    return {"name": b.name, "address": b.address, "floors": str(b.floors), "lat": str(b.lat),
            "lon": str(b.lon)}


@dataclass(frozen=True)
class Case:
    endpoint: str
    method: str
    path: Callable[[World], str]
    expected: dict[str, object]
    data: Callable[[World], dict] = field(default=lambda w: {})
    ends_session: bool = False  # the walk signs in again after it


CASES = [
    Case("main.home", "GET", lambda w: "/", SIGNED_IN),
    Case("main.healthz", "GET", lambda w: "/healthz", EVERYONE),
    Case("auth.login", "GET", lambda w: "/login", EVERYONE),
    Case("auth.login", "POST", lambda w: "/login", EVERYONE),
    Case("auth.language", "POST", lambda w: "/language", EVERYONE, lambda w: {"locale": "en"}),
    Case("auth.account", "GET", lambda w: "/account", SIGNED_IN),
    Case("auth.account", "POST", lambda w: "/account", SIGNED_IN),
    Case("auth.change_password", "POST", lambda w: "/account/password", SIGNED_IN),
    Case("auth.route_setting", "POST", lambda w: "/account/route", SIGNED_IN),
    Case("auth.sign_out_all_devices", "POST", lambda w: "/account/sessions/revoke", SIGNED_IN,
         ends_session=True),
    Case("auth.revoke_user_sessions", "POST",
         lambda w: f"/users/{w.users['hk_other'].id}/sessions/revoke",
         expect("401 403 403 403 403 403 ok")),
    Case("pwa.manifest", "GET", lambda w: "/manifest.webmanifest", EVERYONE),
    Case("pwa.service_worker", "GET", lambda w: "/sw.js", EVERYONE),
    Case("pwa.offline", "GET", lambda w: "/offline", EVERYONE),
    Case("pwa.outbox", "GET", lambda w: "/outbox", SIGNED_IN),
    Case("pwa.session_info", "GET", lambda w: "/api/session", SIGNED_IN),
    Case("photos.photo", "GET", lambda w: f"/photos/{w.visit_photo.id}/thumb",
         expect("401 ok 404 404 404 ok ok")),
    Case("photos.photo", "GET", lambda w: f"/photos/{w.complaint_photo.id}/original",
         expect("401 ok 404 ok 404 ok ok")),
    Case("photos.viewer", "GET", lambda w: f"/visits/{w.visit.id}/photos/1",
         expect("401 ok 404 404 404 ok ok")),
    Case("photos.viewer", "GET", lambda w: f"/complaints/{w.order.complaint_id}/photos/1",
         expect("401 ok 404 ok 404 ok ok")),
    Case("photos.viewer", "GET", lambda w: f"/workorders/{w.order.id}/photos/1",
         expect("401 ok 404 ok 404 ok ok")),
    Case("photos.viewer", "GET", lambda w: f"/corrections/{w.clean_visit.corrections[0].id}/photos/1",
         expect("401 404 ok 404 404 ok ok")),
    Case("photos.photo", "GET", lambda w: f"/photos/{w.correction_photo.id}/display",
         expect("401 404 ok 404 404 ok ok")),
    Case("route.index", "GET", lambda w: "/route", ROUTE_LIST),
    Case("today.index", "GET", lambda w: "/today", ROUTE_LIST),
    Case("route.index", "GET", lambda w: f"/route?building={w.unit.building_id}",
         expect("401 ok 404 403 403 ok ok")),
    Case("route.index", "GET", lambda w: f"/route?hk={w.users['hk'].id}", ROUTE_LIST),
    Case("route.building_search", "GET", lambda w: "/route/buildings?bq=1", ROUTE_LIST),
    Case("route.building_search", "GET",
         lambda w: f"/route/buildings?bq=1&building={w.unit.building_id}",
         expect("401 ok 404 403 403 ok ok")),
    Case("units.card", "GET", lambda w: f"/units/{w.unit.id}", UNIT_OF_MY_PATCH),
    Case("visits.new", "GET", lambda w: f"/units/{w.unit.id}/visits/new", UNIT_OF_MY_PATCH),
    Case("visits.create", "POST", lambda w: f"/units/{w.unit.id}/visits", UNIT_OF_MY_PATCH),
    Case("visits.show", "GET", lambda w: f"/visits/{w.visit.id}", UNIT_OF_MY_PATCH),
    Case("visits.show", "GET", lambda w: f"/visits/{w.clean_visit.id}",
         expect("401 404 ok 403 403 ok ok")),
    Case("visits.correct", "POST", lambda w: f"/visits/{w.visit.id}/corrections",
         expect("401 ok 404 403 403 403 403")),
    Case("review.index", "GET", lambda w: "/review", SUPERVISORS),
    Case("review.index", "GET", lambda w: f"/review?hk={w.users['hk'].id}&flag=any"
         f"&outcome=nobody_home&date=2026-11-22&building={w.unit.building_id}", SUPERVISORS),
    Case("review.decision", "POST", lambda w: f"/review/visits/{w.visit.id}/decision",
         SUPERVISORS),
    Case("review.approve_selected", "POST", lambda w: "/review/approve", SUPERVISORS),
    Case("review.buildings", "GET",
         lambda w: f"/review/buildings?community={w.unit.building.community_id}", SUPERVISORS),
    Case("review.day", "GET", lambda w: f"/review/day?hk={w.users['hk'].id}&date=2026-11-22",
         SUPERVISORS),
    Case("workorders.new_complaint", "GET", lambda w: f"/units/{w.unit.id}/complaints/new",
         UNIT_OF_MY_PATCH),
    Case("workorders.create_complaint", "POST", lambda w: f"/units/{w.unit.id}/complaints",
         UNIT_OF_MY_PATCH),
    Case("workorders.satisfaction", "POST", lambda w: f"/units/{w.unit.id}/satisfaction",
         UNIT_OF_MY_PATCH),
    Case("promises.new_plan", "GET", lambda w: f"/units/{w.unit.id}/plans/new?count=4",
         UNIT_OF_MY_PATCH),
    Case("promises.create", "POST", lambda w: f"/units/{w.unit.id}/plans", UNIT_OF_MY_PATCH),
    Case("promises.cancel", "POST", lambda w: f"/plans/{w.plan.id}/cancel",
         expect("401 404 ok 403 403 ok ok")),
    Case("promises.new_waiver", "GET", lambda w: f"/units/{w.unit.id}/waivers/new",
         UNIT_OF_MY_PATCH),
    Case("promises.create_waiver", "POST", lambda w: f"/units/{w.unit.id}/waivers",
         UNIT_OF_MY_PATCH),
    Case("promises.waivers", "GET", lambda w: "/waivers", SUPERVISORS),
    Case("promises.decide", "POST", lambda w: f"/waivers/{w.waiver.id}/decide", SUPERVISORS,
         lambda w: {"decision": "decline", "comment": "按规定不能减免"}),
    Case("workorders.index", "GET", lambda w: "/workorders", REPAIRS),
    Case("audit.index", "GET", lambda w: f"/audit?unit={w.unit.id}&kind=visit", SUPERVISORS),
    Case("workorders.show", "GET", lambda w: f"/workorders/{w.order.id}", MY_WORK_ORDER),
    Case("workorders.transition", "POST", lambda w: f"/workorders/{w.order.id}/accept",
         MY_WORK_ORDER),
    Case("workorders.note", "POST", lambda w: f"/workorders/{w.order.id}/note", MY_WORK_ORDER),
    Case("workorders.assign_engineer", "POST", lambda w: f"/workorders/{w.order.id}/assign",
         SUPERVISORS, lambda w: {"engineer_id": w.users["engineer"].id}),
    Case("imports.index", "GET", lambda w: "/imports", SUPERVISORS),
    Case("imports.upload", "POST", lambda w: "/imports", SUPERVISORS,
         lambda w: {"kind": "bills"}),
    Case("imports.job", "GET", lambda w: f"/imports/{w.import_job.id}", SUPERVISORS),
    Case("imports.problems", "GET", lambda w: f"/imports/{w.import_job.id}/problems.csv",
         SUPERVISORS),
    Case("imports.headers", "GET", lambda w: "/imports/headers", SUPERVISORS),
    Case("imports.add_header", "POST", lambda w: "/imports/headers", SUPERVISORS,
         lambda w: {"community": w.unit.building.community_id, "kind": "bills",
                    "field": "due_date", "alias": "最迟缴费日"}),
    Case("imports.remove_header", "POST",
         lambda w: f"/imports/headers/{w.header_alias.id}/delete", SUPERVISORS),
    Case("admin.index", "GET", lambda w: "/admin", SUPERVISORS),
    Case("admin.users", "GET", lambda w: "/admin/users?role=engineer&status=all&q=e",
         SUPERVISORS),
    Case("admin.new_user", "GET", lambda w: "/admin/users/new", ADMINS),
    Case("admin.create_user", "POST", lambda w: "/admin/users", ADMINS, _new_user),
    Case("admin.user", "GET", lambda w: f"/admin/users/{w.users['hk'].id}", SUPERVISORS),
    Case("admin.user", "GET", lambda w: f"/admin/users/{w.users['engineer'].id}",
         HOUSEKEEPERS_FOR_SUPERVISORS),
    Case("admin.update_user", "POST", lambda w: f"/admin/users/{w.users['engineer_other'].id}",
         ADMINS, lambda w: {"display_name": "工程二", "role": "engineer"}),
    Case("admin.reset_password", "POST",
         lambda w: f"/admin/users/{w.users['engineer_other'].id}/password", ADMINS,
         lambda w: {"password": "temporary-pass-2"}),
    Case("admin.set_active", "POST",
         lambda w: f"/admin/users/{w.users['engineer_other'].id}/active", ADMINS,
         lambda w: {"active": "0"}),
    Case("admin.set_patch", "POST", lambda w: f"/admin/users/{w.users['hk'].id}/buildings",
         SUPERVISORS, lambda w: {"building": [str(w.unit.building_id)]}),
    Case("admin.set_patch", "POST",
         lambda w: f"/admin/users/{w.users['engineer'].id}/buildings",
         HOUSEKEEPERS_FOR_SUPERVISORS, lambda w: {"building": [str(w.unit.building_id)]}),
    Case("admin.coverage", "GET", lambda w: "/admin/coverage", SUPERVISORS),
    Case("admin.assign_building", "POST",
         lambda w: f"/admin/buildings/{w.other_unit.building_id}/housekeeper", SUPERVISORS,
         lambda w: {"housekeeper": str(w.users["hk_other"].id)}),
    Case("admin.communities", "GET", lambda w: "/admin/communities", ADMINS),
    Case("admin.new_community", "GET", lambda w: "/admin/communities/new", ADMINS),
    Case("admin.create_community", "POST", lambda w: "/admin/communities", ADMINS,
         lambda w: {"name": f"新小区{id(w) % 100000}", "kind": "residential",
                    "timezone": "Asia/Shanghai"}),
    Case("admin.community", "GET",
         lambda w: f"/admin/communities/{w.unit.building.community_id}", ADMINS),
    Case("admin.update_community", "POST",
         lambda w: f"/admin/communities/{w.unit.building.community_id}", ADMINS,
         lambda w: {"name": w.unit.building.community.name, "kind": "residential",
                    "timezone": "Asia/Shanghai"}),
    Case("admin.policy", "GET",
         lambda w: f"/admin/communities/{w.unit.building.community_id}/policy", ADMINS),
    Case("admin.change_policy", "POST",
         lambda w: f"/admin/communities/{w.unit.building.community_id}/policy", ADMINS, _policy),
    Case("admin.new_building", "GET",
         lambda w: f"/admin/buildings/new?community={w.unit.building.community_id}", ADMINS),
    Case("admin.create_building", "POST", lambda w: "/admin/buildings", ADMINS,
         lambda w: {"community": str(w.unit.building.community_id), "name": f"新{id(w) % 1000}栋",
                    "floors": "6"}),
    Case("admin.building", "GET", lambda w: f"/admin/buildings/{w.unit.building_id}", ADMINS),
    Case("admin.update_building", "POST", lambda w: f"/admin/buildings/{w.unit.building_id}",
         ADMINS, _building),
    # Last of the set-up cases: the other patch moves to `hk`.
    Case("admin.handover", "POST", lambda w: f"/admin/users/{w.users['hk_other'].id}/handover",
         SUPERVISORS, lambda w: {"successor": str(w.users["hk"].id)}),
    Case("notices.index", "GET", lambda w: "/notices", SUPERVISORS),
    Case("notices.issue_building", "POST", lambda w: "/notices/print", SUPERVISORS,
         lambda w: {"building": w.other_unit.building_id, "deadline": "2026-12-10"}),
    Case("notices.batch", "GET", lambda w: f"/notice-batches/{w.batch.id}", SUPERVISORS),
    Case("notices.new", "GET", lambda w: f"/units/{w.unit.id}/notices/new", UNIT_OF_MY_PATCH),
    Case("notices.issue", "POST", lambda w: f"/units/{w.unit.id}/notices", UNIT_OF_MY_PATCH,
         lambda w: {"kind": "reminder", "deadline": "2026-12-10"}),
    Case("notices.show", "GET", lambda w: f"/notices/{w.notice.id}",
         expect("401 404 ok 403 403 ok ok")),
    Case("notices.edit_template", "GET",
         lambda w: f"/communities/{w.unit.building.community_id}/notice-templates/reminder",
         expect("401 403 403 403 403 403 ok")),
    Case("notices.edit_template", "POST",
         lambda w: f"/communities/{w.unit.building.community_id}/notice-templates/reminder",
         expect("401 403 403 403 403 403 ok")),
    Case("notices.statement", "GET", lambda w: f"/s/{w.statement_token}", EVERYONE),
    # The world's only repair is still open: its after-photo is shown to no owner.
    Case("notices.statement_photo", "GET",
         lambda w: f"/s/{w.statement_token}/photos/{w.after_photo.id}",
         expect("404 404 404 404 404 404 404")),
    Case("notices.share", "POST", lambda w: f"/units/{w.unit.id}/statement-links",
         UNIT_OF_MY_PATCH),
    Case("notices.shared", "GET",
         lambda w: f"/units/{w.unit.id}/statement-links/{w.statement_link.id}",
         UNIT_OF_MY_PATCH),
    Case("notices.evidence", "GET", lambda w: f"/units/{w.unit.id}/evidence.zip", SUPERVISORS),
    Case("notices.limitation", "GET", lambda w: "/limitation", SUPERVISORS),
    Case("notices.revoke", "POST", lambda w: f"/statement-links/{w.statement_link.id}/revoke",
         UNIT_OF_MY_PATCH),
    Case("auth.logout", "POST", lambda w: "/logout", SIGNED_IN, ends_session=True),
]

# Served by Flask itself, for everyone, with no data behind it.
NOT_IN_MATRIX = {("static", "GET")}


def routes(app) -> set[tuple[str, str]]:
    return {(rule.endpoint, method) for rule in app.url_map.iter_rules()
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def test_every_route_is_in_the_matrix(app):
    """A new route must say who may use it before it can land."""
    covered = {(c.endpoint, c.method) for c in CASES} | NOT_IN_MATRIX
    assert routes(app) - covered == set(), "add these routes to CASES"
    assert covered - routes(app) == set(), "these routes no longer exist"


def served(response) -> bool:
    """JSON callers are refused with 401/403/404, never redirected, so a redirect is an
    answer (the sign-in page's language switch goes back to the sign-in page)."""
    return response.status_code in (200, 201, 204, 302, 303, 304, 409, 422)


def sign_in(client, user) -> None:
    if user is not None:
        r = client.post("/login", data={"username": user.username, "password": PASSWORD})
        assert r.status_code == 303


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_what_the_matrix_says(app, client, role):
    world = make_world()
    user = world.users[role]
    sign_in(client, user)
    wrong = []
    for case in CASES:
        r = client.open(case.path(world), method=case.method, data=case.data(world),
                        headers=JSON)
        want = case.expected[role]
        ok = served(r) if want == OK else r.status_code == want
        if not ok or r.status_code >= 500:
            wrong.append(f"{case.method} {case.path(world)}: {r.status_code}, wanted {want}")
        if case.ends_session:
            sign_in(client, user)
    assert wrong == [], f"as {role}"
