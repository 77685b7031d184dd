"""The route list's order, bands, chips, search and rows, from the route services: most
severe band first, then largest arrears; walking order; nearest building; promises first;
each unit banded by its own community; ties always broken the same way."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from fieldapp.domain.arrears import aging_band, bands_from_policy
from fieldapp.extensions import db
from fieldapp.models import DEFAULT_BANDS, Contact, ContactKind, Role, Unit
from fieldapp.route.services import RouteFilters, band_counts, held_rows, route_page

from .factories import (
    TODAY,
    make_bill,
    make_building,
    make_community,
    make_unit,
    make_user,
)


@pytest.fixture
def patch(app):
    community = make_community()
    b1 = make_building(community, name="1栋", lat=31.2300, lon=121.4700)
    b2 = make_building(community, name="2栋", lat=31.2400, lon=121.4800)
    return b1, b2


def overdue(building, days: int, amount: int = 10_000, **kw) -> int:
    unit = make_unit(building, **kw)
    make_bill(unit, amount, TODAY - timedelta(days=days))
    return unit.id


def listed(*buildings, size: int = 100, page: int = 1, **filters) -> list[int]:
    f = RouteFilters(building_ids=[b.id for b in buildings], **filters)
    return [row.unit_id for row in route_page(db.session, f, TODAY, page, size).rows]


def set_units(**values_by_unit):
    """Write summary fields directly, as visits and repairs would have."""
    for unit_id, values in values_by_unit.items():
        unit = db.session.get(Unit, int(unit_id.removeprefix("u")))
        for name, value in values.items():
            setattr(unit, name, value)
    db.session.commit()


BOUNDARIES = [1, 15, 16, 30, 31, 60, 61, 180, 181]


def test_each_unit_is_in_the_band_its_days_overdue_give(patch):
    """At every band boundary the row's band, the band filter and the chips all agree
    with the domain's `aging_band`."""
    b1, _ = patch
    ids = {overdue(b1, days): days for days in BOUNDARIES}
    page = route_page(db.session, RouteFilters(building_ids=[b1.id]), TODAY, 1, 50)
    bands = bands_from_policy(DEFAULT_BANDS)
    expected = {u: aging_band(d, bands).key for u, d in ids.items()}
    assert {r.unit_id: r.band.key for r in page.rows} == expected
    assert {r.unit_id: r.days_overdue for r in page.rows} == ids
    for band in bands:
        assert set(listed(b1, band=band.key)) == {u for u, k in expected.items() if k == band.key}
    counts, _ = band_counts(db.session, RouteFilters(building_ids=[b1.id]), TODAY,
                            {p.community_id: p for p in _policies()})
    assert {c.band.key: c.units for c in counts} == \
        {b.key: list(expected.values()).count(b.key) for b in bands}


def test_a_change_to_a_communitys_bands_applies_at_once(patch):
    """An administrator moving a band's threshold re-bands the list on the next request,
    in the same process."""
    b1, _ = patch
    unit_id = overdue(b1, 40)
    assert [r.band.key for r in route_page(db.session, RouteFilters(building_ids=[b1.id]),
                                           TODAY, 1, 30).rows] == ["visit"]
    policy = b1.community.policy
    policy.bands = [dict(b, min_days=45) if b["key"] == "visit" else b for b in policy.bands]
    db.session.commit()
    assert listed(b1, band="contact") == [unit_id]
    assert listed(b1, band="visit") == []


def test_most_severe_band_first_then_largest_arrears_then_unit(patch):
    """By band (most severe first), then arrears (largest first), then the unit's id."""
    b1, b2 = patch
    small_legal = overdue(b1, 200, 1_000)
    big_demand = overdue(b2, 90, 90_000)
    tie_a = overdue(b1, 100, 50_000)
    tie_b = overdue(b2, 70, 50_000)
    contact = overdue(b1, 20, 99_000)
    assert listed(b1, b2) == [small_legal, big_demand, tie_a, tie_b, contact]


def test_within_a_stage_arrears_decide_whatever_the_band(app):
    """Two bands on the same dunning stage rank as one: severity is the stage alone, so
    within it the larger arrears come first, whichever band's threshold is higher."""
    community = make_community(bands=[
        {"key": "early", "min_days": 1, "stage": "reminder"},
        {"key": "visit1", "min_days": 31, "stage": "visit"},
        {"key": "visit2", "min_days": 46, "stage": "visit"}])
    b = make_building(community)
    in_visit1 = overdue(b, 40, 90_000)
    in_visit2 = overdue(b, 50, 1_000)
    assert listed(b) == [in_visit1, in_visit2]


