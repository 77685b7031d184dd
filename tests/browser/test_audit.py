"""The supervisor's audit trail on a phone: filters swap the list in place."""
import re

import pytest
from playwright.sync_api import expect

from .conftest import check_accessibility, sign_in

pytestmark = pytest.mark.browser


def test_supervisor_filters_the_audit_trail(page):
    sign_in(page, "supervisor")
    page.click(".bottom-nav .nav-audit")
    expect(page).to_have_url(re.compile(r"/audit$"))
    expect(page.locator(".audit-event").first).to_be_visible()
    page.select_option("#audit-kind", "user")
    expect(page).to_have_url(re.compile(r"kind=user"))
    expect(page.locator(".audit-event strong").first).to_have_text(re.compile("登录|退出"))
    check_accessibility(page, "audit")
    page.fill("#audit-from", "2001-01-01")
    page.fill("#audit-to", "2001-01-02")
    page.click(".audit-filters button[type=submit]")
    expect(page.locator(".empty-state")).to_be_visible()
