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
