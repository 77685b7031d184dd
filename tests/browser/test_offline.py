"""Installable and offline, with the service worker active (OFFLINE.md §8)."""
from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from fieldapp.extensions import db
from fieldapp.models import User, Visit, VisitPhoto

from ..photos import make_jpeg
from .conftest import CHROMIUM, CHROMIUM_ARGS, check_accessibility, choose, sign_in

pytestmark = pytest.mark.browser


def wait_for_worker(page) -> None:
    """Reload until the service worker controls the page (first load only installs it)."""
    for _ in range(40):
        if page.evaluate("() => !!navigator.serviceWorker.controller"):
            return
        time.sleep(0.25)
        if _ % 8 == 7:
            page.reload()
    raise AssertionError("service worker never took control")


def visits_by(live_app, username: str) -> list[Visit]:
    with live_app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        visits = db.session.scalars(select(Visit).where(Visit.user_id == user.id)).all()
        for v in visits:
            v.photo_count = db.session.scalar(
                select(func.count()).select_from(VisitPhoto).where(VisitPhoto.visit_id == v.id))
        db.session.remove()
        return visits


def log_visit(page, photo_color) -> None:
    choose(page, "outcome", "nobody_home")
    choose(page, "notice_type", "reminder")
    choose(page, "delivery", "door")
    page.set_input_files(".photo-take input", files=[{
        "name": "door.jpg", "mimeType": "image/jpeg",
        "buffer": make_jpeg(1200, 900, color=photo_color)}])
    expect(page.locator(".thumbs img")).to_have_count(1)
    page.click(".submit-visit")


def test_route_list_and_opened_cards_work_offline(page):
    sign_in(page, "housekeeper3")
    wait_for_worker(page)
    page.goto("/route")
    cards = []
    for i in (0, 1):
        page.locator(".route-row .row-link").nth(i).click()
        expect(page.locator(".big-amount")).to_be_visible()
        cards.append((page.url, page.locator("h1").inner_text()))
        page.go_back()
    page.context.set_offline(True)
    page.reload()
    expect(page.locator(".offline-banner")).to_be_visible()
    expect(page.locator(".offline-banner")).to_contain_text(re.compile(r"\d\d:\d\d"))
    expect(page.locator(".route-row").first).to_be_visible()
    assert page.locator("html").count() == 1 and page.locator(".bottom-nav").count() == 1
    for url, title in cards:
        page.goto(url)
        expect(page.locator("h1")).to_have_text(title)
        expect(page.locator(".offline-banner")).to_be_visible()
    page.goto("/workorders/never-opened")
    expect(page.locator("main")).to_contain_text(re.compile("离线|No signal|没有保存"))
    check_accessibility(page, "offline-page")
    page.context.set_offline(False)


def test_visits_logged_offline_survive_a_reload_and_are_sent_once(page, live_app):
    before = len(visits_by(live_app, "housekeeper2"))
    sign_in(page, "housekeeper2")
    wait_for_worker(page)
    page.goto("/route")
    page.wait_for_timeout(1500)  # prefetch of the next cards and visit forms
    visit_urls = page.locator(".route-row").evaluate_all(
        "els => els.slice(0, 3).map(e => e.dataset.visitUrl)")
    page.context.set_offline(True)
    for i, url in enumerate(visit_urls):
        page.goto(url)
        log_visit(page, (40 * i, 90, 120))
        expect(page.locator("#form-message")).to_have_class(re.compile("saved-message"))
    page.reload()
    expect(page.locator(".outbox-badge .outbox-count")).to_have_text("3")
    page.goto("/outbox")
    expect(page.locator(".outbox-item")).to_have_count(3)
    check_accessibility(page, "outbox")
    page.context.set_offline(False)
    expect(page.locator(".outbox-badge")).to_be_hidden(timeout=20_000)
    stored = visits_by(live_app, "housekeeper2")[before:]
    assert len(stored) == 3
    assert len({v.client_uuid for v in stored}) == 3
    assert all(v.photo_count == 1 for v in stored)