def test_walking_order_is_building_floor_then_number(patch):
    """Walking order: building, then floor, then door number, whatever the arrears."""
    b1, b2 = patch
    b2_f1 = overdue(b2, 200, floor=1, number="0101")
    b1_f3_b = overdue(b1, 5, floor=3, number="0302")
    b1_f3_a = overdue(b1, 50, floor=3, number="0301")
    b1_f9 = overdue(b1, 100, floor=9, number="0901")
    b1_f10 = overdue(b1, 100, floor=10, number="1001")
    assert listed(b1, b2, sort="walk") == [b1_f3_a, b1_f3_b, b1_f9, b1_f10, b2_f1]


def test_nearest_building_first_then_walking_order_inside_it(patch):
    """Distance ranks buildings; inside a building the floor and number decide; a
    building without coordinates comes last."""
    b1, b2 = patch
    nowhere = make_building(b1.community, lat=None, lon=None)
    far_low = overdue(b1, 10, floor=2, number="0201")
    near_high = overdue(b2, 10, floor=7, number="0701")
    near_low = overdue(b2, 300, floor=1, number="0101")
    lost = overdue(nowhere, 400, 99_000)
    order = listed(b1, b2, nowhere, sort="distance", lat=31.2401, lon=121.4801)
    assert order == [near_low, near_high, far_low, lost]
    page = route_page(db.session, RouteFilters(building_ids=[b1.id, b2.id, nowhere.id],
                                               sort="distance", lat=31.2401, lon=121.4801),
                      TODAY, 1, 10)
    metres = {r.unit_id: r.distance_m for r in page.rows}
    assert metres[near_low] < 100 < metres[far_low] and metres[lost] is None


def test_distance_with_no_building_placed_is_floor_and_number(app):
    """When no building of the patch has coordinates, "nearest" lists by floor and door."""
    b = make_building(lat=None, lon=None)
    high, low = overdue(b, 300, floor=9), overdue(b, 10, floor=2)
    assert listed(b, sort="distance", lat=31.24, lon=121.48) == [low, high]


def test_distance_without_a_position_is_walking_order(patch):
    """Asked for "nearest" with no position, the list falls back to walking order."""
    b1, b2 = patch
    second = overdue(b2, 200)
    first = overdue(b1, 5)
    assert listed(b1, b2, sort="distance") == [first, second]
    assert listed(b1, b2, sort="distance", lat=31.24) == [first, second]


def test_promises_first_by_date_then_by_severity(patch):
    """Promised units first, soonest first (same date: severity, then arrears); then the
    unpromised by severity and arrears."""
    b1, b2 = patch
    ids = {name: overdue(b, days, amount) for name, b, days, amount in [
        ("soon", b1, 20, 1_000), ("later_legal", b2, 300, 1_000), ("later_contact", b1, 20, 9_000),
        ("later_contact_small", b2, 20, 500), ("none_legal", b1, 300, 1_000),
        ("none_visit", b2, 40, 99_000)]}
    dates = {"soon": 2, "later_legal": 9, "later_contact": 9, "later_contact_small": 9}
    set_units(**{f"u{ids[name]}": {"next_promise_date": TODAY + timedelta(days=d),
                                   "promise_status": "open"}
                 for name, d in dates.items()})
    # A kept promise is no longer a promise to chase: it sorts with the unpromised.
    kept = overdue(b1, 300, 500)
    set_units(**{f"u{kept}": {"next_promise_date": TODAY + timedelta(days=1),
                              "promise_status": "kept"}})
    assert listed(b1, b2, sort="promise") == [ids[n] for n in (
        "soon", "later_legal", "later_contact", "later_contact_small", "none_legal")] + \
        [kept, ids["none_visit"]]


def test_switching_sorts_gives_each_its_own_order(patch):
    """The same patch asked by arrears, by walk and by promise in turn: each answer in its
    own order (built statements are kept per sort)."""
    b1, b2 = patch
    heavy = overdue(b2, 300, 90_000, floor=1)
    light = overdue(b1, 20, 1_000, floor=1)
    set_units(**{f"u{light}": {"next_promise_date": TODAY + timedelta(days=3),
                               "promise_status": "open"}})
    assert listed(b1, b2) == [heavy, light]
    assert listed(b1, b2, sort="walk") == [light, heavy]
    assert listed(b1, b2, sort="promise") == [light, heavy]
    assert listed(b1, b2) == [heavy, light]


