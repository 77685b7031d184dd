"""The route list: ordering, filters, search, paging, masking, access, empty state."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from fieldapp.models import Role

from .factories import (
    TODAY,
    make_bill,
    make_building,
    make_community,
    make_payment,
    make_unit,
    make_user,
)

ROW = re.compile(r'data-unit-id="(\d+)" data-band="(\w*)"\s+data-days-overdue="(\d+)" '
                 r'data-arrears-fen="(\d+)"')


CHIP = re.compile(r'data-band="(\w+)"\s+href="[^"]*".*?class="chip-count">\D*(\d+)\D*</span>'
                  r'\s*<span class="chip-amount">¥([\d,.]+)</span>', re.S)
LOCATION_NOTICE = re.compile(r'<p class="notice">[^<]+</p>')


def chips(html: str) -> dict[str, tuple[int, str]]:
    """Band key -> (units, arrears as shown) for each chip above the list."""
    return {band: (int(n), amount) for band, n, amount in CHIP.findall(html)}


def row_html(html: str, unit_id: int) -> str:
    """The markup of one unit's row."""
    return html.split(f'id="unit-{unit_id}"', 1)[1].split("</li>", 1)[0]


def rows(response) -> list[tuple[int, str, int, int]]:
    return [(int(u), b, int(d), int(a)) for u, b, d, a in
            ROW.findall(response.get_data(as_text=True))]


def overdue(unit, days: int, amount_fen: int):
    return make_bill(unit, amount_fen, TODAY - timedelta(days=days))


@pytest.fixture
def patch():
    """A housekeeper with two buildings, and a neighbour's building they must not see."""
    community = make_community()
    b1 = make_building(community, lat=31.2300, lon=121.4700)
    b2 = make_building(community, lat=31.2400, lon=121.4800)
    other = make_building(community)
    hk = make_user(Role.HOUSEKEEPER, buildings=[b1, b2])
    return hk, b1, b2, other


def test_default_order_is_most_severe_band_then_largest_arrears(client, login_as, patch):
    hk, b1, b2, _ = patch
    legal = overdue(make_unit(b1), 200, 5_000).unit_id
    demand_big = overdue(make_unit(b2), 90, 90_000).unit_id
    demand_small = overdue(make_unit(b1), 150, 10_000).unit_id
    reminder = overdue(make_unit(b2), 3, 99_000).unit_id
    make_bill(make_unit(b1), 50_000, TODAY + timedelta(days=5))  # not yet due: not listed
    login_as(hk)
    listed = rows(client.get("/route"))
    assert [r[0] for r in listed] == [legal, demand_big, demand_small, reminder]
    assert [r[1] for r in listed] == ["legal", "demand", "demand", "reminder"]
    assert listed[0][2:] == (200, 5_000)


def test_paid_units_leave_the_list(client, login_as, patch):
    hk, b1, *_ = patch
    unit = make_unit(b1)
    overdue(unit, 40, 10_000)
    login_as(hk)
    assert len(rows(client.get("/route"))) == 1
    make_payment(unit, 10_000, TODAY)
    assert rows(client.get("/route")) == []


def test_walking_order_is_building_then_floor(client, login_as, patch):
    hk, b1, b2, _ = patch
    u_b2_f1 = overdue(make_unit(b2, floor=1), 200, 1).unit_id
    u_b1_f9 = overdue(make_unit(b1, floor=9), 5, 1).unit_id
    u_b1_f2 = overdue(make_unit(b1, floor=2), 50, 1).unit_id
    login_as(hk)
    assert [r[0] for r in rows(client.get("/route?sort=walk"))] == [u_b1_f2, u_b1_f9, u_b2_f1]


