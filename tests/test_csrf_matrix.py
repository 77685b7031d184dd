"""CSRF across the URL map: every state-changing route refuses a missing token and
another session's token, and changes nothing; its own session's token gets through."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from fieldapp.extensions import db

from .conftest import _empty_tables, make_app
from .factories import PASSWORD
from .test_access_matrix import CASES, OK, routes
from .world import make_world

JSON = {"Accept": "application/json"}
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
# Who signs in to try each route: the first role the matrix lets through.
TRY_AS = ("hk", "engineer", "supervisor", "admin", "anon")


@pytest.fixture
def csrf_app(db_url, tmp_path):
    app = make_app(db_url, tmp_path, WTF_CSRF_ENABLED=True)
    with app.app_context():
        yield app
    _empty_tables(app)


def token_of(client, path: str = "/login") -> str:
    r = client.get(path)
    page = r.get_data(as_text=True)
    assert "csrf-token" in page, (path, r.status_code, r.headers, page[:200])
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def signed_in(app, user):
    client = app.test_client()
    if user is not None:
        r = client.post("/login", data={"username": user.username, "password": PASSWORD,
                                        "csrf_token": token_of(client)})
        assert r.status_code == 303
    return client


def row_counts() -> dict[str, int]:
    return {t.name: db.session.scalar(select(func.count()).select_from(t))
            for t in db.metadata.sorted_tables}


def test_every_state_changing_route_is_tried(csrf_app):
    tried = {(c.endpoint, c.method) for c in CASES if c.method in STATE_CHANGING}
    assert {r for r in routes(csrf_app) if r[1] in STATE_CHANGING} == tried


def test_state_changing_routes_refuse_missing_and_foreign_tokens(csrf_app):
    world = make_world()
    stranger = signed_in(csrf_app, world.users["hk_other"])
    foreign = token_of(stranger, "/account")
    problems = []
    for case in (c for c in CASES if c.method in STATE_CHANGING):
        role = next(r for r in TRY_AS if case.expected[r] == OK)
        client = signed_in(csrf_app, world.users[role])
        path, data = case.path(world), case.data(world)
        before = row_counts()
        for label, token in (("missing", None), ("foreign", foreign)):
            sent = dict(data, **({"csrf_token": token} if token else {}))
            r = client.open(path, method=case.method, data=sent, headers=JSON)
            if r.status_code != 403 or (r.json or {}).get("error") != "csrf":
                problems.append(f"{case.method} {path} with a {label} token: {r.status_code}")
            db.session.expire_all()
            if row_counts() != before:
                problems.append(f"{case.method} {path} with a {label} token changed data")
        own = token_of(client, "/account" if role != "anon" else "/login")
        r = client.open(path, method=case.method, data=dict(data, csrf_token=own),
                        headers=JSON)
        if r.status_code == 403 and (r.json or {}).get("error") == "csrf":
            problems.append(f"{case.method} {path}: its own token was refused")
    assert problems == []


def test_htmx_requests_may_carry_the_token_as_a_header(csrf_app):
    world = make_world()
    client = signed_in(csrf_app, world.users["hk"])
    r = client.post(f"/units/{world.unit.id}/satisfaction",
                    headers={**JSON, "X-CSRFToken": token_of(client, "/account")})
    assert r.status_code == 422  # past CSRF, refused for its (empty) content
