"""The count of rule changes moves with every change to a policy, to a building's name
or community or to a community's name, whoever writes it, and the route list keeps a
patch's rules only while it stands."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import event, select, text

from fieldapp.extensions import db
from fieldapp.models import EstateVersion, Policy, Role
from fieldapp.models import overdue_tally
from fieldapp.models.estate_version import trigger_names

from .factories import PASSWORD, TODAY, make_bill, make_building, make_community, make_unit, \
    make_user


def count() -> int:
    db.session.commit()  # a fresh read
    return db.session.scalar(select(EstateVersion.n).where(EstateVersion.id == 1))


def raw(sql: str, **params) -> None:
    """Another writer: a statement on its own connection, as another app server or psql."""
    db.session.commit()  # the test's own session holds no lock meanwhile
    with db.engine.begin() as conn:
        conn.execute(text(sql), params)


def every_trigger(dialect: str) -> list[str]:
    """The triggers a database of the models has: the count's and the tally's."""
    return sorted(trigger_names(dialect) + overdue_tally.trigger_names(dialect))


def triggers_of(conn) -> list[str]:
    if conn.dialect.name == "postgresql":
        sql = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    return sorted(conn.execute(text(sql)).scalars())


def test_a_created_database_has_the_triggers_and_the_row(app):
    with db.engine.connect() as conn:
        assert triggers_of(conn) == every_trigger(conn.dialect.name)
    assert count() is not None


def test_the_count_moves_with_each_change_to_the_rules_or_the_names_and_no_other(app):
    steps = []

    def moved(change) -> bool:
        before = count()
        change()
        after = count()
        steps.append(after > before)
        return after > before

    community = make_community()
    assert moved(lambda: make_building(community))
    building_id = db.session.scalar(text("SELECT max(id) FROM building"))
    other = make_community()
    assert moved(lambda: raw("UPDATE building SET name = :n WHERE id = :id",
                             n="改名楼", id=building_id))
    assert moved(lambda: raw("UPDATE building SET community_id = :c WHERE id = :id",
                             c=other.id, id=building_id))
    assert not moved(lambda: raw("UPDATE building SET lat = 30.5, lon = 120.5 WHERE id = :id",
                                 id=building_id))
    assert moved(lambda: raw("UPDATE policy SET late_fee_grace_days = 9 WHERE community_id = :c",
                             c=community.id))
    assert moved(lambda: make_community())  # a new community comes with its policy
    assert moved(lambda: raw("UPDATE community SET name = :n WHERE id = :id", n="新名小区",
                             id=other.id))  # a reused page names it with each building
    assert not moved(lambda: raw("UPDATE community SET kind = 'office_park' WHERE id = :id",
                                 id=other.id))
    assert moved(lambda: raw("DELETE FROM building WHERE id = :id", id=building_id))
    assert steps == [True, True, True, False, True, True, True, False, True]


@pytest.fixture
def patch(app):
    """A housekeeper signed in on a patch of 5 units 50 days overdue: the "visit" band."""
    building = make_building()
    for i in range(5):
        make_bill(make_unit(building, number=f"{i:04d}"), 80_000, TODAY - timedelta(days=50))
    hk = make_user(Role.HOUSEKEEPER, buildings=[building])
    client = app.test_client()
    assert client.post("/login", data={"username": hk.username,
                                       "password": PASSWORD}).status_code == 303
    client.get("/today")  # the day's catch-up, done once per session
    return client, building


def _demand_from_day_45(building) -> None:
    bands = db.session.scalar(select(Policy.bands).where(
        Policy.community_id == building.community_id))
    raw("UPDATE policy SET bands = :b WHERE community_id = :c", c=building.community_id,
        b=json.dumps([dict(b, min_days=45) if b["key"] == "demand" else b for b in bands]))


def rows_in(page: str, band: str) -> int:
    return page.count(f'class="route-row stage-{band}"')


def policy_reads(client, url: str = "/route") -> tuple[int, str]:
    seen = []

    def note(_conn, _cursor, statement, *_args):
        if " policy" in statement.lower():
            seen.append(statement)
    event.listen(db.engine, "before_cursor_execute", note)
    try:
        response = client.get(url)
        assert response.status_code == 200
        return len(seen), response.get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


def test_a_patchs_rules_are_read_once_and_again_when_another_writer_changes_them(app, patch):
    client, building = patch
    reads, page = policy_reads(client)
    assert reads == 1 and rows_in(page, "visit") == 5
    reads, page = policy_reads(client, "/route?sort=arrears")
    assert reads == 0 and rows_in(page, "visit") == 5
    _demand_from_day_45(building)  # behind this app's back
    reads, page = policy_reads(client)
    assert reads == 1
    assert rows_in(page, "demand") == 5 and rows_in(page, "visit") == 0


def test_a_building_renamed_by_another_writer_shows_at_once(app, patch):
    client, building = patch
    old_name = building.name
    assert f"{old_name}-0000" in policy_reads(client)[1]
    raw("UPDATE building SET name = :n WHERE id = :id", n="东区新楼", id=building.id)
    reads, page = policy_reads(client)
    assert reads == 1 and "东区新楼-0000" in page and f"{old_name}-" not in page


def test_without_the_count_every_request_reads_the_rules(app, patch):
    client, building = patch
    raw("DELETE FROM estate_version")
    try:
        assert policy_reads(client)[0] == 1
        assert policy_reads(client)[0] == 1
        _demand_from_day_45(building)
        assert rows_in(policy_reads(client)[1], "demand") == 5
    finally:
        raw("INSERT INTO estate_version (id, n) VALUES (1, 0)")


def test_the_all_buildings_view_reads_every_building_once_per_count(app, patch):
    _, building = patch
    supervisor = make_user(Role.SUPERVISOR)
    client = app.test_client()
    assert client.post("/login", data={"username": supervisor.username,
                                       "password": PASSWORD}).status_code == 303
    client.get("/today")
    seen = []

    def note(_conn, _cursor, statement, *_args):
        if " ".join(statement.split()) == \
                "SELECT building.id, building.name FROM building ORDER BY building.id":
            seen.append(statement)  # every building, for the filter
    event.listen(db.engine, "before_cursor_execute", note)
    try:
        assert building.name in client.get("/route").get_data(as_text=True)
        assert len(seen) == 1
        assert building.name in client.get("/route?sort=arrears").get_data(as_text=True)
        assert len(seen) == 1
        raw("UPDATE building SET name = :n WHERE id = :id", n="西区新楼", id=building.id)
        page = client.get("/route").get_data(as_text=True)  # the same page, reused before
        assert len(seen) == 2 and "西区新楼" in page
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


def test_policies_the_session_held_before_the_count_moved_are_kept_as_read(app, patch):
    """A request's session may hold a policy loaded before another writer changed it
    (the day's check of policies in force loads them all): what is kept under the new
    count is what the database says, not what the session held."""
    client, building = patch
    assert rows_in(policy_reads(client)[1], "visit") == 5
    db.session.commit()
    held = db.session.scalar(select(Policy).where(Policy.community_id == building.community_id))
    demand = next(b for b in held.bands if b["key"] == "demand")
    assert demand["min_days"] == 61
    bands = [dict(b, min_days=45) if b["key"] == "demand" else b for b in held.bands]
    with db.engine.begin() as conn:  # another server; this session keeps its copy
        conn.execute(text("UPDATE policy SET bands = :b WHERE id = :id"),
                     {"b": json.dumps(bands), "id": held.id})
    assert rows_in(policy_reads(client)[1], "demand") == 5


def test_what_was_kept_under_an_older_count_goes_when_a_newer_is_kept():
    from fieldapp.route.rules import RulesCache
    cache = RulesCache(size=8)
    cache.put((1, (10,)), ("a",))
    cache.put((1, None), ("every building",))
    cache.put((2, (10,)), ("b",))
    assert cache.get((1, (10,))) is None and cache.get((1, None)) is None
    assert cache.get((2, (10,))) == ("b",)
    for patch in range(20):
        cache.put((2, (patch,)), (patch,))
    assert cache.get((2, (19,))) == (19,) and cache.get((2, (11,))) is None  # the oldest out
