"""The photo viewer on a phone: tap a thumbnail on the unit card, swipe to the next
photo, close, and be back on the card where it was left."""
import re
import uuid

import pytest
from playwright.sync_api import expect

from ..conftest import TODAY
from ..photos import make_jpeg
from .conftest import SHOTS, check_accessibility, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def visit_with_photos(live_app):
    """Three photos on a visit to a unit of housekeeper1's patch that the route list does
    not show (nothing overdue), so the other browser tests see the estate unchanged."""
    from sqlalchemy import select

    from fieldapp.clock import company_tz
    from fieldapp.domain.visits import check_visit
    from fieldapp.extensions import db
    from fieldapp.models import Assignment, Unit, User
    from fieldapp.photos.evidence import Upload
    from fieldapp.photos.storage import storage
    from fieldapp.visits.services import record_visit

    with live_app.app_context():
        user = db.session.scalar(select(User).where(User.username == "housekeeper1"))
        patch = select(Assignment.building_id).where(Assignment.user_id == user.id)
        unit = db.session.scalar(select(Unit).where(Unit.building_id.in_(patch))
                                 .order_by(Unit.arrears_fen, Unit.id.desc()))
        form = {"client_uuid": str(uuid.uuid4()), "outcome": "nobody_home",
                "notice_type": "reminder", "delivery": "door"}
        data = check_visit(form, photo_count=3, arrears_fen=unit.arrears_fen, today=TODAY,
                           promise_horizon_days=30)
        uploads = [Upload("door.jpg", make_jpeg(1600, 1200, color=(180, 40, 40),
                                                taken="2026:11:21 09:15:00"), {}),
                   Upload("notice.jpg", make_jpeg(1200, 1600, color=(40, 140, 60)), {}),
                   Upload("wide.jpg", make_jpeg(2000, 800, color=(60, 60, 160)), {})]
        visit, _ = record_visit(db.session, storage(), unit, user, data, uploads,
                                today=TODAY, tz=company_tz())
        db.session.commit()
        return unit.id, visit.id


def swipe(page, dx: int, y: int = 300) -> None:
    """A finger drag across the photo, as touch events (pointer events follow)."""
    cdp = page.context.new_cdp_session(page)
    x = 195 - dx // 2
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for step in range(1, 9):
        cdp.send("Input.dispatchTouchEvent",
                 {"type": "touchMove", "touchPoints": [{"x": x + dx * step // 8, "y": y + step}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def test_tap_a_thumbnail_swipe_and_close_back_to_the_card(page, visit_with_photos):
    unit_id, visit_id = visit_with_photos
    sign_in(page, "housekeeper1")
    card = f"/units/{unit_id}?next=/route"
    page.goto(card)
    thumb = page.locator(f'.timeline [data-visit-id="{visit_id}"] .timeline-thumbs a').first
    thumb.scroll_into_view_if_needed()
    scrolled = page.evaluate("window.scrollY")
    entries = page.evaluate("history.length")
    thumb.tap()

    expect(page).to_have_url(re.compile(rf"/visits/{visit_id}/photos/1\?"))
    heading = page.locator("#viewer-h")
    expect(heading).to_have_text("走访照片 1 / 3")
    expect(heading).to_be_focused()
    expect(page.locator(".viewer-taken")).to_have_text("拍摄于 2026-11-21 09:15")
    image = page.locator(".viewer-img")
    expect(image).to_have_attribute("alt", re.compile("第 1 张，共 3 张"))
    expect(page.locator(".bottom-nav")).to_have_count(0)
    assert image.evaluate("i => i.complete && i.naturalWidth > 0")
    width = image.bounding_box()["width"]
    assert width == 390  # the display copy as wide as the phone
    check_accessibility(page, "photo-viewer")

    swipe(page, -200)  # finger to the left: the next photo
    expect(page).to_have_url(re.compile(rf"/visits/{visit_id}/photos/2\?"))
    expect(heading).to_have_text("走访照片 2 / 3")
    swipe(page, 30)  # too short to be a swipe: stays
    swipe(page, 200)  # to the right: back to the first
    expect(page).to_have_url(re.compile(rf"/visits/{visit_id}/photos/1\?"))
    page.get_by_role("link", name=re.compile("下一张")).tap()
    expect(heading).to_have_text("走访照片 2 / 3")
    assert page.evaluate("history.length") == entries + 1  # steps replace, never pile up

    page.get_by_role("link", name="关闭照片").tap()
    expect(page).to_have_url(re.compile(rf"/units/{unit_id}\?next=/route$"))
    assert page.evaluate("history.length") == entries + 1  # went back, not forward
    assert page.evaluate("window.scrollY") == pytest.approx(scrolled, abs=40)


def test_keyboard_and_escape(page, visit_with_photos):
    unit_id, visit_id = visit_with_photos
    sign_in(page, "housekeeper1")
    page.goto(f"/units/{unit_id}")
    page.locator(f'[data-visit-id="{visit_id}"] .timeline-thumbs a').nth(2).click()
    expect(page.locator("#viewer-h")).to_have_text("走访照片 3 / 3")
    expect(page.locator('a[rel="next"]')).to_have_count(0)
    page.keyboard.press("ArrowRight")  # no photo after the last: nothing happens
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#viewer-h")).to_have_text("走访照片 2 / 3")
    page.keyboard.press("Escape")
    expect(page).to_have_url(re.compile(rf"/units/{unit_id}$"))


def test_opened_from_elsewhere_close_goes_to_the_card(page, visit_with_photos):
    """No history to go back to (a link from outside, a fresh window): the close control
    is a plain link to the card."""
    unit_id, visit_id = visit_with_photos
    sign_in(page, "housekeeper1")
    page.goto(f"/visits/{visit_id}/photos/2")
    page.get_by_role("link", name="关闭照片").click()
    expect(page).to_have_url(re.compile(rf"/units/{unit_id}$"))


@pytest.fixture(scope="module")
def english_supervisor(live_app):
    """A supervisor who chose English (the demo users keep the default, Chinese)."""
    from fieldapp.extensions import db
    from fieldapp.models import Role, User

    from ..factories import PASSWORD, make_user
    with live_app.app_context():
        if db.session.query(User).filter_by(username="supervisor-en").first() is None:
            make_user(Role.SUPERVISOR, username="supervisor-en", display_name="Sam Lee",
                      locale="en")
    return "supervisor-en", PASSWORD


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("width,height", [(390, 844), (360, 740)])
def test_viewer_screenshots(page, visit_with_photos, english_supervisor, lang, width, height):
    """Screenshots for people to look at, at both phone sizes and in both languages:
    every control a full touch target, nothing wider than the phone."""
    unit_id, visit_id = visit_with_photos
    page.set_viewport_size({"width": width, "height": height})
    if lang == "en":
        sign_in(page, *english_supervisor)
    else:
        sign_in(page, "supervisor")
    for n in (1, 2, 3):
        page.goto(f"/visits/{visit_id}/photos/{n}?next=/units/{unit_id}")
        expect(page.locator("#viewer-h")).to_contain_text(f"{n} / 3")
        expect(page.locator(".viewer-img")).to_have_js_property("complete", True)
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / f"photo-viewer-{lang}-{width}x{height}-{n}.png"))
        targets = page.locator(".viewer-pager .button, [data-viewer-close], .viewer-original")
        for i in range(targets.count()):
            box = targets.nth(i).bounding_box()
            assert box["width"] >= 48 and box["height"] >= 48, targets.nth(i).inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    check_accessibility(page, f"photo-viewer-{lang}-{width}x{height}")
