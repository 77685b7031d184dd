"""A housekeeper's day on a phone: scroll the route list, filter by band, open a unit."""
import re

import pytest
from playwright.sync_api import expect

from .conftest import check_accessibility, sign_in

pytestmark = pytest.mark.browser


def test_scroll_filter_and_open_a_unit(page):
    sign_in(page, "housekeeper1")
    rows = page.locator(".route-row")
    expect(rows).to_have_count(30)
    check_accessibility(page, "route-list-top")

    # Scrolling to the end reveals the sentinel and htmx appends the next page.
    page.locator("li.more").scroll_into_view_if_needed()
    expect(rows).to_have_count(60)
    listed = rows.evaluate_all("els => els.map(e => [e.dataset.band, 'paused' in e.dataset])")
    severity = ["legal", "demand", "visit", "contact", "reminder"]
    paused = [p for _, p in listed]
    assert paused == sorted(paused), "units that promised or were visited today come last"
    ranks = [severity.index(b) for b, p in listed if not p]
    assert ranks == sorted(ranks), "most severe band first"

    chip = page.locator('.chip[data-band="visit"]')
    chip.click()
    expect(page).to_have_url(re.compile(r"band=visit"))
    expect(page.locator('.chip[data-band="visit"][aria-current="true"]')).to_be_visible()
    bands = rows.evaluate_all("els => els.map(e => e.dataset.band)")
    assert bands and set(bands) == {"visit"}
    arrears = rows.evaluate_all(
        "els => els.filter(e => !('paused' in e.dataset)).map(e => +e.dataset.arrearsFen)")
    assert arrears == sorted(arrears, reverse=True)

    label = rows.first.locator(".row-unit").inner_text()
    rows.first.locator(".row-link").click()
    expect(page.locator("h1")).to_have_text(label)
    expect(page.locator(".big-amount")).to_be_visible()
    expect(page.locator('a[href^="tel:"]').first).to_be_visible()
    check_accessibility(page, "unit-card")


def test_active_search_narrows_the_list(page):
    sign_in(page, "housekeeper1")
    first_label = page.locator(".route-row .row-unit").first.inner_text()
    number = first_label.rsplit("-", 1)[1]
    page.fill("#q", number)
    expect(page).to_have_url(re.compile(r"q=" + number))
    labels = page.locator(".route-row .row-unit").all_inner_texts()
    assert labels and all(number in text for text in labels)


def test_english_route_list(page):
    sign_in(page, "housekeeper2")
    page.goto("/account")
    page.check("input[value=en]")
    page.click("form.language-form button[type=submit]")
    expect(page.locator("html")).to_have_attribute("lang", re.compile(r"^en"))
    page.goto("/route")
    expect(page.locator("h1")).to_have_text("Route list")
    check_accessibility(page, "route-list-en")
    page.goto("/account")
    page.check("input[value=zh_CN]")
    page.click("form.language-form button[type=submit]")
    # Waited for: a context closed while this answer loads has hung Chromium on CI.
    expect(page.locator("html")).to_have_attribute("lang", re.compile(r"^zh"))


def test_a_supervisor_finds_a_building_by_name_as_they_type(page, live_app):
    """A view of more buildings than a select can offer: type, pick, see its units."""
    live_app.config["ROUTE_BUILDING_CHOICES"] = 2
    try:
        sign_in(page, "supervisor")
        page.goto("/route?sort=walk")
        page.locator(".filter-sheet summary").click()
        expect(page.locator("select#building")).to_have_count(0)
        page.fill("#bq", "2")
        choices = page.locator("#building-choices a")
        expect(choices.first).to_be_visible()
        names = [text.split()[0] for text in choices.all_inner_texts()]
        assert names and all(name.startswith("2") for name in names)
        expect(page.locator("#building-choices [role=status]")).to_have_count(1)
        check_accessibility(page, "route-building-search")
        # Leaving the field keeps the list as it is: the search is not one of its filters.
        asked = []
        page.on("request", lambda r: asked.append(r.url))
        page.keyboard.press("Tab")
        page.wait_for_timeout(500)
        assert not [url for url in asked if "/route?" in url], asked
        name = names[0]
        choices.first.click()
        expect(page).to_have_url(re.compile(r"building=\d+.*sort=walk|sort=walk.*building="))
        expect(page.locator(".chosen-building strong")).to_have_text(name)
        labels = page.locator(".route-row .row-unit").all_inner_texts()
        assert labels and all(label.startswith(name + "-") for label in labels)
        check_accessibility(page, "route-building-chosen")
    finally:
        live_app.config["ROUTE_BUILDING_CHOICES"] = 200
