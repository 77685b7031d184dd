"""The tally of units in arrears per community, due date and hold equals a count of the
units after every kind of write, whoever writes it, and the whole estate's chips read
from it say what a count of the units says."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select, text

from fieldapp.domain.summary import refresh_stale
from fieldapp.extensions import db
from fieldapp.models import Role, Unit, overdue_tally
from fieldapp.route.services import RouteFilters, band_counts, page_hits_and_counts, \
    policies_for

from .conftest import _empty_tables, make_app
from .factories import PASSWORD, TODAY, make_bill, make_building, make_community, make_payment, \
    make_unit, make_user

COUNTED = text(overdue_tally.COUNT_UNITS)


def tally() -> dict:
    """What the tally says, its log of changes included, without rows of nobody."""
    db.session.commit()
    t = overdue_tally.CURRENT.c
    summed = select(t.community_id, t.due, t.on_hold, func.sum(t.units),
                    func.sum(t.arrears_fen)).group_by(t.community_id, t.due, t.on_hold)
    return {(c, str(d), bool(h)): (n, a) for c, d, h, n, a in db.session.execute(summed)
            if n or a}


def logged() -> int:
    db.session.commit()
    return db.session.scalar(text("SELECT count(*) FROM overdue_tally_change"))


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


def test_counted_again_the_tally_drops_rows_of_nobody_and_mends_drift(app):
    paid, owing = make_unit(make_building()), make_unit(make_building())
    make_bill(paid, 3_000, TODAY - timedelta(days=10))
    make_bill(owing, 5_000, TODAY - timedelta(days=20))
    make_payment(paid, 3_000, TODAY)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE overdue_tally SET units = units + 99"))
        overdue_tally.rebuild(conn)
    assert_tally_counts()
    with db.engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM overdue_tally")) == 1
    assert logged() == 0


@pytest.fixture
def pg_app(postgresql_url, tmp_path):
    """Writers in transactions of their own at once: what SQLite, one writer at a time,
    cannot have."""
    app = make_app(postgresql_url, tmp_path)
    with app.app_context():
        yield app
    _empty_tables(app)


def test_a_write_never_waits_for_another_transaction_counted_in_the_same_row(pg_app):
    """An import holding its transaction open while it works through a community does
    not hold up a housekeeper's hold on another unit of it, counted under the same due
    date; and when the import reaches that unit, nobody deadlocks."""
    building = make_building()
    due = TODAY - timedelta(days=40)
    importing, held = make_unit(building), make_unit(building)
    for unit in (importing, held):
        make_bill(unit, 5_000, due)
    db.session.commit()
    pay = text("UPDATE unit SET arrears_fen = arrears_fen - 1000 WHERE id = :id")
    with db.engine.connect() as slow, db.engine.connect() as quick:
        slow.execute(pay, {"id": importing.id})
        quick.execute(text("SET lock_timeout = '2s'"))
        quick.execute(text("UPDATE unit SET on_hold = true WHERE id = :id"), {"id": held.id})
        quick.commit()
        slow.execute(pay, {"id": held.id})
        slow.commit()
    assert_tally_counts()
    assert tally()[(building.community_id, str(due), True)] == (1, 4_000)


def test_folding_the_log_changes_nothing_it_says_while_writers_write(pg_app):
    """Folds at once from several connections, with writers between them: each change
    lands in the tally once."""
    units = [make_unit(make_building()) for _ in range(4)]
    for i, unit in enumerate(units):
        make_bill(unit, 100_000, TODAY - timedelta(days=10 + i))
    db.session.commit()
    assert logged() > 0
    engine, errors = db.engine, []

    def write(unit_id):
        try:
            for _ in range(20):
                with engine.begin() as conn:
                    conn.execute(text("UPDATE unit SET arrears_fen = arrears_fen - 7 "
                                      "WHERE id = :id"), {"id": unit_id})
        except Exception as e:  # noqa: BLE001 -- reported below
            errors.append(e)

    def fold():
        try:
            for _ in range(20):
                with engine.begin() as conn:
                    overdue_tally.fold(conn)
        except Exception as e:  # noqa: BLE001 -- reported below
            errors.append(e)

    threads = [threading.Thread(target=write, args=(u.id,)) for u in units] + \
        [threading.Thread(target=fold) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert_tally_counts()
    with db.engine.begin() as conn:
        overdue_tally.fold(conn)
    assert logged() == 0
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


def test_the_estate_view_folds_the_log_in_once_sent_now_and_then(pg_app):
    """Its chips add up the log until a fold, and say the same after; the fold comes
    once the page is sent, at most every TALLY_FOLD_EVERY_S."""
    from .test_route import chips

    def estate_page() -> dict:
        with client.get("/route") as response:  # sent and closed, as a server does
            return chips(response.get_data(as_text=True))

    building = make_building()
    for days in (5, 45, 45):
        make_bill(make_unit(building), 2_000, TODAY - timedelta(days=days))
    supervisor = make_user(Role.SUPERVISOR)
    client = pg_app.test_client()
    assert client.post("/login", data={"username": supervisor.username,
                                       "password": PASSWORD}).status_code == 303
    assert logged() > 0
    pg_app.config["TALLY_FOLD_EVERY_S"] = 0
    assert estate_page()["visit"] == (2, "40.00")
    assert logged() == 0
    pg_app.config["TALLY_FOLD_EVERY_S"] = 3600
    raw("UPDATE unit SET on_hold = true WHERE id IN (SELECT max(id) FROM unit)")
    assert logged() == 2  # out of the row not on hold, into the one on hold
    assert estate_page()["visit"] == (1, "20.00")  # from the log: not folded yet
    assert logged() == 2
    with client.get(f"/route?building={building.id}"):  # not read from the tally
        pass
    pg_app.config["TALLY_FOLD_EVERY_S"] = 0
    with client.get(f"/route?building={building.id}"):
        pass
    assert logged() == 2
    assert estate_page()["visit"] == (1, "20.00")
    assert logged() == 0
    assert_tally_counts()


def test_a_building_moved_while_a_writer_is_at_one_of_its_units(pg_app):
    """The move waits for the writer, and counts its unit with the writer's change."""
    east, west = make_community(), make_community()
    building = make_building(east)
    unit = make_unit(building)
    make_bill(unit, 5_000, TODAY - timedelta(days=40))
    db.session.commit()
    engine, errors, moved = db.engine, [], {"c": west.id, "id": building.id}

    def move():
        try:
            with engine.begin() as conn:
                conn.execute(text("UPDATE building SET community_id = :c WHERE id = :id"),
                             moved)
        except Exception as e:  # noqa: BLE001 -- reported below
            errors.append(e)

    with engine.connect() as writer:
        writer.execute(text("UPDATE unit SET arrears_fen = arrears_fen - 1000 WHERE id = :id"),
                       {"id": unit.id})
        mover = threading.Thread(target=move)
        mover.start()
        mover.join(0.5)
        assert mover.is_alive(), errors  # waiting for the writer
        writer.commit()
    mover.join(10)
    assert errors == []
    assert_tally_counts()
    assert {k[0] for k in tally()} == {west.id}


def test_the_nightly_refresh_empties_the_log(pg_app):
    make_bill(make_unit(make_building()), 3_000, TODAY - timedelta(days=10))
    assert logged() > 0
    result = pg_app.test_cli_runner().invoke(args=["refresh-arrears"])
    assert result.exit_code == 0, result.output
    assert logged() == 0
    assert_tally_counts()
