"""The per-unit summary always equals the computation from bills and payments."""
from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from fieldapp.domain.arrears import arrears_of
from fieldapp.domain.summary import refresh_stale, refresh_unit
from fieldapp.extensions import db
from fieldapp.models import Bill, Payment, Unit

from .factories import TODAY, make_bill, make_building, make_unit

ops = st.lists(st.one_of(
    st.tuples(st.just("bill"), st.integers(1, 90_000), st.integers(-400, 40)),
    st.tuples(st.just("pay"), st.integers(1, 120_000), st.integers(-1, 8)),
), min_size=1, max_size=12)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=ops, later=st.integers(0, 60))
def test_summary_equals_computation_from_bills(app, ops, later):
    """After any mix of bills and payments (some naming a bill), and after the
    calendar moves on, the stored summary equals arrears computed from bills."""
    building = make_building()
    unit = make_unit(building, owner=None)
    bills: list[Bill] = []
    for kind, amount, x in ops:
        if kind == "bill":
            bill = Bill(unit_id=unit.id, fee_type="management", period="2026-01",
                        amount_fen=amount, due_date=TODAY + timedelta(days=x))
            db.session.add(bill)
            db.session.flush()
            bills.append(bill)
        else:
            named = bills[x].id if 0 <= x < len(bills) else None
            db.session.add(Payment(unit_id=unit.id, amount_fen=amount, paid_on=TODAY,
                                   bill_id=named))
        db.session.flush()
        refresh_unit(db.session, unit.id, TODAY)
    db.session.commit()

    def check(day: date):
        db.session.expire_all()
        stored = db.session.get(Unit, unit.id)
        rows = db.session.scalars(select(Bill).where(Bill.unit_id == unit.id)).all()
        expected = arrears_of(rows, day)
        assert (stored.arrears_fen, stored.unpaid_fen, stored.oldest_unpaid_due) == \
            (expected.arrears_fen, expected.unpaid_fen, expected.oldest_unpaid_due)
        paid_total = sum(p.amount_fen for p in db.session.scalars(
            select(Payment).where(Payment.unit_id == unit.id)))
        assert sum(b.paid_fen for b in rows) <= paid_total

    check(TODAY)
    later_day = TODAY + timedelta(days=later)
    refresh_stale(db.session, later_day, [building.id])
    db.session.commit()
    check(later_day)


def test_refresh_stale_touches_only_outdated_units(app):
    """A bill falling due makes its unit stale; others are left alone."""
    building = make_building()
    due_soon, settled = make_unit(building), make_unit(building)
    make_bill(due_soon, 10_000, TODAY + timedelta(days=3))
    make_bill(settled, 10_000, TODAY - timedelta(days=3))
    assert db.session.get(Unit, due_soon.id).arrears_fen == 0
    assert refresh_stale(db.session, TODAY + timedelta(days=3), [building.id]) == 0
    assert refresh_stale(db.session, TODAY + timedelta(days=4), [building.id]) == 1
    db.session.commit()
    assert db.session.get(Unit, due_soon.id).arrears_fen == 10_000


def test_demo_data_loads_on_both_databases_with_true_summaries(app):
    """seed-demo bulk-loads (COPY on PostgreSQL) and every unit's summary is what its
    bills say."""
    from sqlalchemy import func

    from fieldapp.demo import seed_demo
    counts = seed_demo(db.session, units=240, seed=3, today=TODAY, echo=lambda *a: None)
    db.session.commit()
    assert counts["units"] == 240 and counts["bills"] > 240 * 10
    assert db.session.scalar(select(func.count()).select_from(Unit)) == 240
    for unit in db.session.scalars(select(Unit).order_by(Unit.id).limit(60)):
        bills = db.session.scalars(select(Bill).where(Bill.unit_id == unit.id)).all()
        a = arrears_of(bills, TODAY)
        assert (unit.arrears_fen, unit.oldest_unpaid_due) == (a.arrears_fen,
                                                               a.oldest_unpaid_due)
        assert unit.updated_at is not None


def signed_in(app, user):
    from .factories import PASSWORD
    client = app.test_client()
    assert client.post("/login", data={"username": user.username,
                                       "password": PASSWORD}).status_code == 303
    return client


