"""Route list pages are reused across sessions and survive writes to units they do not
show; a write to a unit they show rebuilds them; each session gets its own token."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from fieldapp.extensions import db
from fieldapp.models import Role, Unit
from fieldapp.route import routes as route_views

from .factories import PASSWORD, TODAY, make_bill, make_building, make_community, make_payment, \
    make_unit, make_user


@pytest.fixture
def patch_of_40(app):
    """40 overdue units: page 1 shows 30, the last 10 are on page 2."""
    building = make_building()
    units = [make_unit(building, number=f"{i:04d}") for i in range(40)]
    for i, u in enumerate(units):
        make_bill(u, 100_000 - i * 1_000, TODAY - timedelta(days=60))
    return make_user(Role.HOUSEKEEPER, buildings=[building]), units


@pytest.fixture
def renders(monkeypatch):
    calls = []
    real = route_views._render
    monkeypatch.setattr(route_views, "_render", lambda *a: calls.append(1) or real(*a))
    return calls


def signed_in(app, user):
    client = app.test_client()
    assert client.post("/login", data={"username": user.username,
                                       "password": PASSWORD}).status_code == 303
    return client


def without_token(html: str) -> str:
    """The page less its signed token, which carries the second it was signed."""
    return re.sub(r'name="csrf-token" content="[^"]+"', "", html)


def token(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def test_a_write_to_a_unit_off_the_page_keeps_the_page(app, patch_of_40, renders):
    hk, units = patch_of_40
    client = signed_in(app, hk)
    first = client.get("/route").get_data(as_text=True)
    assert len(renders) == 1
    r = client.post(f"/units/{units[-1].id}/visits", data={  # a unit on page 2
        "client_uuid": "8d3e6679-7425-40de-944b-e07fc1f90ae7", "outcome": "nobody_home"})
    assert r.status_code == 303
    again = client.get("/route").get_data(as_text=True)
    assert len(renders) == 1 and without_token(again) == without_token(first)
    make_payment(units[0], 500, TODAY)  # on page 1, and the chips' sums move
    changed = client.get("/route").get_data(as_text=True)
    assert len(renders) == 2 and without_token(changed) != without_token(first)


def test_sessions_share_the_body_and_keep_their_own_token(app, patch_of_40, renders):
    hk, _ = patch_of_40
    one, two = signed_in(app, hk), signed_in(app, hk)
    a, b = one.get("/route"), two.get("/route")
    assert len(renders) == 1
    assert token(a.get_data(as_text=True)) != token(b.get_data(as_text=True))
    assert "__doorstep" not in a.get_data(as_text=True)
    assert a.headers["ETag"] != b.headers["ETag"]
    assert one.get("/route", headers={"If-None-Match": a.headers["ETag"]}).status_code == 304
    assert two.get("/route", headers={"If-None-Match": a.headers["ETag"]}).status_code == 200


def test_housekeepers_of_one_patch_share_pages_but_roles_do_not(app, patch_of_40, renders):
    hk, units = patch_of_40
    colleague = make_user(Role.HOUSEKEEPER, buildings=[units[0].building])
    signed_in(app, hk).get("/route")
    signed_in(app, colleague).get("/route")
    assert len(renders) == 1
    html = signed_in(app, make_user(Role.SUPERVISOR)).get(
        f"/route?hk={hk.id}").get_data(as_text=True)
    assert len(renders) == 2 and 'id="hk"' in html


def test_the_list_setting_and_language_make_their_own_pages(app, patch_of_40, renders):
    hk, _ = patch_of_40
    client = signed_in(app, hk)
    client.get("/route")
    hk = db.session.get(type(hk), hk.id)
    hk.visited_sink = False
    db.session.commit()
    client.get("/route")
    assert len(renders) == 2


def test_a_unit_on_the_page_visited_rebuilds_it(app, patch_of_40, renders):
    hk, units = patch_of_40
    client = signed_in(app, hk)
    client.get("/route")
    unit = db.session.get(Unit, units[3].id)
    r = client.post(f"/units/{unit.id}/visits", data={
        "client_uuid": "7c9e6679-7425-40de-944b-e07fc1f90ae7", "outcome": "nobody_home"})
    assert r.status_code == 303
    client.get("/route")
    assert len(renders) == 2


def test_a_building_renamed_rebuilds_its_patch_pages(app, patch_of_40, renders):
    hk, units = patch_of_40
    client = signed_in(app, hk)
    client.get("/route")
    client.get("/route")
    assert len(renders) == 1
    building = units[0].building
    old_name = building.name
    building.name = "新楼 9"
    db.session.commit()
    page = client.get("/route").get_data(as_text=True)
    assert len(renders) == 2
    assert f"新楼 9-{units[0].number}" in page and f"{old_name}-" not in page


def test_two_patches_with_the_same_empty_page_each_get_their_own(app):
    """A search that matches nothing in either patch, one community, one policy: the
    pages' data is the same, their buildings are not."""
    community = make_community()
    mine, theirs = make_building(community, name="东楼"), make_building(community, name="西楼")
    for building in (mine, theirs):
        make_bill(make_unit(building), 100_000, TODAY - timedelta(days=60))
    a = make_user(Role.HOUSEKEEPER, buildings=[mine])
    b = make_user(Role.HOUSEKEEPER, buildings=[theirs])
    first = signed_in(app, a).get("/route?q=9999").get_data(as_text=True)
    second = signed_in(app, b).get("/route?q=9999").get_data(as_text=True)
    assert f'<option value="{mine.id}"' in first and "东楼" in first
    assert f'<option value="{theirs.id}"' in second and "西楼" in second
    assert "东楼" not in second
