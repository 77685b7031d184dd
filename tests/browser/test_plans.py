"""An installment plan made on a phone, the badge it leaves, and the Today list."""
import re

import pytest
from playwright.sync_api import expect

from .conftest import check_accessibility, sign_in

pytestmark = pytest.mark.browser


def test_a_three_installment_plan_on_a_phone(page):
    sign_in(page, "housekeeper3")
    row = page.locator(".route-row:not([data-paused])").nth(2)
    unit_id = row.get_attribute("data-unit-id")
    number = row.locator(".row-unit").inner_text().rsplit("-", 1)[1]
    row.locator(".row-link").click()
    page.get_by_role("link", name=re.compile("约定分期付款|Agree an installment plan")).click()
    expect(page.locator("#plan-form")).to_be_visible()
    page.select_option("#count", "3")  # htmx swaps the rows in
    expect(page.locator(".plan-rows tbody tr")).to_have_count(3)
    amounts = [float(v) for v in page.locator(".plan-rows input[inputmode=decimal]").evaluate_all(
        "els => els.map(e => e.value)")]
    assert len(amounts) == 3 and amounts[0] == amounts[1]
    check_accessibility(page, "plan-new")
    page.fill("#reason", "家里有人住院")
    page.click("#plan-form button[type=submit]")
    expect(page).to_have_url(re.compile(rf"/units/{unit_id}$"))
    expect(page.locator(".installments li")).to_have_count(3)
    expect(page.locator("#promises h3")).to_contain_text("按期")
    check_accessibility(page, "unit-card-plan")
    page.goto(f"/route?q={number}")
    expect(page.locator(f"#unit-{unit_id} .badge-plan")).to_be_visible()


def test_a_plan_that_does_not_add_up_comes_back_with_the_rows_typed(page):
    sign_in(page, "housekeeper3")
    row = page.locator(".route-row:not([data-paused])").nth(4)
    page.goto(row.locator(".row-link").get_attribute("href").split("?")[0] + "/plans/new")
    page.fill("#amount-1", "1")
    page.click("#plan-form button[type=submit]")
    expect(page.locator("#err-plan")).to_be_visible()
    expect(page.locator("#amount-1")).to_have_value("1")
    check_accessibility(page, "plan-refused")


def test_today_lists_what_is_due_and_what_broke(page):
    sign_in(page, "housekeeper1")
    page.click(".bottom-nav .nav-today")
    expect(page).to_have_url(re.compile(r"/today$"))
    expect(page.locator("#today-due")).to_be_visible()
    expect(page.locator(".today-due .today-unit")).not_to_have_count(0)
    expect(page.locator(".today-broken .today-unit")).not_to_have_count(0)
    expect(page.locator(".today-item a.call").first).to_have_attribute("href", re.compile("^tel:"))
    check_accessibility(page, "today")


def test_supervisor_approves_a_waiver(page):
    sign_in(page, "supervisor")
    page.click(".bottom-nav .nav-today")
    page.get_by_role("link", name=re.compile("减免等待您审批")).click()
    waiver = page.locator(".waiver").first
    expect(waiver).to_be_visible()
    check_accessibility(page, "waivers")
    waiver.get_by_role("button", name=re.compile("批准|Approve")).click()
    expect(page.locator(".flash")).to_contain_text("已批准")


def test_a_swap_over_elements_someone_styled_breaks_no_csp_rule(page):
    """A style attribute left on an element (by an extension or a checker) is not copied
    onto its replacement by htmx's settling, which the strict CSP would refuse."""
    sign_in(page, "housekeeper3")
    row = page.locator(".route-row:not([data-paused])").nth(3)
    page.goto(row.locator(".row-link").get_attribute("href").split("?")[0] + "/plans/new")
    page.evaluate("() => document.querySelectorAll('.plan-rows [id]').forEach("
                  "e => { e.style.outline = '1px solid red'; })")  # CSSOM: allowed
    page.select_option("#count", "4")  # htmx swaps the rows in
    expect(page.locator(".plan-rows tbody tr")).to_have_count(4)