def test_distance_order_uses_the_phone_position(client, login_as, patch):
    """Nearest building first; buildings without coordinates last."""
    hk, b1, b2, _ = patch
    far = overdue(make_unit(b1), 10, 1).unit_id
    near = overdue(make_unit(b2), 10, 1).unit_id
    nowhere_building = make_building(b1.community, lat=None, lon=None)
    hk_buildings = [b1, b2, nowhere_building]
    hk2 = make_user(Role.HOUSEKEEPER, buildings=hk_buildings)
    nowhere = overdue(make_unit(nowhere_building), 10, 1).unit_id
    login_as(hk2)
    page = client.get("/route?sort=distance&lat=31.2401&lon=121.4801")
    assert [r[0] for r in rows(page)] == [near, far, nowhere]
    html = page.get_data(as_text=True)
    metres = [re.findall(r"<span>(\d+) (?:m|米)</span>", row_html(html, u))
              for u in (near, far, nowhere)]
    assert [len(m) for m in metres] == [1, 1, 0]
    assert int(metres[0][0]) < 100 < int(metres[1][0])


def test_distance_without_position_falls_back_to_walking_order(client, login_as, patch):
    """Without the phone's position the list is in walking order and says why; with it,
    no such note."""
    hk, b1, b2, _ = patch
    a = overdue(make_unit(b2), 10, 1).unit_id
    b = overdue(make_unit(b1), 10, 1).unit_id
    login_as(hk)
    page = client.get("/route?sort=distance")
    assert [r[0] for r in rows(page)] == [b, a]
    assert len(LOCATION_NOTICE.findall(page.get_data(as_text=True))) == 1
    located = client.get("/route?sort=distance&lat=31.2401&lon=121.4801")
    assert LOCATION_NOTICE.findall(located.get_data(as_text=True)) == []


def test_band_chips_count_units_and_filter(client, login_as, patch):
    """Each chip shows its band's units and arrears; a chip filters the list to its band."""
    hk, b1, b2, _ = patch
    overdue(make_unit(b1), 40, 10_000)
    overdue(make_unit(b2), 45, 2_550)
    overdue(make_unit(b2), 400, 7_000)
    login_as(hk)
    page = client.get("/route").get_data(as_text=True)
    assert chips(page)["visit"] == (2, "125.50") and chips(page)["legal"] == (1, "70.00")
    assert chips(page)["demand"] == (0, "0.00")
    assert {r[1] for r in rows(client.get("/route?band=visit"))} == {"visit"}
    assert len(rows(client.get("/route?band=legal"))) == 1


def test_building_filter_and_search(client, login_as, patch):
    hk, b1, b2, _ = patch
    zhang = overdue(make_unit(b1, owner="张伟", number="0801"), 40, 1).unit_id
    li = overdue(make_unit(b2, owner="李娜", number="1203"), 40, 1).unit_id
    login_as(hk)
    assert [r[0] for r in rows(client.get(f"/route?building={b2.id}"))] == [li]
    assert [r[0] for r in rows(client.get("/route?q=张"))] == [zhang]
    assert [r[0] for r in rows(client.get("/route?q=1203"))] == [li]
    assert [r[0] for r in rows(client.get(f"/route?q={b1.name}-0801"))] == [zhang]
    page = client.get("/route?q=欧阳").get_data(as_text=True)
    assert rows_empty(page) and 'href="/route"' in page


def rows_empty(page: str) -> bool:
    return not ROW.search(page)


def test_building_outside_the_patch_is_refused(client, login_as, patch):
    hk, _, _, other = patch
    login_as(hk)
    assert client.get(f"/route?building={other.id}").status_code == 404


def test_list_pages_by_30_with_htmx_and_plain_links(client, login_as, patch):
    hk, b1, *_ = patch
    for i in range(65):
        overdue(make_unit(b1, floor=i % 18 + 1), 20 + i, 1_000 + i)
    login_as(hk)
    first = client.get("/route")
    assert len(rows(first)) == 30
    html = first.get_data(as_text=True)
    assert 'hx-trigger="revealed"' in html and 'href="/route?page=2"' in html
    second = client.get("/route?page=2", headers={"HX-Request": "true"})
    assert "<html" not in second.get_data(as_text=True) and len(rows(second)) == 30
    third_full = client.get("/route?page=3")
    assert "<html" in third_full.get_data(as_text=True) and len(rows(third_full)) == 5
    assert "page=4" not in third_full.get_data(as_text=True)
    all_ids = [r[0] for p in (first, second, third_full) for r in rows(p)]
    assert len(set(all_ids)) == 65
    assert second.headers["Vary"].startswith("HX-Request")