def test_server_error_is_retried_and_stored_once(page, live_app):
    before = len(visits_by(live_app, "housekeeper1"))
    sign_in(page, "housekeeper1")
    failures = {"left": 1}

    def fail_once(route):
        if route.request.method == "POST" and failures["left"]:
            failures["left"] -= 1
            route.fulfill(status=500, content_type="application/json",
                          body='{"error": "server_error"}')
        else:
            route.continue_()

    page.route(re.compile(r".*/units/\d+/visits(\?.*)?$"), fail_once)
    page.goto(page.locator(".route-row").nth(5).get_attribute("data-visit-url"))
    log_visit(page, (10, 10, 200))
    expect(page.locator("#form-message")).to_have_class(re.compile("saved-message"))
    assert failures["left"] == 0
    page.goto("/outbox")
    page.click(".send-now")
    expect(page.locator(".outbox-item")).to_have_count(0, timeout=15_000)
    assert len(visits_by(live_app, "housekeeper1")) == before + 1


def test_installable_without_errors(pw, tmp_path, live_server):
    """Chromium reports no installability errors (a persistent profile: not incognito)."""
    context = pw.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS,
        base_url=live_server)
    page = context.new_page()
    page.goto("/login")
    cdp = context.new_cdp_session(page)
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    manifest = page.evaluate("() => fetch('/manifest.webmanifest').then(r => r.json())")
    context.close()
    assert errors == []
    assert manifest["display"] == "standalone"
    assert {"192x192", "512x512"} <= {i["sizes"] for i in manifest["icons"]}
    assert any(i.get("purpose") == "maskable" for i in manifest["icons"])


def queue_one_offline(page, username: str) -> str:
    sign_in(page, username)
    wait_for_worker(page)
    page.goto("/route")
    page.wait_for_timeout(1500)
    url = page.locator(".route-row").nth(7).get_attribute("data-visit-url")
    page.context.set_offline(True)
    page.goto(url)
    log_visit(page, (200, 200, 0))
    expect(page.locator("#form-message")).to_have_class(re.compile("saved-message"))
    return url


def test_expired_session_waits_for_sign_in_then_sends(page, live_app):
    before = len(visits_by(live_app, "housekeeper3"))
    queue_one_offline(page, "housekeeper3")
    page.context.clear_cookies()
    page.context.set_offline(False)
    page.goto("/outbox")  # signed out: the login page, the queue untouched
    page.wait_for_timeout(1000)
    assert len(visits_by(live_app, "housekeeper3")) == before
    sign_in(page, "housekeeper3")
    expect(page.locator(".outbox-badge")).to_be_hidden(timeout=20_000)
    assert len(visits_by(live_app, "housekeeper3")) == before + 1


def test_another_user_on_the_same_phone_never_sends_the_queue(page, live_app):
    before = {u: len(visits_by(live_app, u)) for u in ("housekeeper1", "housekeeper2")}
    queue_one_offline(page, "housekeeper1")
    page.context.clear_cookies()
    page.context.set_offline(False)
    sign_in(page, "housekeeper2")
    expect(page.locator(".outbox-badge")).to_be_hidden()
    page.wait_for_timeout(1500)
    assert len(visits_by(live_app, "housekeeper2")) == before["housekeeper2"]
    assert len(visits_by(live_app, "housekeeper1")) == before["housekeeper1"]
    page.context.clear_cookies()
    sign_in(page, "housekeeper1")
    expect(page.locator(".outbox-badge")).to_be_hidden(timeout=20_000)
    assert len(visits_by(live_app, "housekeeper1")) == before["housekeeper1"] + 1


