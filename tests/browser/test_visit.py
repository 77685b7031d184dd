"""Log a visit on a phone: a photo, a promise, and the route row shows it."""
import re

import pytest
from playwright.sync_api import expect

from ..photos import make_jpeg
from .conftest import check_accessibility, choose, fresh_unit, sign_in

pytestmark = pytest.mark.browser


def test_log_a_visit_with_photo_and_promise(page, live_server, live_app):
    """From the route row to the card to the form: a refused promise keeps the photo and
    notes; the corrected one returns to the row, badged, and shows on the card."""
    unit = fresh_unit(live_app, "housekeeper1", amount_fen=50_000)
    unit_id = str(unit.id)
    page.context.grant_permissions(["geolocation"], origin=live_server)
    page.context.set_geolocation({"latitude": 31.2305, "longitude": 121.4738, "accuracy": 20})
    sign_in(page, "housekeeper1")
    label = unit.label
    number = label.rsplit("-", 1)[1]
    page.fill("#q", number)
    expect(page).to_have_url(re.compile(r"q=" + number))
    row = page.locator(f'#route-rows [data-unit-id="{unit_id}"]')
    expect(row).to_have_count(1)
    row.locator(".row-link").click()
    expect(page.locator("h1")).to_have_text(label)
    page.locator(".card-actions").get_by_role("link", name=re.compile("记录走访|Log a visit")).click()
    expect(page.locator("form[data-visit-form]")).to_be_visible()
    check_accessibility(page, "visit-form")

    choose(page, "outcome", "met_owner")
    expect(page.locator("input[name=reason][value=hardship]")).to_be_attached()
    choose(page, "reason", "hardship")
    page.fill("#promise_date", "2026-12-10")
    page.fill("#promise_amount", "99999999")  # more than the arrears: refused, kept
    choose(page, "notice_type", "reminder")
    choose(page, "delivery", "door")
    page.set_input_files(".photo-take input", files=[
        {"name": "door.jpg", "mimeType": "image/jpeg", "buffer": make_jpeg(800, 600)}])
    expect(page.locator(".thumbs img")).to_have_count(1)
    page.fill("#notes", "女主人说月底发工资")
    page.click(".submit-visit")
    expect(page.locator("#err-promise_amount")).to_be_visible()
    expect(page.locator("#promise_amount")).to_be_focused()  # where the eye is
    expect(page.locator("#form-message a[href='#err-promise_amount']")).to_be_visible()
    expect(page.locator(".thumbs img")).to_have_count(1)  # the photo is still here
    expect(page.locator("#notes")).to_have_value("女主人说月底发工资")
    check_accessibility(page, "visit-form-errors")

    page.fill("#promise_amount", "200")
    page.click(".submit-visit")
    expect(page).to_have_url(re.compile(rf"/route\?q={number}&saved={unit_id}$"))  # back to the search
    expect(page.locator(".saved-banner")).to_contain_text(label)
    page.goto(f"/units/{unit_id}")
    timeline = page.locator(".timeline .visit").first
    expect(timeline).to_contain_text("200.00")
    expect(timeline.locator("img")).to_have_count(1)
    check_accessibility(page, "unit-card-timeline")


def test_photo_is_downscaled_in_the_page_keeping_orientation_and_capture_time(page, live_app):
    """A big photo travels at 2048 px on its long edge, upright, with the capture time
    that downscaling would have stripped sent beside it."""
    from sqlalchemy import select

    from fieldapp.extensions import db
    from fieldapp.models import Photo, User, Visit, VisitPhoto
    unit = fresh_unit(live_app, "housekeeper3")
    sign_in(page, "housekeeper3")
    page.goto(unit.visit_url)
    choose(page, "outcome", "vacant")
    page.set_input_files(".photo-choose input", files=[{
        "name": "big.jpg", "mimeType": "image/jpeg",
        "buffer": make_jpeg(3000, 2000, orientation=6, taken="2026:11:21 09:15:00")}])
    expect(page.locator(".thumbs img")).to_have_count(1)
    page.click(".submit-visit")
    expect(page).to_have_url(re.compile(r"/route\?saved=\d+$"))
    with live_app.app_context():
        link = db.session.scalars(
            select(VisitPhoto).join(Visit).join(User, User.id == Visit.user_id)
            .where(User.username == "housekeeper3", Visit.unit_id == unit.id)).one()
        photo = db.session.get(Photo, link.photo_id)
        meta, size = link.client_meta, (photo.width, photo.height)
        db.session.remove()
    assert size == (1365, 2048)  # portrait: the orientation was applied in the page
    assert meta["exif_taken_at"] == "2026:11:21 09:15:00" and meta["downscaled"] is True