def test_exactly_one_page_has_no_next_page(patch):
    """A patch of exactly one page shows no "more"; one unit more does."""
    b1, _ = patch
    for i in range(4):
        overdue(b1, 20 + i)
    f = RouteFilters(building_ids=[b1.id])
    assert route_page(db.session, f, TODAY, 1, 4).has_more is False
    overdue(b1, 90)
    first, second = (route_page(db.session, f, TODAY, n, 4) for n in (1, 2))
    assert first.has_more and not second.has_more
    assert len(first.rows) == 4 and len(second.rows) == 1


def test_pages_do_not_overlap_or_skip(patch):
    """Paging through the list visits every unit once, in the list's order."""
    b1, b2 = patch
    ids = [overdue(b1 if i % 2 else b2, 10 + i * 7, 1_000 + (i % 3) * 500) for i in range(11)]
    pages = [listed(b1, b2, size=4, page=n) for n in (1, 2, 3)]
    assert sum(pages, []) == listed(b1, b2) and sorted(sum(pages, [])) == sorted(ids)


def test_only_overdue_units_of_the_patch_are_listed(patch):
    """A unit with one fen overdue is listed; settled units, units with bills not yet
    due, units on hold and units outside the patch are not."""
    b1, b2 = patch
    one_fen = overdue(b1, 3, 1)
    make_unit(b1)  # no bills at all
    make_bill(make_unit(b1), 50_000, TODAY)  # due today: not yet overdue
    held = overdue(b1, 100)
    set_units(**{f"u{held}": {"on_hold": True}})
    overdue(b2, 100)  # another building
    assert listed(b1) == [one_fen]
    assert [r.unit_id for r in held_rows(db.session, RouteFilters(building_ids=[b1.id]),
                                         TODAY, {p.community_id: p for p in _policies()})] == [held]


def _policies():
    from fieldapp.models import Policy
    return db.session.scalars(db.select(Policy)).all()


def test_held_units_are_in_walking_order_whatever_the_band_filter(patch):
    """The repair-pending section lists every held unit by building, floor and number
    (a shop's number need not follow its floor), even while the list is filtered."""
    b1, b2 = patch
    ids = [overdue(b2, 300, floor=1), overdue(b1, 20, floor=5, number="0502"),
           overdue(b1, 90, floor=2, number="S-12"), overdue(b1, 40, floor=5, number="0501")]
    set_units(**{f"u{u}": {"on_hold": True} for u in ids})
    policies = {p.community_id: p for p in _policies()}
    for band in (None, "visit"):
        rows = held_rows(db.session, RouteFilters(building_ids=[b1.id, b2.id], band=band),
                         TODAY, policies)
        assert [r.unit_id for r in rows] == [ids[2], ids[3], ids[1], ids[0]], band
        assert all(r.badges[0] == "on_hold" for r in rows)


def test_held_units_are_searched_like_the_list(patch):
    """A search narrows the repair-pending section too (each search its own query)."""
    b1, _ = patch
    found, other = overdue(b1, 40, number="0801"), overdue(b1, 40, number="1203")
    set_units(**{f"u{found}": {"on_hold": True}, f"u{other}": {"on_hold": True}})
    policies = {p.community_id: p for p in _policies()}
    rows = held_rows(db.session, RouteFilters(building_ids=[b1.id]), TODAY, policies)
    assert {r.unit_id for r in rows} == {found, other}
    rows = held_rows(db.session, RouteFilters(building_ids=[b1.id], q="08"), TODAY, policies)
    assert [r.unit_id for r in rows] == [found]


def test_buildings_with_half_a_position_count_as_unplaced(patch):
    """A building missing its latitude or its longitude sorts last, with no distance."""
    b1, b2 = patch
    no_lat = make_building(b1.community, lat=None, lon=121.48)
    no_lon = make_building(b1.community, lat=31.24, lon=None)
    placed = overdue(b2, 10)
    unplaced = [overdue(no_lat, 10), overdue(no_lon, 10)]
    page = route_page(db.session, RouteFilters(building_ids=[b2.id, no_lat.id, no_lon.id],
                                               sort="distance", lat=31.2401, lon=121.4801),
                      TODAY, 1, 10)
    assert page.rows[0].unit_id == placed and {r.unit_id for r in page.rows[1:]} == set(unplaced)
    assert [r.distance_m is None for r in page.rows] == [False, True, True]


