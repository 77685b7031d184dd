"""Fix first, then collect, on phones: complaint from a visit, the engineer's repair,
the owner's satisfaction."""
import re

import pytest
from playwright.sync_api import expect

from fieldapp.domain.money import mask_phone

from ..photos import make_jpeg
from .conftest import check_accessibility, choose, fresh_unit, sign_in

pytestmark = pytest.mark.browser


def held_rows(page) -> int:
    """How many units the route list's repair-pending section says are held; it must
    list exactly that many rows."""
    held = page.locator("details.held")
    count = int(re.search(r"\d+", held.locator("summary").inner_text()).group())
    expect(held.locator(".route-row")).to_have_count(count)
    return count


def test_complaint_repair_and_satisfaction(page, live_app):
    """A complaint from a visit holds the unit; the engineer repairs it, seeing no phone
    number; the owner's satisfaction ends the rectified state."""
    unit = fresh_unit(live_app, "housekeeper1")
    unit_id = str(unit.id)
    sign_in(page, "housekeeper1")
    number = unit.label.rsplit("-", 1)[1]
    held_before = held_rows(page) if page.locator("details.held").count() else 0
    page.goto(unit.visit_url)
    choose(page, "outcome", "met_owner")
    choose(page, "reason", "service")
    choose(page, "service_category", "leak")
    page.check("input[name=complaint]")
    page.fill("#complaint_description", "顶楼卫生间漏水三个月了")
    check_accessibility(page, "visit-form-complaint")
    page.click(".submit-visit")
    expect(page).to_have_url(re.compile(rf"saved={unit_id}$"))

    held = page.locator("details.held")
    assert held_rows(page) == held_before + 1
    if not held.evaluate("d => d.open"):
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
    page.locator(".work-orders .row-link", has_text=unit.label).click()
    expect(page.locator("main")).to_contain_text("顶楼卫生间漏水三个月了")
    expect(page.locator("main")).not_to_contain_text(unit.phone)  # no owner phone numbers
    expect(page.locator("main")).not_to_contain_text(mask_phone(unit.phone))
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
    unit_id = fresh_unit(live_app, "housekeeper2").id
    sign_in(page, "housekeeper2")
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
        units = db.session.scalars(select(Complaint.unit_id)
                                   .where(Complaint.client_uuid == token)).all()
        db.session.remove()
    assert n == 1 and units == [unit_id]
