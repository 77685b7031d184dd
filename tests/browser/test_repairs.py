"""Fix first, then collect, on phones: complaint from a visit, the engineer's repair,
the owner's satisfaction."""
import re

import pytest
from playwright.sync_api import expect

from ..photos import make_jpeg
from .conftest import check_accessibility, choose, sign_in

pytestmark = pytest.mark.browser


def test_complaint_repair_and_satisfaction(page):
    sign_in(page, "housekeeper1")
    row = page.locator(".route-row").nth(12)
    unit_id = row.get_attribute("data-unit-id")
    number = row.locator(".row-unit").inner_text().rsplit("-", 1)[1]
    page.goto(row.get_attribute("data-visit-url"))
    choose(page, "outcome", "met_owner")
    choose(page, "reason", "service")
    choose(page, "service_category", "leak")
    page.check("input[name=complaint]")
    page.fill("#complaint_description", "顶楼卫生间漏水三个月了")
    check_accessibility(page, "visit-form-complaint")
    page.click(".submit-visit")
    expect(page).to_have_url(re.compile(rf"saved={unit_id}$"))

    held = page.locator("details.held")
    expect(held.locator("summary")).to_contain_text("1")
    held.locator("summary").click()
    expect(held.locator(f'[data-unit-id="{unit_id}"] .badge-hold')).to_be_visible()
    expect(page.locator(f'#route-rows [data-unit-id="{unit_id}"]')).to_have_count(0)
    page.goto(f"/units/{unit_id}")
    expect(page.locator(".hold-banner")).to_be_visible()
    check_accessibility(page, "unit-card-on-hold")

    page.goto(f"/units/{unit_id}/visits/new")
    choose(page, "outcome", "met_owner")
    choose(page, "reason", "hardship")
    expect(page.locator(".hold-note")).to_be_visible()
    expect(page.locator("#promise_date")).to_have_count(0)  # no promise request on hold
    expect(page.locator("input[name=notice_type]")).to_have_count(0)  # nor a notice

    page.context.clear_cookies()
    sign_in(page, "engineer")
    expect(page.locator(".work-orders .route-row")).not_to_have_count(0)
    check_accessibility(page, "work-orders")
    page.locator(".work-orders .row-link", has_text="漏水").first.click()
    expect(page.locator("main")).not_to_contain_text("138")  # no owner phone numbers
    page.get_by_role("button", name=re.compile("接单|Accept")).click()
    page.get_by_role("button", name=re.compile("开始维修|Start")).click()
    page.fill("#repair_notes", "更换防水层，闭水试验 48 小时无渗漏")
    page.set_input_files("#after_photos", files=[
        {"name": "after.jpg", "mimeType": "image/jpeg", "buffer": make_jpeg(900, 600)}])
    check_accessibility(page, "work-order-close")
    page.get_by_role("button", name=re.compile("关闭工单|Close work order")).click()
    expect(page.locator("#repair-h")).to_be_visible()

    page.context.clear_cookies()
    sign_in(page, "housekeeper1")
    page.goto(f"/route?q={number}")  # visited today, it sits low in the list
    expect(page.locator(f'#unit-{unit_id} .badge-rectified')).to_be_visible()
    page.goto(f"/units/{unit_id}")
    banner = page.locator(".rectified-banner")
    expect(banner).to_contain_text("更换防水层")
    expect(banner.locator("img")).to_have_count(1)
    check_accessibility(page, "unit-card-rectified")
    banner.locator("label.choice", has=page.locator("input[value=yes]")).click()
    page.fill("#satisfaction-note", "业主确认不漏了")
    banner.get_by_role("button").click()
    expect(page.locator(".rectified-banner")).to_have_count(0)
    expect(page.locator(".timeline")).to_contain_text("业主满意")


def test_complaint_form_sent_twice_files_one_complaint(page, live_app):
    """Pressing the button twice (or a retried post) files one work order."""
    from sqlalchemy import func, select

    from fieldapp.extensions import db
    from fieldapp.models import Complaint
    sign_in(page, "housekeeper2")
    unit_id = page.locator(".route-row").nth(4).get_attribute("data-unit-id")
    page.goto(f"/units/{unit_id}/complaints/new")
    check_accessibility(page, "complaint-form")
    page.select_option("#category", "lift")
    page.fill("#description", "电梯按钮失灵")
    token = page.locator("input[name=client_uuid]").input_value()
    assert len(token) == 36
    statuses = page.locator("form[data-mint-id]").evaluate(
        """f => Promise.all([1, 2].map(() => fetch(f.action, {method: 'POST',
              body: new FormData(f), headers: {'Accept': 'application/json'}})
              .then(r => r.status)))""")
    assert sorted(statuses) == [200, 201]
    with live_app.app_context():
        n = db.session.scalar(select(func.count()).select_from(Complaint)
                              .where(Complaint.client_uuid == token))
        db.session.remove()
    assert n == 1
