"""The common visits in a few taps from the route list, counted: a path over its limit
fails. Typing and the camera's own shutter are not taps."""
import re

import pytest
from playwright.sync_api import expect

from ..photos import make_jpeg
from .conftest import check_accessibility, sign_in

pytestmark = pytest.mark.browser
LIMIT = 6


class Thumb:
    """Taps on the screen, one per call."""

    def __init__(self, page):
        self.page, self.taps = page, 0

    def tap(self, locator):
        locator.click()
        self.taps += 1

    def photo(self, name: str = "door.jpg"):
        """The 'Take photo' button; the camera returns one picture."""
        self.page.set_input_files(".photo-take input", files=[
            {"name": name, "mimeType": "image/jpeg", "buffer": make_jpeg(1200, 900)}])
        self.taps += 1
        expect(self.page.locator(".thumbs img")).to_have_count(1)


def first_unit(page):
    row = page.locator(".route-row:not(.badge-hold)").first
    return row, row.get_attribute("data-unit-id")


def saved(page, unit_id):
    expect(page).to_have_url(re.compile(rf"/route\?saved={unit_id}$"))
    expect(page.locator(".saved-banner")).to_be_visible()


def test_nobody_home_with_a_notice_on_the_door(page):
    sign_in(page, "housekeeper2")
    thumb = Thumb(page)
    row, unit_id = first_unit(page)
    thumb.tap(row.locator(".row-visit"))
    thumb.tap(page.locator("label.outcome", has=page.locator("input[value=nobody_home]")))
    expect(page.locator("input[name=notice_type]:checked")).not_to_have_value("none")
    expect(page.locator("input[name=delivery][value=door]")).to_be_checked()
    thumb.photo()
    thumb.tap(page.locator(".submit-visit"))
    saved(page, unit_id)
    assert thumb.taps <= LIMIT, thumb.taps
    assert thumb.taps == 4


def test_met_the_owner_with_a_reason_a_photo_and_a_promise(page):
    sign_in(page, "housekeeper2")
    thumb = Thumb(page)
    row, unit_id = first_unit(page)
    thumb.tap(row.locator(".row-visit"))
    thumb.tap(page.locator("label.outcome", has=page.locator("input[value=met_owner]")))
    thumb.tap(page.locator("label.chip-choice", has=page.locator("input[value=hardship]")))
    thumb.tap(page.locator("[data-fill-date]").nth(1))  # "in 7 days"
    expect(page.locator("#promise_date")).to_have_value("2026-11-29")
    expect(page.locator("#promise_amount")).not_to_have_value("")  # the arrears
    thumb.photo()
    check_accessibility(page, "visit-quick-promise")
    thumb.tap(page.locator(".submit-visit"))
    saved(page, unit_id)
    assert thumb.taps <= LIMIT, thumb.taps
    expect(page.locator(f"#unit-{unit_id}")).to_have_count(0)  # promised: off the first page
    page.goto(f"/units/{unit_id}")
    expect(page.locator(".promises .badge-promise")).to_be_visible()


def test_paid_on_the_spot(page):
    sign_in(page, "housekeeper2")
    thumb = Thumb(page)
    row, unit_id = first_unit(page)
    thumb.tap(row.locator(".row-visit"))
    thumb.tap(page.locator("label.outcome", has=page.locator("input[value=met_owner]")))
    thumb.tap(page.locator("label.paid-toggle"))
    page.fill("#payment_ref", "WX20261122001")
    thumb.tap(page.locator(".submit-visit"))
    saved(page, unit_id)
    assert thumb.taps <= LIMIT, thumb.taps


def test_a_refused_save_lands_on_the_field_with_its_message(page):
    """A notice without a photo: the summary lists it, the photo field is in view."""
    sign_in(page, "housekeeper2")
    row, _ = first_unit(page)
    row.locator(".row-visit").click()
    page.locator("label.outcome", has=page.locator("input[value=nobody_home]")).click()
    page.click(".submit-visit")
    summary = page.locator("#form-message")
    expect(summary).to_be_visible()
    expect(summary.locator("a[href='#err-photos']")).to_be_visible()
    expect(page.locator("#err-photos")).to_be_visible()
    expect(page.locator("#err-photos")).to_be_in_viewport()
    focused = page.evaluate("document.activeElement.closest('fieldset')?.className || ''")
    assert "photos" in focused
    check_accessibility(page, "visit-refused")
