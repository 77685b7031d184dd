"""How many SQL statements a page costs: a regression that adds a query per row (or
per anything) fails here, whatever the machine's speed."""
from __future__ import annotations

import io
import uuid
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event

from fieldapp.extensions import db
from fieldapp.models import Role, WorkOrder
from fieldapp.route.services import FEES

from .factories import PASSWORD, TODAY, make_bill, make_building, make_payment, make_unit, \
    make_user


@contextmanager
def statements():
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


@pytest.fixture
def busy_patch(app):
    """A patch of 45 overdue units with bills, payments and contacts: pages that
    query per row would show it at once."""
    buildings = [make_building(), make_building()]
    for i in range(45):
        unit = make_unit(buildings[i % 2], number=f"{i:04d}")
        for months in (1, 2, 3):
            make_bill(unit, 50_000 + i, TODAY - timedelta(days=30 * months))
        make_payment(unit, 20_000, TODAY - timedelta(days=10))
    hk = make_user(Role.HOUSEKEEPER, buildings=buildings)
    client = app.test_client()
    assert client.post("/login", data={"username": hk.username,
                                       "password": PASSWORD}).status_code == 303
    client.get("/route")  # the day's catch-up is done once per session
    return client, unit


# The most statements each page may cost (a signed-in request includes loading the
# user and its session): raise one only with a reason in the commit.
# The route list: the user (with the count of rule changes, so the patch's policies and
# buildings come from memory), the page's units with the chips (reused: nothing more),
# then the rows and, with every late fee to compute again, the rows' bills with their
# payments, and their plans. A unit card without history: the user, the unit with which
# kinds of record it has, its bills, its payments (its demands too when it has visits or
# promises). Today, once the day's catch-up is done: the user, the sent-back visits, the
# promises and the decided waivers (each with its unit's building and contacts).
BUDGET = {"route list": 5, "route list reused": 2, "route list page 2": 5,
          "unit card": 4, "visit form": 3, "today": 4}


def test_pages_cost_a_bounded_number_of_statements(app, busy_patch):
    client, unit = busy_patch
    app.config["ROUTE_CACHE"] = False
    pages = {"route list": "/route", "route list page 2": "/route?page=2",
             "unit card": f"/units/{unit.id}", "visit form": f"/units/{unit.id}/visits/new",
             "today": "/today"}
    counted = {}
    for name, url in pages.items():
        FEES._fees.clear()  # every row's late fee computed, as after writes
        with statements() as seen:
            assert client.get(url).status_code == 200
        counted[name] = len(seen)
    app.config["ROUTE_CACHE"] = True
    client.get("/route")
    with statements() as seen:
        client.get("/route")
    counted["route list reused"] = len(seen)
    over = {k: (v, BUDGET[k]) for k, v in counted.items() if v > BUDGET[k]}
    assert over == {}, counted


def test_today_costs_the_same_for_two_items_or_twenty(app):
    """Today's promises and decided waivers show their unit and building: read with
    them, not one unit (and building) per item."""
    from datetime import datetime, timezone

    from fieldapp.models import Promise, PromiseStatus, Waiver, WaiverStatus
    buildings = [make_building(), make_building()]
    hk = make_user(Role.HOUSEKEEPER, buildings=buildings)
    units = [make_unit(buildings[i % 2], number=f"{i:04d}") for i in range(20)]
    for unit in units:
        make_bill(unit, 50_000, TODAY - timedelta(days=40))
    client = app.test_client()
    assert client.post("/login", data={"username": hk.username,
                                       "password": PASSWORD}).status_code == 303
    client.get("/today")  # the day's catch-up is done once per session

    def add(some):
        for unit in some:
            db.session.add(Promise(unit_id=unit.id, made_on=TODAY, due_date=TODAY,
                                   amount_fen=10_000, status=PromiseStatus.OPEN,
                                   created_by=hk.id))
            db.session.add(Waiver(unit_id=unit.id, amount_fen=100, reason="r",
                                  requested_by=hk.id, status=WaiverStatus.APPROVED,
                                  decided_at=datetime.now(timezone.utc)))
        db.session.commit()
    counted = []
    for some in (units[:2], units[2:]):
        add(some)
        with statements() as seen:
            page = client.get("/today")
        assert page.status_code == 200
        counted.append(len(seen))
    assert units[-1].number.encode() in page.data
    assert counted[0] == counted[1] <= BUDGET["today"], counted