@pytest.mark.parametrize("headers,fragment", [
    ({"HX-Request": "true"}, True),
    ({"HX-Request": "true", "HX-Request-Type": "partial"}, True),
    ({"HX-Request": "true", "HX-Boosted": "true"}, False),
    ({"HX-Request": "true", "HX-History-Restore-Request": "true"}, False),
    ({"HX-History-Restore-Request": "true", "HX-Request-Type": "full"}, False),
    ({}, False),
])
def test_fragment_only_for_targeted_htmx_requests(client, login_as, patch, headers, fragment):
    """Boosted navigation and history restores get the whole page (OFFLINE.md §1.1)."""
    hk, b1, *_ = patch
    overdue(make_unit(b1), 40, 1)
    login_as(hk)
    html = client.get("/route?q=", headers=headers).get_data(as_text=True)
    assert ("<html" not in html) is fragment
    assert "data-unit-id" in html


def test_phone_is_masked_in_the_list(client, login_as, patch):
    hk, b1, *_ = patch
    overdue(make_unit(b1, owner="王芳", phone="13987654321"), 40, 1)
    login_as(hk)
    html = client.get("/route").get_data(as_text=True)
    assert "139****4321" in html and "13987654321" not in html


def test_only_the_patch_is_listed(client, login_as, patch):
    hk, b1, _, other = patch
    mine = overdue(make_unit(b1), 40, 1).unit_id
    overdue(make_unit(other), 400, 99_999)
    login_as(hk)
    assert [r[0] for r in rows(client.get("/route"))] == [mine]


def test_supervisor_sees_every_patch_and_can_filter_by_housekeeper(client, login_as, patch):
    hk, b1, _, other = patch
    mine = overdue(make_unit(b1), 40, 1).unit_id
    theirs = overdue(make_unit(other), 40, 1).unit_id
    login_as(make_user(Role.SUPERVISOR))
    assert {r[0] for r in rows(client.get("/route"))} == {mine, theirs}
    assert [r[0] for r in rows(client.get(f"/route?hk={hk.id}"))] == [mine]


def test_empty_patch_says_so_kindly(client, login_as, patch):
    hk, *_ = patch
    login_as(hk)
    html = client.get("/route").get_data(as_text=True)
    assert "empty-state" in html and not ROW.search(html)


def test_engineer_has_no_route_list(client, login_as):
    login_as(make_user(Role.ENGINEER))
    assert client.get("/route").status_code == 403


def test_community_bands_are_data(client, login_as):
    """A community with 30/90/180 bands lists its units with its own band keys."""
    community = make_community(bands=[
        {"key": "d1", "min_days": 1, "stage": "reminder"},
        {"key": "d31", "min_days": 31, "stage": "visit"},
        {"key": "d91", "min_days": 91, "stage": "demand"},
        {"key": "d181", "min_days": 181, "stage": "legal"}])
    b = make_building(community)
    overdue(make_unit(b), 45, 1)
    overdue(make_unit(b), 120, 1)
    login_as(make_user(Role.HOUSEKEEPER, buildings=[b]))
    assert [r[1] for r in rows(client.get("/route"))] == ["d91", "d31"]


def unsigned(response) -> str:
    """The page with its signed CSRF token masked (each signature carries its second)."""
    html = response.get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)
    return html.replace(token, "TOKEN")