def test_supervisors_sort_every_patch_by_distance(patch):
    """With no patch (a supervisor's overview) the nearest building still comes first."""
    b1, b2 = patch
    far, near = overdue(b1, 10), overdue(b2, 10)
    page = route_page(db.session, RouteFilters(building_ids=None, sort="distance",
                                               lat=31.2401, lon=121.4801), TODAY, 1, 10)
    assert [r.unit_id for r in page.rows] == [near, far]


def test_band_filter_keeps_one_band(patch):
    """Filtering by a band lists only that band's units, still in arrears order."""
    b1, b2 = patch
    small, big = overdue(b1, 40, 1_000), overdue(b2, 50, 9_000)
    overdue(b1, 100)
    assert listed(b1, b2, band="visit") == [big, small]
    assert listed(b1, b2, band="reminder") == []


def test_chips_count_every_band_most_severe_first_ignoring_the_band_filter(patch):
    """One chip per band, most severe first, each with its units and arrears; the held
    units are counted apart; choosing a band does not change the chips."""
    b1, b2 = patch
    overdue(b1, 40, 1_000)
    overdue(b2, 45, 2_550)
    overdue(b2, 400, 7_000)
    held_a, held_b = overdue(b1, 100), overdue(b1, 5)
    set_units(**{f"u{held_a}": {"on_hold": True}, f"u{held_b}": {"on_hold": True}})
    policies = {p.community_id: p for p in _policies()}
    f = RouteFilters(building_ids=[b1.id, b2.id])
    counts, held = band_counts(db.session, f, TODAY, policies)
    assert [(c.band.key, c.units, c.arrears_fen) for c in counts] == [
        ("legal", 1, 7_000), ("demand", 0, 0), ("visit", 2, 3_550), ("contact", 0, 0),
        ("reminder", 0, 0)]
    assert held == 2
    assert band_counts(db.session, replace(f, band="legal"), TODAY, policies) == (counts, held)


def test_an_empty_patch_has_no_rows_and_no_chips(app):
    """No buildings, no policies: nothing to list or count, and no next page."""
    f = RouteFilters(building_ids=[])
    empty = route_page(db.session, f, TODAY, 1, 30)
    assert (empty.rows, empty.page, empty.has_more, empty.policies) == ([], 1, False, {})
    assert band_counts(db.session, f, TODAY, {}) == ([], 0)
    assert held_rows(db.session, f, TODAY, {}) == []


@pytest.mark.parametrize("query,expected", [
    ("1203", ["1203"]),
    ("12", ["1203", "1205"]),
    ("张", ["1203"]),           # surname
    ("张伟", ["1203"]),         # name
    ("伟", []),                 # a name is matched from its start
    ("李四", ["0801"]),         # a tenant is found too
    ("Smith", ["0801"]),        # a surname that does not start the name
    ("1%3", ["1301"]),          # LIKE wildcards are dropped, not obeyed
    ("1_0", ["1003"]),
    ("12\\", ["1203", "1205"]),  # a stray backslash is ignored
    ("A-1-08", ["0801"]),       # building-number, as shown on the rows
    ("A-1-12", []),
    ("", ["0801", "1003", "1203", "1205", "1301"]),
])
def test_search_by_number_name_or_label(app, query, expected):
    """Search finds a door number's start, a contact's surname or name start, or the
    row's "building-number" label, even when the building's name has a dash."""
    a1 = make_building(name="A-1")
    b = make_building(make_community(), name="B")
    in_a1 = make_unit(a1, number="0801", owner="王芳")
    db.session.add_all([
        Contact(unit=in_a1, kind=ContactKind.TENANT, name="李四", surname="李"),
        Contact(unit=in_a1, kind=ContactKind.TENANT, name="Tom Smith", surname="Smith")])
    db.session.commit()
    make_bill(in_a1, 1_000, TODAY - timedelta(days=40))
    for number, owner in (("1203", "张伟"), ("1205", "刘洋"), ("1301", "陈静"), ("1003", "赵磊")):
        make_bill(make_unit(b, number=number, owner=owner), 1_000, TODAY - timedelta(days=40))
    f = RouteFilters(building_ids=[a1.id, b.id], q=query, sort="walk")
    page = route_page(db.session, f, TODAY, 1, 30)
    assert sorted(r.label.rsplit("-", 1)[1] for r in page.rows) == expected


