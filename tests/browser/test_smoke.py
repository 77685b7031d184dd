"""Sign in on a phone-sized screen and see the home page."""
import re

import pytest
from playwright.sync_api import expect

from .conftest import check_accessibility, sign_in

pytestmark = pytest.mark.browser


def test_login_page_is_accessible(page):
    page.goto("/login")
    expect(page.locator("h1")).to_have_text("上门催缴")
    check_accessibility(page, "login")


def test_wrong_password_shows_a_message_and_keeps_the_username(page):
    sign_in(page, "housekeeper1", "wrong-password")
    expect(page.locator("#login-error")).to_be_visible()
    expect(page.locator("#username")).to_have_value("housekeeper1")


def test_housekeeper_signs_in_and_sees_the_route_list(page):
    sign_in(page, "housekeeper1")
    expect(page).to_have_url(re.compile(r"/route$"))
    expect(page.locator(".route-row").first).to_be_visible()
    expect(page.locator(".bottom-nav a[aria-current=page]")).to_have_count(1)
    check_accessibility(page, "route-list")


def test_account_page_with_a_refused_password_change_is_accessible(page):
    """The error sits by its field; devices, the admin's buttons and headings pass axe."""
    sign_in(page, "admin")
    page.goto("/account")
    expect(page.locator(".device .badge")).to_have_count(1)
    page.fill("#current_password", "not the password")
    page.fill("#new_password", "a brand new passphrase")
    page.fill("#confirm_password", "a brand new passphrase")
    page.click("#password button[type=submit]")
    expect(page.locator("#current_password-error")).to_be_visible()
    check_accessibility(page, "account")