def test_a_route_request_catches_up_only_a_slice_of_a_missed_nightly_job(app):
    """When bills fell due and the job did not run, each route-list request refreshes at
    most CATCH_UP_UNITS of the patch's stale units, until none is left."""
    from .factories import make_user
    from fieldapp.models import Role
    building = make_building()
    units = [make_unit(building, number=f"{i:04d}") for i in range(5)]
    for unit in units:
        make_bill(unit, 10_000, TODAY + timedelta(days=1))
    hk = make_user(Role.HOUSEKEEPER, buildings=[building])
    app.config.update(CATCH_UP_UNITS=2, FIXED_TODAY=TODAY + timedelta(days=2))
    client = signed_in(app, hk)

    def caught_up() -> int:
        db.session.expire_all()
        return sum(db.session.get(Unit, u.id).arrears_fen == 10_000 for u in units)

    seen = []
    for _ in range(4):
        assert client.get("/route").status_code == 200
        seen.append(caught_up())
    assert seen == [2, 4, 5, 5]


def test_today_catches_up_promises_a_slice_at_a_time_and_once_a_day(app):
    """Today, like the route list, lapses at most CATCH_UP_PROMISES units' promises per
    request, and once the patch is done that day neither page checks again."""
    from sqlalchemy import event, func

    from fieldapp.models import Promise, PromiseStatus, Role

    from .factories import make_user
    building = make_building()
    units = [make_unit(building, number=f"{i:04d}") for i in range(5)]
    for unit in units:
        make_bill(unit, 10_000, TODAY - timedelta(days=40))
        db.session.add(Promise(unit_id=unit.id, made_on=TODAY, due_date=TODAY + timedelta(days=1),
                               amount_fen=10_000))
    db.session.commit()
    hk = make_user(Role.HOUSEKEEPER, buildings=[building])
    app.config.update(CATCH_UP_PROMISES=2, FIXED_TODAY=TODAY + timedelta(days=10))
    client = signed_in(app, hk)

    def lapsed() -> int:
        db.session.expire_all()
        return db.session.scalar(select(func.count()).select_from(Promise).where(
            Promise.status != PromiseStatus.OPEN))

    seen = []
    for _ in range(4):
        assert client.get("/today").status_code == 200
        seen.append(lapsed())
    assert seen == [2, 4, 5, 5]
    checks = []

    def keep(conn, cursor, statement, *args):
        if "FROM promise" in statement and "DISTINCT promise.unit_id" in statement:
            checks.append(statement)
    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        assert client.get("/route").status_code == 200
        assert client.get("/today").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    assert checks == []


def test_a_supervisors_look_at_one_patch_does_not_stand_for_every_building(app):
    from fieldapp.models import Role

    from .factories import make_user
    mine, other = make_building(), make_building()
    units = [make_unit(b, number="0101") for b in (mine, other)]
    for unit in units:
        make_bill(unit, 10_000, TODAY + timedelta(days=1))
    hk = make_user(Role.HOUSEKEEPER, buildings=[mine])
    supervisor = make_user(Role.SUPERVISOR)
    app.config.update(FIXED_TODAY=TODAY + timedelta(days=2))
    client = signed_in(app, supervisor)

    def caught_up() -> list[bool]:
        db.session.expire_all()
        return [db.session.get(Unit, u.id).arrears_fen == 10_000 for u in units]

    assert client.get(f"/route?hk={hk.id}").status_code == 200
    assert caught_up() == [True, False]
    assert client.get("/route").status_code == 200
    assert caught_up() == [True, True]


def test_a_session_marked_done_before_patches_were_told_apart_is_checked_again(app):
    from fieldapp.models import Role

    from .factories import make_user
    building = make_building()
    unit = make_unit(building, number="0101")
    make_bill(unit, 10_000, TODAY + timedelta(days=1))
    hk = make_user(Role.HOUSEKEEPER, buildings=[building])
    day = TODAY + timedelta(days=2)
    app.config.update(FIXED_TODAY=day)
    client = signed_in(app, hk)
    with client.session_transaction() as stored:
        stored["arrears_checked"] = day.isoformat()  # as sessions kept it until now
    assert client.get("/route").status_code == 200
    db.session.expire_all()
    assert db.session.get(Unit, unit.id).arrears_fen == 10_000
