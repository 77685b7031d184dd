"""The tally of units in arrears per community, due date and hold equals a count of the
units after every kind of write, whoever writes it, and the whole estate's chips read
from it say what a count of the units says."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, text

from fieldapp.domain.summary import refresh_stale
from fieldapp.extensions import db
from fieldapp.models import Role, Unit, overdue_tally
from fieldapp.route.services import RouteFilters, band_counts, page_hits_and_counts, \
    policies_for

from .factories import TODAY, make_bill, make_building, make_community, make_payment, \
    make_unit, make_user

COUNTED = text(overdue_tally.COUNT_UNITS)


def tally() -> dict:
    db.session.commit()
    return {(c, str(d), bool(h)): (n, a) for c, d, h, n, a in db.session.execute(text(
        "SELECT community_id, due, on_hold, units, arrears_fen FROM overdue_tally "
        "WHERE units <> 0 OR arrears_fen <> 0"))}


def counted() -> dict:
    """The same, counted from the units."""
    return {(c, str(d), bool(h)): (n, a) for c, d, h, n, a in db.session.execute(COUNTED)}


def raw(sql: str, **params) -> None:
    """Another writer: its own connection and statement."""
    db.session.commit()
    with db.engine.begin() as conn:
        conn.execute(text(sql), params)


def assert_tally_counts():
    assert tally() == counted()


def test_every_write_to_units_keeps_the_tally_equal_to_a_count(app):
    east, west = make_community(), make_community()
    b_east, b_west = make_building(east), make_building(west)
    units = [make_unit(b_east) for _ in range(3)] + [make_unit(b_west)]
    assert tally() == {}
    bills = [make_bill(u, 10_000 * (i + 1), TODAY - timedelta(days=40 + i))
             for i, u in enumerate(units)]
    assert_tally_counts()
    assert tally()[(east.id, str(TODAY - timedelta(days=40)), False)] == (1, 10_000)
    make_payment(units[0], 4_000, TODAY)  # part paid: the arrears move, not the unit
    assert_tally_counts()
    make_payment(units[1], 20_000, TODAY)  # all paid: the unit leaves the tally
    assert_tally_counts()
    assert (east.id, str(bills[1].due_date), False) not in tally()
    raw("UPDATE unit SET on_hold = :h WHERE id = :id", h=True, id=units[2].id)
    assert tally()[(east.id, str(bills[2].due_date), True)] == (1, 30_000)
    assert_tally_counts()
    raw("UPDATE unit SET building_id = :b WHERE id = :id", b=b_west.id, id=units[0].id)
    assert_tally_counts()
    # Many rows in one statement, some of them unchanged (PostgreSQL: one grouped write).
    raw("UPDATE unit SET arrears_fen = arrears_fen + 1, unpaid_fen = unpaid_fen + 1, "
        "last_visit_at = NULL")
    assert_tally_counts()
    raw("UPDATE unit SET number = number || 'x'")  # nothing the tally counts
    assert_tally_counts()
    raw("DELETE FROM contact")
    raw("DELETE FROM payment WHERE unit_id = :id", id=units[3].id)
    raw("DELETE FROM bill WHERE unit_id = :id", id=units[3].id)
    raw("DELETE FROM unit WHERE id = :id", id=units[3].id)
    assert_tally_counts()
    with db.engine.begin() as conn:  # a Core insert: no summary code runs
        conn.execute(insert(Unit).values(building_id=b_east.id, number="9901", floor=9,
                                         unpaid_fen=500, arrears_fen=500,
                                         oldest_unpaid_due=TODAY - timedelta(days=400)))
    assert tally()[(east.id, str(TODAY - timedelta(days=400)), False)] == (1, 500)
    assert_tally_counts()


def test_a_building_moved_to_another_community_takes_its_units_along(app):
    east, west = make_community(), make_community()
    building = make_building(east)
    for days in (40, 40, 90):
        make_bill(make_unit(building), 1_000, TODAY - timedelta(days=days))
    before = tally()
    raw("UPDATE building SET community_id = :c WHERE id = :id", c=west.id, id=building.id)
    after = tally()
    assert {k[1:]: v for k, v in before.items()} == {k[1:]: v for k, v in after.items()}
    assert {k[0] for k in after} == {west.id}
    raw("UPDATE building SET name = 'renamed', lat = 1.5")  # not its community: no change
    assert tally() == after == counted()


def test_the_nightly_refresh_counts_bills_falling_due(app):
    unit = make_unit(make_building())
    make_bill(unit, 7_000, TODAY + timedelta(days=3))  # not yet due
    make_bill(unit, 3_000, TODAY - timedelta(days=10))
    refresh_stale(db.session, TODAY + timedelta(days=5))
    db.session.commit()
    assert_tally_counts()
    assert sum(a for _, a in tally().values()) == db.session.get(Unit, unit.id).arrears_fen


def test_rebuild_and_prune(app):
    unit = make_unit(make_building())
    make_bill(unit, 3_000, TODAY - timedelta(days=10))
    make_payment(unit, 3_000, TODAY)
    with db.engine.begin() as conn:
        assert overdue_tally.prune(conn) == 1  # the due date everyone paid
        conn.execute(text("UPDATE overdue_tally SET units = 99"))
        overdue_tally.rebuild(conn)
    assert_tally_counts()


def test_truncating_units_empties_the_tally(app):
    """On PostgreSQL (SQLite has no TRUNCATE: its DELETE counts each row out)."""
    make_bill(make_unit(make_building()), 3_000, TODAY - timedelta(days=10))
    assert tally() != {}
    if db.engine.dialect.name == "postgresql":
        raw("TRUNCATE unit, bill, contact CASCADE")
    else:
        for table in ("bill", "contact", "unit"):
            raw(f"DELETE FROM {table}")
    assert tally() == {}


def test_the_estates_chips_from_the_tally_equal_a_count_of_its_units(app):
    """Chips of every building (from the tally) against the same buildings as a patch
    (counted from the units), with two communities whose bands differ."""
    default = make_community()
    strict = make_community(bands=[{"key": "late", "min_days": 1, "stage": "reminder"},
                                   {"key": "court", "min_days": 20, "stage": "legal"}])
    buildings = [make_building(default), make_building(strict)]
    for i, days in enumerate((3, 25, 45, 70, 200, 400)):
        for building in buildings:
            unit = make_unit(building)
            make_bill(unit, 1_000 + i, TODAY - timedelta(days=days))
            make_bill(unit, 50_000, TODAY + timedelta(days=10))  # not due: not counted
    raw("UPDATE unit SET on_hold = :h WHERE id IN (SELECT min(id) FROM unit)", h=True)
    policies = policies_for(db.session, None)
    every = RouteFilters(building_ids=None)
    as_patch = RouteFilters(building_ids=[b.id for b in buildings])
    chips = band_counts(db.session, every, TODAY, policies)
    assert chips == band_counts(db.session, as_patch, TODAY, policies)
    assert sum(c.units for c in chips[0]) == 11 and chips[1] == 1
    _, page_chips, held = page_hits_and_counts(db.session, every, TODAY, 1, 30, policies)
    assert (page_chips, held) == chips


def test_the_supervisors_estate_view_shows_the_tallys_chips(app, client, login_as):
    building = make_building()
    for days in (5, 45, 45):
        make_bill(make_unit(building), 2_000, TODAY - timedelta(days=days))
    login_as(make_user(Role.SUPERVISOR))
    from .test_route import chips
    assert chips(client.get("/route").get_data(as_text=True))["visit"] == (2, "40.00")
    raw("UPDATE unit SET arrears_fen = 0, oldest_unpaid_due = NULL WHERE id IN "
        "(SELECT max(id) FROM unit)")
    assert chips(client.get("/route").get_data(as_text=True))["visit"] == (1, "20.00")


def test_a_restore_counts_the_tally_again_and_makes_its_triggers(app):
    """As after a PostgreSQL backup from before the tally, restored over a database that
    has it: the unit table comes back without its triggers, the tally's rows stale."""
    from fieldapp import ops
    from .test_estate_version import triggers_of
    unit = make_unit(make_building())
    make_bill(unit, 3_000, TODAY - timedelta(days=10))
    dialect = db.engine.dialect.name
    with db.engine.begin() as conn:
        for name in overdue_tally.trigger_names(dialect):
            table = "building" if name.endswith("building") else "unit"
            conn.execute(text(f"DROP TRIGGER {name}" if dialect == "sqlite"
                              else f"DROP TRIGGER {name} ON {table}"))
        conn.execute(text("UPDATE overdue_tally SET units = 7"))
    ops.count_tally_again(db.engine)
    assert_tally_counts()
    with db.engine.connect() as conn:
        assert set(overdue_tally.trigger_names(dialect)) <= set(triggers_of(conn))
    make_payment(unit, 3_000, TODAY)
    assert tally() == {}