def test_a_card_with_history_costs_a_few_statements_more_whatever_its_length(app):
    """Visits with their photos, a field payment, a promise and who logged them, and work
    orders with their complaint and events: each kind of thing read for all rows at once,
    and a visit's one-per-visit parts joined to it."""
    from .photos import door_scene, jpeg_of
    from .test_visits import post_visit
    building = make_building()
    unit = make_unit(building)
    make_bill(unit, 500_000, TODAY - timedelta(days=90))
    hk = make_user(Role.HOUSEKEEPER, buildings=[building])
    client = app.test_client()
    assert client.post("/login", data={"username": hk.username,
                                       "password": PASSWORD}).status_code == 303
    client.get(f"/units/{unit.id}")  # the day's catch-up is done once per session

    def card() -> int:
        client.get(f"/units/{unit.id}")  # what a post leaves for the next read is done
        with statements() as seen:
            assert client.get(f"/units/{unit.id}").status_code == 200
        return len(seen)

    def visit_three_ways(seed: int) -> None:
        kinds = [dict(outcome="paid_on_site", paid_amount="10", payment_ref=f"R{seed}"),
                 dict(outcome="met_owner", reason="service", service_category="leak")]
        if seed == 0:  # before the first complaint puts the unit on hold
            kinds.append(dict(outcome="promised", reason="hardship", promise_date="2026-12-20",
                              promise_amount="100"))
        for i, fields in enumerate(kinds):
            photo = ("door.jpg", jpeg_of(door_scene(seed * 3 + i)))
            assert post_visit(client, unit.id, photos=[photo], **fields).status_code == 303
        complaint = client.post(
            f"/units/{unit.id}/complaints", content_type="multipart/form-data",
            headers={"Accept": "application/json"},
            data={"client_uuid": str(uuid.uuid4()), "category": "leak", "description": "漏水",
                  "photos": [(io.BytesIO(jpeg_of(door_scene(100 + seed))), "leak.jpg")]})
        assert complaint.status_code in (200, 201), complaint.data

    bare = card()
    visit_three_ways(0)
    once = card()
    for seed in range(1, 5):
        visit_three_ways(seed)
    five_times = card()
    assert b"R4" in client.get(f"/units/{unit.id}").data
    assert db.session.query(WorkOrder).filter_by(unit_id=unit.id).count() == 5
    # A bare card reads none of the records it has none of; this one reads its demands
    # (notices delivered, promises), three kinds (visits, promises, work orders) and,
    # for all rows at once, visits' promises and photos and work orders' events and
    # after-photos.
    assert once == five_times <= bare + 1 + 3 + 4, (bare, once, five_times)


def test_a_units_money_is_its_bills_with_its_payments_read_in_one_statement(app):
    from fieldapp.domain.allocation import BillDue
    from fieldapp.domain.latefee import DatedPayment
    from fieldapp.models import Payment
    from fieldapp.units.fees import unit_money

    unit, other = make_unit(), make_unit()
    old = make_bill(unit, 30_000, TODAY - timedelta(days=90))
    new = make_bill(unit, 20_000, TODAY - timedelta(days=30))
    make_bill(other, 99_000, TODAY - timedelta(days=30))
    named = make_payment(unit, 10_000, TODAY - timedelta(days=60), bill=old)
    pooled = make_payment(unit, 5_000, TODAY - timedelta(days=20))
    refund = Payment(unit_id=unit.id, amount_fen=-2_000, paid_on=TODAY - timedelta(days=5),
                     reverses_id=pooled.id)
    db.session.add(refund)
    db.session.commit()
    policy = unit.building.community.policy
    policy.plan_pauses_late_fee = False  # no plans to read
    db.session.commit()
    units = {unit.id: (policy, 0), other.id: (policy, 0)}
    for row in (policy, old, new, named, pooled, refund):
        db.session.refresh(row)  # loaded before counting
    with statements() as seen:
        money = unit_money(db.session, units, TODAY)
    assert len(seen) == 1
    assert sorted(money[unit.id].bills, key=lambda b: b.id) == [
        BillDue(old.id, 30_000, old.due_date), BillDue(new.id, 20_000, new.due_date)]
    assert sorted(money[unit.id].payments, key=lambda p: p.id) == [
        DatedPayment(named.id, 10_000, named.paid_on, old.id, None),
        DatedPayment(pooled.id, 5_000, pooled.paid_on, None, None),
        DatedPayment(refund.id, -2_000, refund.paid_on, None, pooled.id)]
    assert [b.amount_fen for b in money[other.id].bills] == [99_000]
    assert money[other.id].payments == []
