"""Notices on paper and the owner's statement on a phone: a building printed to PDF one
notice per A4 page, and the statement link opened at phone size."""
import re

import pytest
from playwright.sync_api import expect

from .conftest import SHOTS, check_accessibility, sign_in

pytestmark = pytest.mark.browser


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))


def test_a_buildings_notices_print_one_per_a4_page(page):
    """The supervisor prints a building: the PDF has as many pages as notices issued."""
    sign_in(page, "supervisor")
    page.goto("/notices")
    check_accessibility(page, "notices-index")
    page.select_option("#building", index=1)
    page.get_by_role("button", name=re.compile("开具并打印|Issue and print")).click()
    expect(page).to_have_url(re.compile(r"/notice-batches/\d+$"))
    issued = page.locator("article.notice").count()
    assert issued > 0
    page.screenshot(path=str(SHOTS / "notice-batch.png"), full_page=False)
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf_pages(pdf) == issued


def test_the_statement_link_opens_on_a_phone(page, browser, live_server):
    """A housekeeper shares a reminder; the owner opens it signed out, at 390x844."""
    sign_in(page, "housekeeper1")
    page.goto("/route")
    unit_id = page.locator(".route-row").first.get_attribute("data-unit-id")
    page.goto(f"/units/{unit_id}")
    page.locator("#notices").scroll_into_view_if_needed()
    check_accessibility(page, "unit-card-notices")
    page.get_by_role("button", name=re.compile("发送带账单链接的提醒|statement link")).click()
    text = page.locator("#share-text").input_value()
    check_accessibility(page, "share-reminder")
    url = re.search(r"https?://\S+/s/[A-Za-z0-9_-]+", text).group(0)
    owner = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                is_mobile=True, has_touch=True, device_scale_factor=2)
    phone = owner.new_page()
    errors = []
    phone.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    phone.goto(url)
    expect(phone.locator(".big-amount")).to_be_visible()
    expect(phone.locator(".bottom-nav")).to_have_count(0)
    check_accessibility(phone, "statement-phone")
    phone.set_viewport_size({"width": 360, "height": 740})
    phone.screenshot(path=str(SHOTS / "statement-phone-360.png"), full_page=True)
    phone.goto(url + "x")
    expect(phone.locator(".statement-gone")).to_be_visible()
    check_accessibility(phone, "statement-gone")
    owner.close()
    assert [e for e in errors if "status of 404" not in e] == []