def test_the_band_filter_is_the_band_of_the_day_asked(patch):
    """The same unit is in the visit band today and in the demand band a month on: the
    statements kept between requests are kept per day and band set."""
    b1, _ = patch
    unit_id = overdue(b1, 40)
    later = TODAY + timedelta(days=30)

    def in_band(band, today):
        f = RouteFilters(building_ids=[b1.id], band=band)
        return [row.unit_id for row in route_page(db.session, f, today, 1, 30).rows]

    assert in_band("visit", TODAY) == [unit_id]
    assert in_band("visit", later) == []
    assert in_band("demand", later) == [unit_id]


def test_a_row_shows_the_owner_not_the_tenant(patch):
    """The row's name and number are the owner's (or the company's finance contact),
    the first one on file; a tenant is never shown instead, even when alone."""
    b1, _ = patch
    unit_id = overdue(b1, 40, owner=None)
    unit = db.session.get(Unit, unit_id)
    db.session.add_all([
        Contact(unit=unit, kind=ContactKind.TENANT, name="赵磊", surname="赵", phone="15800000001"),
        Contact(unit=unit, kind=ContactKind.OWNER, name="陈静", surname="陈", phone="13600000002"),
        Contact(unit=unit, kind=ContactKind.OWNER, name="陈默", surname="默", phone="13600000003"),
    ])
    company = db.session.get(Unit, overdue(b1, 50, owner=None))
    db.session.add(Contact(unit=company, kind=ContactKind.FINANCE, name="财务部", surname="财",
                           phone="02100000004"))
    db.session.commit()
    tenanted = db.session.get(Unit, overdue(b1, 60, owner=None))
    db.session.add(Contact(unit=tenanted, kind=ContactKind.TENANT, name="孙丽", surname="孙",
                           phone="15800000005"))
    db.session.commit()
    rows = {r.unit_id: r for r in
            route_page(db.session, RouteFilters(building_ids=[b1.id]), TODAY, 1, 30).rows}
    assert (rows[unit_id].owner_surname, rows[unit_id].owner_phone) == ("陈", "13600000002")
    assert (rows[company.id].owner_surname, rows[company.id].owner_phone) == ("财", "02100000004")
    assert (rows[tenanted.id].owner_surname, rows[tenanted.id].owner_phone) == ("", "")


def test_row_fields_come_from_the_unit(patch):
    """Label, floor, arrears, days overdue, late fee, last visit and promise come
    through as stored."""
    b1, _ = patch
    unit_id = overdue(b1, 45, 100_000, floor=7, number="0702")
    visited = datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)
    set_units(**{f"u{unit_id}": {"last_visit_at": visited, "last_visit_outcome": "refused",
                                 "next_promise_date": TODAY + timedelta(days=5)}})
    row = route_page(db.session, RouteFilters(building_ids=[b1.id]), TODAY, 1, 30).rows[0]
    assert (row.label, row.building_id, row.floor) == ("1栋-0702", b1.id, 7)
    assert (row.arrears_fen, row.days_overdue, row.late_fee_fen) == (100_000, 45, 900)
    assert row.last_visit_at.replace(tzinfo=timezone.utc) == visited
    assert (row.last_visit_outcome, row.next_promise_date) == ("refused",
                                                                TODAY + timedelta(days=5))
    assert row.distance_m is None


RECTIFIED = datetime(2026, 11, 1, tzinfo=timezone.utc)


def promised(days: int, status: str = "open") -> dict:
    return {"next_promise_date": TODAY + timedelta(days=days), "promise_status": status}