def test_unchanged_list_is_reused_and_revalidates_with_304(client, login_as, patch):
    """A phone that has the list gets 304; any change to a unit makes a new page."""
    hk, b1, *_ = patch
    unit = make_unit(b1)
    overdue(unit, 40, 10_000)
    login_as(hk)
    first = client.get("/route")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "private, no-cache"
    again = client.get("/route", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    # Reused, not re-rendered: the same page but for the signed CSRF token, which carries
    # the second it was signed and so differs when the two requests straddle a second.
    assert unsigned(client.get("/route")) == unsigned(first)
    make_payment(unit, 4_000, TODAY)  # arrears change: the cached page is no longer true
    changed = client.get("/route", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert rows(changed) == [(unit.id, "visit", 40, 6_000)]
    assert "¥60.00" in row_html(changed.get_data(as_text=True), unit.id)


def test_cached_pages_are_per_user_and_language(client, login_as, patch):
    hk, b1, b2, _ = patch
    overdue(make_unit(b1), 40, 10_000)
    other = make_user(Role.HOUSEKEEPER, buildings=[b1])
    login_as(hk)
    mine = client.get("/route").headers["ETag"]
    client.post("/account", data={"locale": "en"})
    flashed = client.get("/route")  # a page with a message is never cached
    assert "ETag" not in flashed.headers and "Language changed" in flashed.get_data(as_text=True)
    english = client.get("/route")
    assert english.headers["ETag"] != mine and "Route list" in english.get_data(as_text=True)
    client.post("/logout")
    login_as(other)
    assert client.get("/route").headers["ETag"] not in (mine, english.headers["ETag"])


def test_promise_order_puts_the_soonest_promise_first(client, login_as, patch):
    """Promised units first, soonest date first; the rest by severity after them."""
    from fieldapp.extensions import db
    from fieldapp.models import Unit
    hk, b1, *_ = patch
    late = overdue(make_unit(b1), 20, 1_000).unit_id
    soon = overdue(make_unit(b1), 20, 1_000).unit_id
    legal_unpromised = overdue(make_unit(b1), 300, 90_000).unit_id
    kept_earlier = overdue(make_unit(b1), 30, 2_000).unit_id
    for unit_id, days, status in ((late, 9, "open"), (soon, 2, "open"),
                                  (kept_earlier, -5, "kept")):
        unit = db.session.get(Unit, unit_id)
        unit.next_promise_date, unit.promise_status = TODAY + timedelta(days=days), status
    db.session.commit()
    login_as(hk)
    assert [r[0] for r in rows(client.get("/route?sort=promise"))] == \
        [soon, late, legal_unpromised, kept_earlier]
    html = client.get("/route?sort=promise").get_data(as_text=True)
    assert "badge-promise" in html


def test_a_promise_still_ahead_or_a_plan_on_track_pauses_the_knock(client, login_as, patch):
    """Units that promised sit below the units that need a knock today, however severe;
    a promise due today or broken does not pause anything."""
    from fieldapp.extensions import db
    from fieldapp.models import Unit
    hk, b1, *_ = patch
    promised = overdue(make_unit(b1), 300, 90_000).unit_id
    planned = overdue(make_unit(b1), 250, 80_000).unit_id
    due_today = overdue(make_unit(b1), 200, 70_000).unit_id
    broken = overdue(make_unit(b1), 100, 60_000).unit_id
    mild = overdue(make_unit(b1), 20, 1_000).unit_id
    for unit_id, status, days, plan in ((promised, "open", 5, None), (planned, None, None,
                                         "on_track"), (due_today, "open", 0, None),
                                        (broken, "broken", -10, None)):
        unit = db.session.get(Unit, unit_id)
        unit.promise_status, unit.plan_status = status, plan
        unit.next_promise_date = TODAY + timedelta(days=days) if days is not None else None
    db.session.commit()
    login_as(hk)
    assert [r[0] for r in rows(client.get("/route"))] == \
        [due_today, broken, mild, promised, planned]


def test_two_communities_rank_by_stage_then_arrears_whatever_their_thresholds(
        client, login_as):
    """Legal starts at 181 days in one community and 365 in the other: within "legal"
    the units sort by arrears, not in one block per community."""
    default = make_building(make_community())
    strict = make_building(make_community(bands=[
        {"key": "b30", "min_days": 30, "stage": "visit"},
        {"key": "b90", "min_days": 90, "stage": "demand"},
        {"key": "b365", "min_days": 365, "stage": "legal"}]))
    a = overdue(make_unit(default), 200, 100_000).unit_id
    b = overdue(make_unit(default), 300, 50_000).unit_id
    c = overdue(make_unit(strict), 400, 900_000).unit_id
    mild = overdue(make_unit(strict), 10, 5_000).unit_id  # below the first band (30 days)
    login_as(make_user(Role.HOUSEKEEPER, buildings=[default, strict]))
    listed = rows(client.get("/route"))
    assert [r[0] for r in listed] == [c, a, b, mild]
    assert listed[-1][1] == "reminder"  # the earliest stage, not "no band"
    page = client.get("/route").get_data(as_text=True)
    chip = re.search(r'data-band="reminder"\s+href="[^"]*"[^>]*>(.*?)</a>', page, re.S).group(1)
    assert re.search(r'class="chip-count">(\d+) 户<', chip).group(1) == "1"
    assert [r[0] for r in rows(client.get("/route?band=legal"))] == [c, a, b]


def test_units_visited_today_go_below_unless_the_user_turns_it_off(client, login_as, patch):
    hk, b1, *_ = patch
    visited = overdue(make_unit(b1), 300, 90_000).unit_id
    other = overdue(make_unit(b1), 40, 1_000).unit_id
    login_as(hk)
    r = client.post(f"/units/{visited}/visits", data={
        "client_uuid": "0b6b7c8e-1111-4a4a-9b9b-123456789abc", "outcome": "nobody_home"})
    assert r.status_code == 303
    assert [x[0] for x in rows(client.get("/route"))] == [other, visited]
    assert "今天已走访" in client.get("/route").get_data(as_text=True)
    client.get("/route")  # a cached page, then the setting changes
    client.get("/account")  # the flash of the change is shown elsewhere
    client.post("/account/route", data={})
    client.get("/account")
    assert [x[0] for x in rows(client.get("/route"))] == [visited, other]


def test_the_page_query_reads_the_route_index_alone(client, login_as, patch):
    """Sorting and paging a patch, and counting its chips in the same statement, read
    ix_unit_route and no table row: the page's rows are fetched by id afterwards, 30 of
    them, not the patch's 1,200."""
    from sqlalchemy import event, text

    from fieldapp.extensions import db
    hk, b1, *_ = patch
    for days in (10, 40, 100):
        overdue(make_unit(b1), days, 10_000)
    login_as(hk)
    seen = []

    def keep(conn, cursor, statement, params, context, many):
        if statement.startswith("SELECT") and "unit.updated_at" in statement \
                and "LIMIT" in statement:  # with the chips
            seen.append((statement, params))
    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        assert client.get("/route").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    statement, params = seen[0]
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "sqlite":
            plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + statement, params))
            # The page's sort and the chips' counts, each from the index alone.
            assert plan.count("COVERING INDEX ix_unit_route") == 2, plan
        else:
            # As a served database is: vacuumed (pages all-visible, so an index-only scan
            # needs no table read) and analysed; without it a three-row table has no
            # statistics and the planner picks any index.
            db.session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as auto:
                auto.exec_driver_sql("VACUUM ANALYZE unit")
            conn.execute(text("SET enable_seqscan = off"))  # a tiny table scans anyway
            conn.execute(text("SET enable_bitmapscan = off"))
            plan = " ".join(row[0] for row in conn.exec_driver_sql(
                "EXPLAIN " + statement, params))
            assert plan.count("Index Only Scan using ix_unit_route") == 2, plan