def test_new_service_worker_takes_over_without_stranding_the_queue(page, live_app):
    before = len(visits_by(live_app, "housekeeper2"))
    queue_one_offline(page, "housekeeper2")
    old = page.evaluate("() => caches.keys()")
    live_app.config["SW_VERSION_SALT"] = "v2"  # a deploy with a new worker
    try:
        page.context.set_offline(False)
        page.evaluate("() => navigator.serviceWorker.getRegistration().then(r => r.update())")
        for _ in range(40):
            keys = page.evaluate("() => caches.keys()")
            if keys and not set(keys) & set(old):
                break
            time.sleep(0.25)
        assert not set(page.evaluate("() => caches.keys()")) & set(old)
        page.goto("/route")
        expect(page.locator(".outbox-badge")).to_be_hidden(timeout=20_000)
    finally:
        live_app.config["SW_VERSION_SALT"] = ""
    assert len(visits_by(live_app, "housekeeper2")) == before + 1


def test_page_and_fragment_of_one_url_do_not_overwrite_each_other(page):
    """The htmx fragment of /route?page=2 and the page itself are cached apart."""
    sign_in(page, "housekeeper1")
    wait_for_worker(page)
    page.goto("/route")
    page.locator("li.more").scroll_into_view_if_needed()  # the fragment, via htmx
    expect(page.locator(".route-row")).to_have_count(60)
    page.goto("/route?page=2")  # the whole page
    page.goto("/route")
    page.context.set_offline(True)
    page.goto("/route?page=2")
    expect(page.locator(".bottom-nav")).to_be_visible()
    expect(page.locator(".offline-banner")).to_be_visible()
    expect(page.locator(".route-row")).to_have_count(30)
    fragment = page.evaluate("""() => fetch('/route?page=2', {headers: {'HX-Request': 'true',
        'HX-Request-Type': 'partial', 'HX-Target': 'li#route-more'}}).then(r => r.text())""")
    assert "<html" not in fragment and "data-unit-id" in fragment
    page.context.set_offline(False)


def test_refused_visit_waits_for_the_user_and_is_fixed_from_the_outbox(page, live_app):
    """A 422 keeps the visit on the phone; "fix" reopens it as it was, errors shown."""
    before = len(visits_by(live_app, "housekeeper3"))
    sign_in(page, "housekeeper3")
    wait_for_worker(page)
    page.goto("/route")
    page.wait_for_timeout(1500)
    url = page.locator(".route-row").nth(1).get_attribute("data-visit-url")
    page.context.set_offline(True)
    page.goto(url)
    choose(page, "outcome", "met_owner")
    choose(page, "reason", "forgot")
    page.fill("#promise_date", "2026-12-05")
    page.fill("#promise_amount", "99999999")  # more than the arrears
    page.fill("#notes", "说下周一转账")
    log_photo = make_jpeg(400, 300)
    page.set_input_files(".photo-take input", files=[
        {"name": "door.jpg", "mimeType": "image/jpeg", "buffer": log_photo}])
    page.click(".submit-visit")
    expect(page.locator("#form-message")).to_have_class(re.compile("saved-message"))
    page.context.set_offline(False)
    page.goto("/outbox")
    item = page.locator(".outbox-item")
    expect(item).to_have_class(re.compile("state-needs_user"), timeout=15_000)
    expect(item.locator(".outbox-errors")).to_contain_text("¥")  # "more than the arrears (¥…)"
    item.get_by_role("link").click()
    expect(page.locator("#promise_amount")).to_be_focused()
    expect(page.locator("#promise_amount")).to_have_value("99999999")
    expect(page.locator("#notes")).to_have_value("说下周一转账")
    expect(page.locator(".thumbs img")).to_have_count(1)
    expect(page.locator("#err-promise_amount")).to_be_visible()
    page.fill("#promise_amount", "100")
    page.click(".submit-visit")
    expect(page).to_have_url(re.compile(r"saved=\d+$"))
    stored = visits_by(live_app, "housekeeper3")[before:]
    assert len(stored) == 1 and stored[0].notes == "说下周一转账" and stored[0].photo_count == 1
