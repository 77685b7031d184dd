"""The building filter of a view with more buildings than a select can offer: a search
by name, each building found with its community (names repeat across communities)."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from fieldapp.models import Role

from .factories import TODAY, make_bill, make_building, make_community, make_unit, make_user

CHOICE = re.compile(r'<li><a href="([^"]+)">([^<]+) <span class="muted">([^<]+)</span></a></li>')


def choices(html: str) -> list[tuple[str, str, str]]:
    """(link, building, community) of each building offered."""
    return [(link.replace("&amp;", "&"), name, community)
            for link, name, community in CHOICE.findall(html)]


@pytest.fixture
def estate(app):
    """Two communities that both have a 3栋 and a 30栋; the select gives way to a search
    above two buildings."""
    app.config["ROUTE_BUILDING_CHOICES"] = 2
    east, west = make_community(name="东苑"), make_community(name="西苑")
    found = {(c.name, name): make_building(c, name=name)
             for c in (east, west) for name in ("30栋", "3栋", "5栋")}
    for building in found.values():
        make_bill(make_unit(building), 10_000, TODAY - timedelta(days=40))
    return found


def test_the_whole_estate_offers_a_search_not_a_select(client, login_as, estate):
    login_as(make_user(Role.SUPERVISOR))
    page = client.get("/route").get_data(as_text=True)
    assert 'id="bq"' in page and 'hx-get="/route/buildings"' in page
    assert '<select id="building"' not in page
    assert choices(page) == []  # nothing typed, nothing offered


def test_buildings_are_found_by_the_start_of_their_name_shortest_first(client, login_as,
                                                                       estate):
    login_as(make_user(Role.SUPERVISOR))
    found = choices(client.get("/route/buildings?bq=3&sort=walk").get_data(as_text=True))
    assert [(name, community) for _, name, community in found] == [
        ("3栋", "东苑"), ("3栋", "西苑"), ("30栋", "东苑"), ("30栋", "西苑")]
    # Each link lists that building, keeping the other filters.
    link = found[1][0]
    assert f"building={estate[('西苑', '3栋')].id}" in link and "sort=walk" in link
    assert "bq=" not in link


def test_a_chosen_building_shows_by_name_and_lists_its_units(client, login_as, estate):
    login_as(make_user(Role.SUPERVISOR))
    building = estate[("西苑", "5栋")]
    page = client.get(f"/route?building={building.id}").get_data(as_text=True)
    assert re.search(r'<strong>5栋</strong>\s*<span class="muted">西苑</span>', page)
    assert f'name="building" value="{building.id}"' in page  # kept by the next search
    assert page.count('data-unit-id="') == 1
    assert 'href="/route">' in page  # back to every building


def test_without_script_the_filter_form_shows_what_was_typed_found(client, login_as, estate):
    login_as(make_user(Role.SUPERVISOR))
    page = client.get("/route?bq=5").get_data(as_text=True)
    assert [name for _, name, _ in choices(page)] == ["5栋", "5栋"]
    assert 'value="5"' in page and "<details class=\"filter-sheet\" open>" in page


def test_nothing_found_says_so_and_wildcards_are_plain_text(client, login_as, estate):
    login_as(make_user(Role.SUPERVISOR))
    for typed in ("9", "%", "_栋"):
        html = client.get("/route/buildings", query_string={"bq": typed}).get_data(as_text=True)
        assert choices(html) == [], typed
        assert f"没有名称以“{typed}”开头的楼栋" in html


def test_a_housekeeper_finds_only_the_buildings_of_the_patch(client, login_as, estate, app):
    app.config["ROUTE_BUILDING_CHOICES"] = 0
    mine = estate[("东苑", "3栋")]
    hk = make_user(Role.HOUSEKEEPER, buildings=[mine])
    login_as(hk)
    found = choices(client.get("/route/buildings?bq=3").get_data(as_text=True))
    assert [link for link, _, _ in found] == [f"/route?building={mine.id}"]
    # Another patch's housekeeper, as a supervisor sees it: that patch's buildings only.
    login_as(make_user(Role.SUPERVISOR))
    found = choices(client.get(f"/route/buildings?bq=3&hk={hk.id}").get_data(as_text=True))
    assert [name for _, name, _ in found] == ["3栋"]
    assert client.get("/route/buildings?bq=3&hk=999999").status_code == 404


def test_a_long_search_is_cut_to_the_search_limit(client, login_as, estate):
    login_as(make_user(Role.SUPERVISOR))
    response = client.get("/route/buildings", query_string={"bq": "9" * 5000})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and choices(html) == []
    assert "“" + "9" * 40 + "”" in html  # what was searched for: the first 40


def test_a_name_is_found_whatever_its_letters_case_and_spaces_are_not_searched(
        client, login_as, estate, app):
    make_building(make_community(name="南苑"), name="B座")
    login_as(make_user(Role.SUPERVISOR))
    html = client.get("/route/buildings?bq=b").get_data(as_text=True)
    assert [name for _, name, _ in choices(html)] == ["B座"]
    assert "找到 1 个楼栋" in html  # said to a screen reader
    blank = client.get("/route/buildings", query_string={"bq": "   "}).get_data(as_text=True)
    assert choices(blank) == [] and "开头的楼栋" not in blank
