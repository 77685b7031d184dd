"""The band order over every building, walked stage by stage (route/estate.py, estate_hits),
lists the same units in the same order, page after page, as the one sorting statement
a patch uses over the same buildings."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event, func, select

from fieldapp.extensions import db
from fieldapp.models import Contact, ContactKind, Unit
from fieldapp.route.services import RouteFilters, held_hits, page_hits, \
    page_hits_and_counts, policies_for

from .factories import TODAY, make_bill, make_building, make_community, make_unit

DAY_START = datetime(TODAY.year, TODAY.month, TODAY.day, tzinfo=timezone.utc)


@pytest.fixture
def estate(app):
    """Two communities with other bands; units in every stage, some promised, on a plan,
    visited today or on hold, many with the same arrears (ties go by id)."""
    default = make_community()
    strict = make_community(bands=[{"key": "late", "min_days": 1, "stage": "reminder"},
                                   {"key": "court", "min_days": 20, "stage": "legal"}])
    # A stage of its own name ranks with the mildest (reminder): the two sort together.
    own = make_community(bands=[{"key": "warning", "min_days": 1, "stage": "warning"},
                                {"key": "legal", "min_days": 60, "stage": "legal"}])
    buildings = [make_building(c) for c in (default, strict, default, own)]
    rnd = random.Random(7)
    for i in range(80):
        # The first ten in the most severe stage: a first page of 3 needs only it.
        unit = make_unit(rnd.choice(buildings), owner=None)
        make_bill(unit, rnd.choice((1_000, 2_000, 2_000, 5_000, 7_500)),
                  TODAY - timedelta(days=500 if i < 10 else rnd.choice(
                      (2, 10, 20, 25, 40, 70, 200, 500))))
        kind = rnd.random() if i >= 10 else 1.0
        if kind < 0.15:
            unit.promise_status, unit.next_promise_date = "open", TODAY + timedelta(days=3)
        elif kind < 0.25:
            unit.promise_status, unit.next_promise_date = "open", TODAY  # due: not paused
        elif kind < 0.32:
            unit.plan_status = "on_track"
        elif kind < 0.42:
            unit.last_visit_at = DAY_START + timedelta(hours=2)
        elif kind < 0.47:
            unit.on_hold = True
    db.session.commit()
    return buildings


def walk(filters: RouteFilters, size: int) -> list[int]:
    policies = policies_for(db.session, None)
    ids, page = [], 1
    while True:
        if page == 1:
            hits, _, _ = page_hits_and_counts(db.session, filters, TODAY, 1, size, policies)
        else:
            hits = page_hits(db.session, filters, TODAY, page, size, policies)
        ids += [h.id for h in hits.hits]
        if not hits.has_more:
            return ids
        page += 1


@pytest.mark.parametrize("size", [1, 4, 30])
@pytest.mark.parametrize("options", [{}, {"band": "legal"}, {"band": "reminder"},
                                     {"sink_visited": False}])
def test_the_estate_lists_what_the_same_buildings_as_a_patch_list(estate, size, options):
    every = RouteFilters(building_ids=None, day_start=DAY_START, **options)
    as_patch = RouteFilters(building_ids=[b.id for b in estate], day_start=DAY_START,
                            **options)
    expected = walk(as_patch, size)
    assert expected and walk(every, size) == expected


def test_a_first_page_reads_its_rows_not_the_estate(estate):
    """One statement for the chips and one per stage the page reaches; each asks for no
    more rows than the page needs."""
    sent = []
    listen = lambda *args: sent.append(args[4].compiled_parameters[0])  # noqa: E731
    policies = policies_for(db.session, None)
    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        hits, chips, _ = page_hits_and_counts(db.session, RouteFilters(None), TODAY, 1, 3,
                                              policies)
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    assert len(hits.hits) == 3 and hits.has_more
    assert len(sent) == 2  # the tally's chips, the most severe stage (it has ten)
    assert [p["limit"] for p in sent if "limit" in p] == [4]


@pytest.mark.parametrize("deep_from", [0, 3_000])
def test_a_deep_page_skips_whole_stages_by_counting_them(estate, deep_from, monkeypatch):
    """Any page asked for at once, not scrolled to: counted first when deep enough, or
    when a segment turns out to lie before it."""
    monkeypatch.setattr("fieldapp.route.estate.DEEP_PAGE_ROWS", deep_from)
    every, as_patch = RouteFilters(None), RouteFilters([b.id for b in estate])
    policies = policies_for(db.session, None)
    total = db.session.query(Unit).filter(Unit.arrears_fen > 0, Unit.on_hold.is_(False)).count()
    last = (total + 1) // 2  # pages of 2
    for page in range(1, last + 2):
        got = page_hits(db.session, every, TODAY, page, 2, policies)
        want = page_hits(db.session, as_patch, TODAY, page, 2, policies)
        assert [h.id for h in got.hits] == [h.id for h in want.hits]
        assert got.has_more == want.has_more


def plans_of(*reads) -> list[str]:
    """The plans of the statements over units that `reads` send, as each database
    would run them on a table of this size were it large (PostgreSQL scans a small
    table whatever its indexes)."""
    from sqlalchemy import text
    statements = []
    keep = lambda c, cur, st, params, *a: statements.append((st, params))  # noqa: E731
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as auto:
            auto.exec_driver_sql("VACUUM ANALYZE unit")
    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        for read in reads:
            read()
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    plans = []
    with db.engine.connect() as conn:
        for statement, params in statements:
            if "FROM unit" not in statement:
                continue  # the tally's chips
            if db.engine.dialect.name == "sqlite":
                plans.append(" ".join(str(r[-1]) for r in conn.exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + statement, params)))
            else:
                conn.execute(text("SET enable_seqscan = off"))
                conn.execute(text("SET enable_bitmapscan = off"))
                plans.append(" ".join(r[0] for r in conn.exec_driver_sql(
                    "EXPLAIN " + statement, params)))
    return plans


def test_the_walk_reads_the_amount_index_in_its_order_and_nothing_else_does(estate):
    """A stage's units come off ix_unit_arrears in the page's order, so the walk stops
    after its rows (no sort of the estate); other statements keep to ix_unit_route."""
    policies = policies_for(db.session, None)
    walk, promise = plans_of(
        lambda: page_hits_and_counts(db.session, RouteFilters(None), TODAY, 1, 3, policies),
        lambda: page_hits_and_counts(db.session, RouteFilters(None, sort="promise"), TODAY,
                                     1, 3, policies))
    assert "ix_unit_arrears" in walk and "ix_unit_route" not in walk, walk
    assert "ORDER BY" not in walk and "Sort" not in walk, walk
    assert "ix_unit_arrears" not in promise and "ix_unit_route" in promise, promise


def test_the_units_on_hold_of_the_estate_come_off_their_own_index_in_order(estate):
    """The "repair pending" section reads the held units alone, in its order (no sort
    of every overdue unit of the estate), and lists them by building, floor and number."""
    policies = policies_for(db.session, None)
    held = held_hits(db.session, RouteFilters(None), TODAY, policies).hits
    units = [db.session.get(Unit, h.id) for h in held]
    assert units and all(u.on_hold and u.arrears_fen > 0 for u in units)
    assert len(units) == db.session.scalar(select(func.count()).where(
        Unit.on_hold.is_(True), Unit.arrears_fen > 0))
    assert [u.id for u in units] == [u.id for u in sorted(
        units, key=lambda u: (u.building_id, u.floor, u.number))]
    plan, = plans_of(lambda: held_hits(db.session, RouteFilters(None), TODAY, policies))
    assert "ix_unit_held" in plan and "ORDER BY" not in plan and "Sort" not in plan, plan


@pytest.fixture
def spread(app):
    """Nine buildings around the phone at 150 m steps, two of them unplaced."""
    community = make_community()
    buildings = []
    for i in range(9):
        placed = i not in (3, 7)
        buildings.append(make_building(community, lat=31.2300 + 0.00135 * i if placed else None,
                                       lon=121.4700 if placed else None))
    rnd = random.Random(3)
    for building in buildings:
        for _ in range(rnd.choice((0, 1, 3))):
            make_bill(make_unit(building, owner=None, floor=rnd.randint(1, 9)), 1_000,
                      TODAY - timedelta(days=40))
    return buildings


@pytest.mark.parametrize("first", [1, 2, 32])
@pytest.mark.parametrize("size", [1, 3, 30])
def test_the_estate_by_distance_lists_what_the_same_buildings_as_a_patch_list(
        spread, first, size, monkeypatch):
    """From the nearest buildings out, widened as needed, the pages are the ones a
    statement over every building gives; unplaced buildings last."""
    monkeypatch.setattr("fieldapp.route.estate.NEAREST_FIRST", first)
    here = dict(sort="distance", lat=31.2301, lon=121.4701, day_start=DAY_START)
    expected = walk(RouteFilters(building_ids=[b.id for b in spread], **here), size)
    assert len(expected) > 3 and walk(RouteFilters(None, **here), size) == expected
    one = spread[4]
    assert walk(RouteFilters(None, building_id=one.id, **here), size) == walk(
        RouteFilters([b.id for b in spread], building_id=one.id, **here), size)


def test_by_distance_the_estate_measures_only_the_buildings_it_lists(spread, monkeypatch):
    from fieldapp.route import estate
    monkeypatch.setattr(estate, "NEAREST_FIRST", 2)
    measured = []
    real = estate.geodesic
    monkeypatch.setattr(estate, "geodesic", lambda *a: measured.append(a) or real(*a))
    policies = policies_for(db.session, None)
    hits = page_hits(db.session, RouteFilters(None, sort="distance", lat=31.2301,
                                              lon=121.4701), TODAY, 1, 1, policies)
    assert len(hits.hits) == 1 and len(measured) < 7  # of seven placed buildings
    with_units = {u.building_id for u in db.session.query(Unit)}
    nearest = min(with_units & set(hits.distances), key=hits.distances.get)
    assert db.session.get(Unit, hits.hits[0].id).building_id == nearest


@pytest.fixture
def searched(app):
    """Units of two communities whose numbers, owners and buildings share beginnings:
    owners with one- and two-character surnames, a tenant, a unit with no owner, numbers
    with letters, and one building name in both communities."""
    east, west = make_community(), make_community()
    buildings = [make_building(east, name="东楼"), make_building(west, name="东楼"),
                 make_building(east, name="西楼")]
    owners = ["王建国", "王小明", "欧阳娜娜", "Smith", None, "李四"]
    rnd = random.Random(11)
    for i in range(40):
        unit = make_unit(rnd.choice(buildings), owner=owners[i % len(owners)],
                         number=rnd.choice(("12", "1203", "1204", "2203", "A12", "a301"))
                         + f"-{i}" if i % 3 else f"{1200 + i}")
        if i % 5 == 0:
            db.session.add(Contact(unit=unit, kind=ContactKind.TENANT, name="王租客",
                                   surname="王", phone="13900000000"))
        make_bill(unit, 1_000 + i, TODAY - timedelta(days=10 + i))
    db.session.commit()
    return buildings


@pytest.mark.parametrize("typed", ["王", "王小", "欧阳", "欧", "12", "1203", "a", "A12", "Sm",
                                   "东楼-12", "东楼-", "西楼-a", "无此人", "王租客"])
def test_a_search_over_the_estate_finds_what_the_same_search_as_a_patch_finds(searched, typed):
    """Read off the indexes (the estate) or checked unit by unit (a patch of the same
    buildings): the same units in the same order, and the same chips."""
    policies = policies_for(db.session, None)
    every = RouteFilters(None, q=typed)
    as_patch = RouteFilters([b.id for b in searched], q=typed)
    hits, chips, held = page_hits_and_counts(db.session, every, TODAY, 1, 100, policies)
    want, want_chips, want_held = page_hits_and_counts(db.session, as_patch, TODAY, 1, 100,
                                                       policies)
    assert [h.id for h in hits.hits] == [h.id for h in want.hits]
    assert (chips, held) == (want_chips, want_held)
    if typed in ("王", "12", "东楼-12"):
        assert hits.hits


def test_a_search_over_the_estate_reads_the_prefix_indexes_on_sqlite(searched):
    """SQLite reads what matches off the indexes; PostgreSQL checks each overdue unit
    (its own fastest, bench figures in route/services.py base_query)."""
    policies = policies_for(db.session, None)
    plan, = plans_of(lambda: page_hits(db.session, RouteFilters(None, q="王小"), TODAY, 1, 30,
                                       policies))
    named = ("ix_unit_number_prefix", "ix_contact_name_prefix", "ix_contact_surname")
    if db.engine.dialect.name == "sqlite":
        assert all(name in plan for name in named), plan
    else:
        assert "found" not in plan and "prefix" not in plan, plan
