"""The photo viewer: one photo of a visit, complaint or repair in its context, for the
people who may see the photo itself; previous/next; a safe way back."""
from __future__ import annotations

import re
import uuid
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from fieldapp.clock import company_tz
from fieldapp.domain.visits import check_visit
from fieldapp.extensions import db
from fieldapp.models import Role
from fieldapp.photos.evidence import Upload
from fieldapp.photos.storage import storage
from fieldapp.visits.services import record_visit

from .factories import TODAY, make_user
from .photos import make_jpeg
from .test_access_matrix import sign_in
from .world import ROLES, make_world


def three_photo_visit(world):
    """A visit at the world's unit with three photos: one whose EXIF has the capture
    time, one whose time only the phone reported, one with neither."""
    form = {"client_uuid": str(uuid.uuid4()), "outcome": "nobody_home",
            "notice_type": "reminder", "delivery": "door"}
    data = check_visit(form, photo_count=3, arrears_fen=world.unit.arrears_fen, today=TODAY,
                       promise_horizon_days=30)
    uploads = [Upload("a.jpg", make_jpeg(color=(10, 0, 0), taken="2026:11:20 09:30:00"), {}),
               Upload("b.jpg", make_jpeg(color=(20, 0, 0)),
                      {"exif_taken_at": "2026:11:21 18:05:00", "downscaled": True}),
               Upload("c.jpg", make_jpeg(color=(30, 0, 0)), {})]
    visit, _ = record_visit(db.session, storage(), world.unit, world.users["hk"], data,
                            uploads, today=TODAY, tz=company_tz())
    db.session.commit()
    return visit


def links(html: str, rel: str) -> list[str]:
    return [unescape(h) for h in re.findall(rf'rel="{rel}" href="([^"]+)"', html)]


def close_link(html: str) -> str:
    return unescape(re.search(r'class="back" href="([^"]+)" data-viewer-close', html)[1])


