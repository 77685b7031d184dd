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
from .conftest import CHROMIUM, CHROMIUM_ARGS, check_accessibility, choose, fresh_unit, sign_in

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


def visits_at(live_app, unit) -> list[Visit]:
    """The stored visits of one unit, each with its number of photos."""
    with live_app.app_context():
        visits = db.session.scalars(select(Visit).where(Visit.unit_id == unit.id)
                                    .order_by(Visit.id)).all()
        for v in visits:
            v.photo_count = db.session.scalar(
                select(func.count()).select_from(VisitPhoto).where(VisitPhoto.visit_id == v.id))
        db.session.remove()
        return visits


def user_id(live_app, username: str) -> int:
    with live_app.app_context():
        found = db.session.scalar(select(User.id).where(User.username == username))
        db.session.remove()
        return found


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
    """The route list and the cards opened before going offline open without signal."""
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


def open_online(page, urls) -> None:
    """Open pages while online, so the service worker keeps them for the stairwell."""
    for url in urls:
        page.goto(url)
        expect(page.locator("form[data-visit-form]")).to_be_visible()


def test_visits_logged_offline_survive_a_reload_and_are_sent_once(page, live_app):
    """Three visits logged offline wait on the phone through a reload, then reach the
    server once each, with their photos."""
    units = [fresh_unit(live_app, "housekeeper2") for _ in range(3)]
    sign_in(page, "housekeeper2")
    wait_for_worker(page)
    open_online(page, [u.visit_url for u in units])
    page.context.set_offline(True)
    for i, unit in enumerate(units):
        page.goto(unit.visit_url)
        log_visit(page, (40 * i, 90, 120))
        expect(page.locator("#form-message")).to_have_class(re.compile("saved-message"))
    page.reload()
    expect(page.locator(".outbox-badge .outbox-count")).to_have_text("3")
    page.goto("/outbox")
    expect(page.locator(".outbox-item")).to_have_count(3)
    check_accessibility(page, "outbox")
    page.context.set_offline(False)
    expect(page.locator(".outbox-badge")).to_be_hidden(timeout=20_000)
    for unit in units:
        stored = visits_at(live_app, unit)
        assert len(stored) == 1 and stored[0].photo_count == 1, unit


def test_a_lost_answer_is_retried_and_the_visit_stored_once(page_without_worker, live_app):
    """The server stores the visit but its answer never reaches the phone (the connection
    drops after the commit): the phone keeps the visit, sends it again, is told 200 for
    the same client_uuid, and the database holds it once."""
    page = page_without_worker
    unit = fresh_unit(live_app, "housekeeper1")
    answers: list[tuple[int, str]] = []

    def drop_the_first_answer(route):
        if route.request.method != "POST":
            return route.continue_()
        response = route.fetch()  # the request reaches the server, which commits
        answers.append((response.status, response.json().get("client_uuid", "")))
        if len(answers) == 1:
            route.abort("connectionreset")
        else:
            route.fulfill(response=response)

    page.route(re.compile(rf".*/units/{unit.id}/visits(\?.*)?$"), drop_the_first_answer)
    sign_in(page, "housekeeper1")
    page.goto(unit.visit_url)
    log_visit(page, (10, 10, 200))
    expect(page.locator("#form-message")).to_have_class(re.compile("saved-message"))
    assert [status for status, _ in answers] == [201]
    assert len(visits_at(live_app, unit)) == 1  # stored, though the phone does not know
    assert page.evaluate("() => Outbox.mine().then(items => items.length)") == 1
    page.goto("/outbox")
    page.click(".send-now")  # the page's own drain on load may already have sent it
    expect(page.locator(".outbox-item")).to_have_count(0, timeout=15_000)
    assert [status for status, _ in answers] == [201, 200]
    assert answers[0][1] == answers[1][1] != ""
    stored = visits_at(live_app, unit)
    assert len(stored) == 1 and stored[0].client_uuid == answers[0][1]
    assert stored[0].photo_count == 1


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


def queue_one_offline(page, live_app, username: str):
    """Sign in, open a fresh unit's visit form, go offline and log a visit there."""
    unit = fresh_unit(live_app, username)
    sign_in(page, username)
    wait_for_worker(page)
    open_online(page, [unit.visit_url])
    page.context.set_offline(True)
    page.goto(unit.visit_url)
    log_visit(page, (200, 200, 0))
    expect(page.locator("#form-message")).to_have_class(re.compile("saved-message"))
    return unit


def test_expired_session_waits_for_sign_in_then_sends(page, live_app):
    """A visit queued before the session expired waits for sign-in, then is sent once."""
    unit = queue_one_offline(page, live_app, "housekeeper3")
    page.context.clear_cookies()
    page.context.set_offline(False)
    page.goto("/outbox")  # signed out: the login page, the queue untouched
    page.wait_for_timeout(1000)
    assert visits_at(live_app, unit) == []
    sign_in(page, "housekeeper3")
    expect(page.locator(".outbox-badge")).to_be_hidden(timeout=20_000)
    assert len(visits_at(live_app, unit)) == 1


def test_another_user_on_the_same_phone_never_sends_the_queue(page, live_app):
    """Another user signing in on the phone never sends my queue; I send it later."""
    unit = queue_one_offline(page, live_app, "housekeeper1")
    page.context.clear_cookies()
    page.context.set_offline(False)
    sign_in(page, "housekeeper2")
    expect(page.locator(".outbox-badge")).to_be_hidden()
    page.wait_for_timeout(1500)
    assert visits_at(live_app, unit) == []
    page.context.clear_cookies()
    sign_in(page, "housekeeper1")
    expect(page.locator(".outbox-badge")).to_be_hidden(timeout=20_000)
    stored = visits_at(live_app, unit)
    assert len(stored) == 1 and stored[0].user_id == user_id(live_app, "housekeeper1")


def test_new_service_worker_takes_over_without_stranding_the_queue(page, live_app):
    """A deploy's new service worker drops the old caches and the queue still drains."""
    unit = queue_one_offline(page, live_app, "housekeeper2")
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
    assert len(visits_at(live_app, unit)) == 1


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
    unit = fresh_unit(live_app, "housekeeper3")
    sign_in(page, "housekeeper3")
    wait_for_worker(page)
    open_online(page, [unit.visit_url])
    page.context.set_offline(True)
    page.goto(unit.visit_url)
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
    expect(page).to_have_url(re.compile(rf"saved={unit.id}$"))
    stored = visits_at(live_app, unit)
    assert len(stored) == 1 and stored[0].notes == "说下周一转账" and stored[0].photo_count == 1
