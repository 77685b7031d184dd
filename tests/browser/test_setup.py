"""Set-up on a phone: an administrator creates a community, fixes a refused policy,
adds a building, creates a housekeeper and gives them the building; a second
administrator, in English, signs in with a temporary password and chooses their own.
Each screen passes axe at 390 and 360 pixels, in Chinese and in English."""
import re

import pytest
from playwright.sync_api import expect

from .conftest import check_accessibility, sign_in

pytestmark = pytest.mark.browser


def both_sizes(page, name: str) -> None:
    """axe and a screenshot at 390 x 844, then at 360 x 740."""
    check_accessibility(page, f"{name}-390")
    page.set_viewport_size({"width": 360, "height": 740})
    check_accessibility(page, f"{name}-360")
    page.set_viewport_size({"width": 390, "height": 844})


def test_an_admin_sets_up_a_community_its_policy_a_building_and_a_patch(page):
    """A community, a refused then saved policy, a building and a patch, on a phone."""
    sign_in(page, "admin")
    page.click(".bottom-nav .nav-admin")
    expect(page).to_have_url(re.compile(r"/admin$"))
    both_sizes(page, "setup-hub-zh")

    page.click("a[href='/admin/communities']")
    page.click("a[href='/admin/communities/new']")
    page.fill("#f-name", "星河湾")
    page.locator("label", has=page.locator("input[name=kind][value=office_park]")).click()
    both_sizes(page, "setup-community-new-zh")
    page.click("button[type=submit].primary")
    expect(page.locator(".flash")).to_contain_text("默认规则")
    both_sizes(page, "setup-community-zh")

    page.click(".card-actions a.primary")
    page.fill("#f-band-2-days", "0")
    page.fill("#f-daily_rate", "0.05")
    page.click("button[type=submit].primary")
    expect(page.locator("#f-band-2-days")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#err-band-2-days")).to_contain_text("晚于上一档")
    expect(page.locator("#f-daily_rate")).to_have_value("0.05")
    both_sizes(page, "setup-policy-refused-zh")
    page.click(".error-summary a")
    expect(page.locator("#f-band-2-days")).to_be_focused()
    page.fill("#f-band-2-days", "20")
    page.click("button[type=submit].primary")
    expect(page.locator(".flash")).to_contain_text("今天起生效")
    expect(page.locator(".policy-version").first).to_contain_text("每天 0.05%")
    page.locator("#history").scroll_into_view_if_needed()
    both_sizes(page, "setup-policy-history-zh")

    page.click("a.back")
    page.click("a:has-text('添加楼栋')")
    page.fill("#f-name", "A座")
    page.fill("#f-address", "上海市张江路900号")
    page.fill("#f-floors", "20")
    page.fill("#f-lat", "31.2051, 121.5901")
    both_sizes(page, "setup-building-zh")
    page.click("button[type=submit].primary")
    expect(page.locator(".admin-list")).to_contain_text("31.20510, 121.59010")

    page.goto("/admin/coverage")
    uncovered = page.locator("#uncovered .coverage-building", has_text="A座")
    expect(uncovered).to_contain_text("星河湾")
    expect(page.locator("#uncovered .count-badge")).to_have_text("1")
    both_sizes(page, "setup-coverage-uncovered-zh")

    page.goto("/admin/users/new")
    page.fill("#f-username", "zhaomin")
    page.fill("#f-display_name", "赵敏")
    expect(page.locator("#f-password")).to_have_value(re.compile(r"^\w{4}-\w{4}-\w{4}$"))
    both_sizes(page, "setup-user-new-zh")
    page.click("button[type=submit].primary")
    expect(page.locator(".flash")).to_contain_text("临时密码")
    community = page.locator("details.patch-community", has_text="星河湾")
    community.locator("summary").click()
    community.locator("label", has_text="A座").click()
    page.click("#patch button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("1 栋楼")
    both_sizes(page, "setup-user-zh")

    page.goto("/admin/coverage")
    expect(page.locator(".coverage-housekeeper", has_text="赵敏")).to_contain_text("A座")
    both_sizes(page, "setup-coverage-zh")

    page.goto("/admin/users/new")
    page.fill("#f-username", "setup-admin")
    page.fill("#f-display_name", "Ada Setup")
    page.locator("label", has=page.locator("input[name=role][value=admin]")).click()
    page.locator("label", has=page.locator("input[name=locale][value=en]")).click()
    page.fill("#f-password", "temporary-pass-1")
    page.click("button[type=submit].primary")
    expect(page.locator(".flash")).to_be_visible()


def test_an_english_admin_chooses_a_password_then_sees_every_screen(page):
    """A temporary password leads to the password form; every screen passes axe in English."""
    sign_in(page, "setup-admin", "temporary-pass-1")
    expect(page).to_have_url(re.compile(r"/account#password$"))
    expect(page.locator("#password .notice")).to_be_visible()
    page.fill("#current_password", "temporary-pass-1")
    page.fill("#new_password", "ada's own long password")
    page.fill("#confirm_password", "ada's own long password")
    page.click("#password button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("Password changed")

    page.click(".bottom-nav .nav-admin")
    both_sizes(page, "setup-hub-en")
    page.click("a[href='/admin/users']")
    page.fill("#user-q", "zhao")
    expect(page.locator(".admin-row")).to_have_count(1)
    both_sizes(page, "setup-users-en")
    page.click(".admin-row-link")
    expect(page.locator("h1")).to_have_text("赵敏")
    both_sizes(page, "setup-user-en")
    page.goto("/admin/users/new")
    both_sizes(page, "setup-user-new-en")
    page.goto("/admin/coverage")
    both_sizes(page, "setup-coverage-en")
    page.goto("/admin/communities")
    both_sizes(page, "setup-communities-en")
    page.click(".admin-row-link:has-text('星河湾')")
    both_sizes(page, "setup-community-en")
    page.click(".card-actions a.primary")
    page.fill("#f-valid_from", "2001-01-01")
    page.click("button[type=submit].primary")
    expect(page.locator("#err-valid_from")).to_contain_text("the past is not rewritten")
    both_sizes(page, "setup-policy-refused-en")
    page.goto("/admin/communities")
    page.click(".admin-row-link:has-text('星河湾')")
    page.click(".admin-list .admin-row-link")
    both_sizes(page, "setup-building-en")