@pytest.mark.parametrize("values,badges", [
    ({}, []),
    ({"rectified_at": RECTIFIED}, ["rectified"]),
    (promised(1), ["promise"]),
    (promised(0), ["promise_today"]),
    (promised(-3), ["promise_today"]),
    (promised(-3, "kept"), ["promise_kept"]),
    (promised(-3, "broken"), ["promise_broken"]),
    ({"next_promise_date": TODAY + timedelta(days=1)}, []),  # no status: nothing promised
    ({"plan_status": "on_track"}, ["plan_on_track"]),
    ({"plan_status": "behind"}, ["plan_behind"]),
    ({"plan_status": "done"}, []),
    ({"broken_promises_in_row": 1}, []),
    ({"broken_promises_in_row": 2}, ["flagged"]),
    ({"late_fee_waived_fen": 1}, ["waived"]),
    ({"rectified_at": RECTIFIED, "late_fee_waived_fen": 900, "plan_status": "behind",
      "broken_promises_in_row": 3, **promised(1)},
     ["rectified", "plan_behind", "promise", "flagged", "waived"]),
])
def test_row_badges(patch, values, badges):
    """Rectified, plan, promise (coming, due today or past, kept, broken), flagged after
    two broken promises, late fee waived: in that order."""
    b1, _ = patch
    unit_id = overdue(b1, 45, 100_000)
    set_units(**{f"u{unit_id}": values})
    row = route_page(db.session, RouteFilters(building_ids=[b1.id]), TODAY, 1, 30).rows[0]
    assert row.badges == badges
    assert row.late_fee_waived_fen == values.get("late_fee_waived_fen", 0)


def test_a_held_row_says_on_hold_not_rectified(patch):
    """A unit back on hold after an earlier repair shows the hold, not the old repair."""
    b1, _ = patch
    unit_id = overdue(b1, 45)
    set_units(**{f"u{unit_id}": {"on_hold": True,
                                 "rectified_at": datetime(2026, 11, 1, tzinfo=timezone.utc)}})
    rows = held_rows(db.session, RouteFilters(building_ids=[b1.id]), TODAY,
                     {p.community_id: p for p in _policies()})
    assert rows[0].badges == ["on_hold"]


def test_the_route_list_page_walks_the_same_order(client, login_as, patch):
    """Over HTTP the rows come in the services' order, for each sort."""
    b1, b2 = patch
    overdue(b1, 200, 1_000, floor=5)
    overdue(b2, 40, 90_000, floor=1)
    overdue(b1, 40, 5_000, floor=2)
    login_as(make_user(Role.HOUSEKEEPER, buildings=[b1, b2]))
    for sort in ("band", "walk"):
        html = client.get(f"/route?sort={sort}").get_data(as_text=True)
        shown = [int(u) for u in re.findall(r'id="unit-(\d+)"', html)]
        assert shown == listed(b1, b2, sort=sort), sort


MIXED_BANDS = [{"key": "reminder", "min_days": 1, "stage": "reminder"},
               {"key": "v1", "min_days": 35, "stage": "visit"},
               {"key": "v2", "min_days": 46, "stage": "visit"},
               {"key": "late", "min_days": 200, "stage": "demand"}]


@pytest.fixture
def mixed(app):
    """An estate with the default bands and a park whose bands differ: a stage that
    starts later than the estate's legal band, two bands on one stage."""
    estate = make_building(make_community())
    park = make_building(make_community(bands=MIXED_BANDS))
    return estate, park


def test_severity_is_the_stage_first_then_the_arrears(mixed):
    """A park unit 210 days in a demand-stage band comes after an estate unit in the legal
    band at 190 days; within one stage the larger arrears first, whatever the band."""
    estate, park = mixed
    legal = overdue(estate, 190, 1_000)
    late = overdue(park, 210, 90_000)
    in_v2 = overdue(park, 50, 1_000)
    in_v1 = overdue(park, 40, 90_000)
    assert listed(estate, park) == [legal, late, in_v1, in_v2]


def test_chips_of_mixed_bands_run_from_the_most_severe_stage(mixed):
    """One chip per stage that either community uses, most severe first, whatever each
    community calls its bands."""
    estate, park = mixed
    policies = {p.community_id: p for p in _policies()}
    counts, _ = band_counts(db.session, RouteFilters(building_ids=[estate.id, park.id]), TODAY,
                            policies)
    assert [c.band.key for c in counts] == ["legal", "demand", "visit", "contact", "reminder"]
    park_only = {park.community_id: policies[park.community_id]}
    counts, _ = band_counts(db.session, RouteFilters(building_ids=[park.id]), TODAY, park_only)
    assert [c.band.key for c in counts] == ["demand", "visit", "reminder"]