def text_of(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def image_src(html: str) -> str:
    return unescape(re.search(r'class="viewer-img" src="([^"]+)"', html)[1])


@pytest.mark.parametrize("role", ROLES)
def test_the_viewer_opens_for_exactly_those_who_may_see_the_photo(app, client, role):
    """Per role and per context, the viewer answers 200 where the photo route serves
    the photo it shows, and 404 (401 signed out) where it does not."""
    world = make_world()
    sign_in(client, world.users[role])
    for path, photo in [(f"/visits/{world.visit.id}/photos/1", world.visit_photo),
                        (f"/complaints/{world.order.complaint_id}/photos/1",
                         world.complaint_photo),
                        (f"/workorders/{world.order.id}/photos/1", world.after_photo)]:
        page = client.get(path)
        image = client.get(f"/photos/{photo.id}/display")
        if role == "anon":
            assert page.status_code == image.status_code == 302, path  # to the sign-in
            continue
        assert page.status_code in (200, 404), path
        assert (page.status_code == 200) == (image.status_code == 200), (path, role)
        if page.status_code == 200:
            assert image_src(page.text) == f"/photos/{photo.id}/display"


def test_previous_and_next_step_through_the_visits_photos(app, client):
    world = make_world()
    visit = three_photo_visit(world)
    sign_in(client, world.users["hk"])
    pages = [client.get(f"/visits/{visit.id}/photos/{n}") for n in (1, 2, 3)]
    assert [p.status_code for p in pages] == [200, 200, 200]
    first, middle, last = (p.text for p in pages)
    assert "1 / 3" in first and "2 / 3" in middle and "3 / 3" in last
    assert links(first, "prev") == [] and links(last, "next") == []
    assert [urlsplit(u).path for u in links(middle, "prev") + links(middle, "next")] == \
        [f"/visits/{visit.id}/photos/1", f"/visits/{visit.id}/photos/3"]
    shown = [image_src(t) for t in (first, middle, last)]
    assert shown == [f"/photos/{vp.photo_id}/display" for vp in visit.photos]
    assert 'autofocus' in first and 'id="viewer-h"' in first
    assert "viewer.js" in first


def test_capture_time_is_shown_in_the_company_time_zone(app, client):
    """EXIF time as the company's local time; else the phone's reported time, labelled;
    else a plain statement that the photo does not say."""
    world = make_world()
    visit = three_photo_visit(world)
    sign_in(client, world.users["hk"])
    texts = [text_of(client.get(f"/visits/{visit.id}/photos/{n}").text) for n in (1, 2, 3)]
    assert "拍摄于 2026-11-20 09:30" in texts[0]
    assert "拍摄于 2026-11-21 18:05（手机上报）" in texts[1]
    assert "照片未记录拍摄时间" in texts[2]
    client.post("/language", data={"locale": "en"})
    english = text_of(client.get(f"/visits/{visit.id}/photos/1").text)
    assert "Taken 2026-11-20 09:30" in english and "Visit photo 1 / 3" in english


def test_only_supervisors_get_the_link_to_the_original(app, client):
    world = make_world()
    for role, sees in [("hk", False), ("supervisor", True), ("admin", True)]:
        sign_in(client, world.users[role])
        html = client.get(f"/visits/{world.visit.id}/photos/1").text
        original = f'href="/photos/{world.visit_photo.id}/original" download'
        assert (original in html) is sees, role
        client.post("/logout")
    sign_in(client, world.users["engineer"])
    html = client.get(f"/workorders/{world.order.id}/photos/1").text
    assert "/original" not in html


@pytest.mark.parametrize("role,kind,home", [
    ("hk", "visits", "/units/{unit}"),
    ("supervisor", "visits", "/units/{unit}"),
    ("hk", "complaints", "/units/{unit}"),
    ("engineer", "complaints", "/workorders/{order}"),
    ("supervisor", "workorders", "/workorders/{order}"),
    ("hk", "workorders", "/units/{unit}"),
])
def test_without_a_next_the_viewer_goes_back_to_where_the_photos_are_shown(
        app, client, role, kind, home):
    """Housekeepers see photos on the unit card; engineers and supervisors on the work
    order page, which housekeepers cannot open."""
    world = make_world()
    owner = {"visits": world.visit.id, "complaints": world.order.complaint_id,
             "workorders": world.order.id}[kind]
    sign_in(client, world.users[role])
    html = client.get(f"/{kind}/{owner}/photos/1").text
    assert close_link(html) == home.format(unit=world.unit.id, order=world.order.id)


@pytest.mark.parametrize("target", [
    "//evil.example/units/1", "https://evil.example/", "/\\evil.example", "javascript:alert(1)",
    "evil.example", "\\\\evil.example",
])
def test_an_unsafe_next_is_replaced_by_the_unit_card(app, client, target):
    world = make_world()
    visit = three_photo_visit(world)
    sign_in(client, world.users["hk"])
    html = client.get(f"/visits/{visit.id}/photos/2", query_string={"next": target}).text
    assert close_link(html) == f"/units/{world.unit.id}"
    for link in links(html, "prev") + links(html, "next"):
        assert parse_qs(urlsplit(link).query)["next"] == [f"/units/{world.unit.id}"]


def test_a_safe_next_is_the_way_back_and_travels_with_previous_and_next(app, client):
    world = make_world()
    visit = three_photo_visit(world)
    sign_in(client, world.users["hk"])
    back = f"/units/{world.unit.id}?next=/route?building={world.unit.building_id}"
    html = client.get(f"/visits/{visit.id}/photos/2", query_string={"next": back}).text
    assert close_link(html) == back
    for link in links(html, "prev") + links(html, "next"):
        assert parse_qs(urlsplit(link).query)["next"] == [back]


@pytest.mark.parametrize("path", [
    "/visits/{visit}/photos/4", "/visits/{visit}/photos/0", "/visits/{visit}/photos/-1",
    "/visits/{visit}/photos/2147483648", "/visits/2147483648/photos/1",
    "/visits/2147483647/photos/1", "/visits/99999999999999999999/photos/1",
    "/complaints/{complaint}/photos/2", "/complaints/2147483648/photos/1",
    "/workorders/{order}/photos/2", "/workorders/2147483648/photos/1",
    "/bills/{visit}/photos/1", "/visits/{visit}/photos/one",
])
def test_no_such_photo_is_a_404(app, client, path):
    world = make_world()
    visit = three_photo_visit(world)
    sign_in(client, world.users["supervisor"])
    url = path.format(visit=visit.id, complaint=world.order.complaint_id, order=world.order.id)
    assert client.get(url).status_code == 404


def test_a_complaint_photo_is_not_shown_in_a_context_the_user_cannot_see(app, client):
    """Access follows the context, not the photo: the same bytes on a visit the user
    may see do not open another patch's complaint in the viewer."""
    world = make_world()
    other = make_user(Role.HOUSEKEEPER)
    sign_in(client, other)
    assert client.get(f"/complaints/{world.order.complaint_id}/photos/1").status_code == 404
    assert client.get(f"/visits/{world.visit.id}/photos/1").status_code == 404


def test_thumbnails_open_the_viewer_and_come_back_to_their_page(app, client):
    world = make_world()
    visit = three_photo_visit(world)
    sign_in(client, world.users["hk"])
    card = f"/units/{world.unit.id}?next=%2Froute"
    html = client.get(card).text
    viewer = [unescape(u) for u in re.findall(r'href="(/visits/\d+/photos/\d+[^"]*)"', html)]
    assert urlsplit(viewer[0]).path == f"/visits/{visit.id}/photos/1"
    assert parse_qs(urlsplit(viewer[0]).query)["next"] == [card]
    assert "/display" not in html
    assert close_link(client.get(viewer[0]).text) == card

    client.post("/logout")
    sign_in(client, world.users["engineer"])
    html = client.get(f"/workorders/{world.order.id}").text
    viewer = [unescape(u) for u in re.findall(r'href="(/complaints/\d+/photos/\d+[^"]*)"', html)]
    assert parse_qs(urlsplit(viewer[0]).query)["next"] == [f"/workorders/{world.order.id}"]
    assert "/display" not in html


def test_the_viewer_script_is_in_the_app_shell(app, client):
    assert "viewer.js" in client.get("/sw.js").text