def test_two_patches_with_other_bands_are_each_counted_by_their_own(mixed):
    """One process serving two housekeepers in turn, one per community, with the same
    filters: each patch's rows carry its own band, counted under the band's stage
    (statements are not mixed)."""
    estate, park = mixed
    overdue(estate, 40, 1_000)
    overdue(park, 40, 2_000)
    for building, band in ((estate, "visit"), (park, "v1"), (estate, "visit")):
        stage = "visit"
        policies = {p.community_id: p for p in _policies()
                    if p.community_id == building.community_id}
        f = RouteFilters(building_ids=[building.id])
        counts, _ = band_counts(db.session, f, TODAY, policies)
        assert {c.band.key: c.units for c in counts if c.units} == {stage: 1}
        page = route_page(db.session, f, TODAY, 1, 30, policies)
        assert [r.band.key for r in page.rows] == [band]
        chosen = route_page(db.session, replace(f, band=stage), TODAY, 1, 30, policies)
        assert [r.unit_id for r in chosen.rows] == [r.unit_id for r in page.rows]


def test_units_that_need_no_knock_today_sort_last_by_severity(patch):
    """A promise still ahead, a plan on track or a visit since the start of today put a
    unit below those to knock; a promise due today or broken, or an earlier visit, does
    not; with sinking off a visit today changes nothing."""
    b1, _ = patch
    start = datetime.combine(TODAY, datetime.min.time(), tzinfo=timezone.utc)
    promised_ahead, on_track, visited = overdue(b1, 300), overdue(b1, 250), overdue(b1, 200)
    due_today, broken, seen_yesterday = overdue(b1, 190), overdue(b1, 150), overdue(b1, 120)
    mild = overdue(b1, 20)
    set_units(**{f"u{promised_ahead}": promised(1), f"u{on_track}": {"plan_status": "on_track"},
                 f"u{visited}": {"last_visit_at": start},
                 f"u{due_today}": promised(0), f"u{broken}": promised(5, "broken"),
                 f"u{seen_yesterday}": {"last_visit_at": start - timedelta(seconds=1)}})
    assert listed(b1, day_start=start) == [due_today, broken, seen_yesterday, mild,
                                           promised_ahead, on_track, visited]
    assert listed(b1, day_start=start, sink_visited=False) == [
        visited, due_today, broken, seen_yesterday, mild, promised_ahead, on_track]


def test_chips_count_held_and_unheld_units_of_one_stage_apart(patch):
    """A held unit in the same band as an unheld one is counted as held, not in the chip;
    each chip is a band keyed and staged by its stage."""
    b1, _ = patch
    overdue(b1, 40, 1_000)
    held = overdue(b1, 45, 2_000)
    set_units(**{f"u{held}": {"on_hold": True}})
    counts, n_held = band_counts(db.session, RouteFilters(building_ids=[b1.id]), TODAY,
                                 {p.community_id: p for p in _policies()})
    assert [(c.band.key, c.band.stage, c.units, c.arrears_fen) for c in counts] == [
        ("legal", "legal", 0, 0), ("demand", "demand", 0, 0), ("visit", "visit", 1, 1_000),
        ("contact", "contact", 0, 0), ("reminder", "reminder", 0, 0)]
    assert n_held == 1


def test_chips_follow_the_search_and_a_change_of_bands_in_one_process(patch):
    """Counts for a search count only its units; after an administrator moves a band the
    next counts use the new bands, though the query shape is the same."""
    b1, _ = patch
    overdue(b1, 40, 1_000, number="0701")
    overdue(b1, 40, 2_000, number="0802")

    def chips(**filters):
        counts, _ = band_counts(db.session, RouteFilters(building_ids=[b1.id], **filters),
                                TODAY, {p.community_id: p for p in _policies()})
        return {c.band.key: c.units for c in counts if c.units}

    assert chips() == {"visit": 2}
    assert chips(q="0701") == {"visit": 1}
    policy = b1.community.policy
    policy.bands = [dict(b, min_days=45) if b["key"] == "visit" else b for b in policy.bands]
    db.session.commit()
    assert chips() == {"contact": 2}


def test_an_order_term_the_union_cannot_carry_is_refused():
    """The page and the chips share a statement whose outer ORDER BY repeats the page's
    terms: plain, ascending and descending ones carry over; NULLS FIRST/LAST would not."""
    from fieldapp.models import Unit
    from fieldapp.route.services import _term
    assert _term(Unit.floor) == (Unit.floor, False)
    expr, desc = _term(Unit.arrears_fen.desc())
    assert expr.compare(Unit.arrears_fen.expression) and desc is True
    assert _term(Unit.number.asc())[1] is False
    with pytest.raises(ValueError):
        _term(Unit.number.desc().nulls_last())
