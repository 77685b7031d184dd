"""The set-based refresh an import runs agrees exactly with refresh_unit, unit by unit,
on random estates: bills, payments naming bills or not, reversals, refunds, promises,
installment plans and payments reported at the door."""
from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from fieldapp.domain.summary import refresh_many, refresh_unit
from fieldapp.extensions import db
from fieldapp.models import (
    Bill,
    FieldPayment,
    InstallmentPlan,
    Outcome,
    Payment,
    PlanStatus,
    Promise,
    PromiseStatus,
    Role,
    Unit,
    Visit,
)

from .factories import TODAY, make_building, make_community, make_unit, make_user


def random_estate(rnd: random.Random, units: int = 30) -> list[int]:
    community = make_community()
    buildings = [make_building(community) for _ in range(2)]
    hk = make_user(Role.HOUSEKEEPER, buildings=buildings)
    ids = []
    for n in range(units):
        u = make_unit(rnd.choice(buildings), owner=None)
        ids.append(u.id)
        bills = []
        for _ in range(rnd.randint(0, 6)):
            b = Bill(unit_id=u.id, fee_type="management", period="2026-01",
                     amount_fen=rnd.choice([0, 5_000, 12_000, 30_000, 99_999]),
                     due_date=TODAY + timedelta(days=rnd.randint(-200, 40)))
            db.session.add(b)
            bills.append(b)
        db.session.flush()
        total = sum(b.amount_fen for b in bills) or 10_000
        paid = []
        for _ in range(rnd.randint(0, 4)):
            p = Payment(unit_id=u.id, amount_fen=rnd.randint(1, total),
                        paid_on=TODAY - timedelta(days=rnd.randint(0, 90)),
                        bill_id=rnd.choice(bills).id if bills and rnd.random() < 0.4 else None)
            db.session.add(p)
            paid.append(p)
        db.session.flush()
        kept = sum(p.amount_fen for p in paid)
        if paid and rnd.random() < 0.5:
            target = rnd.choice(paid)
            reversed_fen = rnd.randint(1, target.amount_fen)
            kept -= reversed_fen
            db.session.add(Payment(unit_id=u.id, amount_fen=-reversed_fen,
                                   paid_on=target.paid_on, reverses_id=target.id))
        if kept > 0 and rnd.random() < 0.3:
            db.session.add(Payment(unit_id=u.id, amount_fen=-rnd.randint(1, kept),
                                   paid_on=TODAY - timedelta(days=1)))
        if rnd.random() < 0.4:
            db.session.add(Promise(unit_id=u.id, made_on=TODAY - timedelta(days=40),
                                   due_date=TODAY + timedelta(days=rnd.randint(-30, 20)),
                                   amount_fen=rnd.randint(1, 50_000)))
        if rnd.random() < 0.3:
            plan = InstallmentPlan(unit_id=u.id, created_by=hk.id, made_on=TODAY - timedelta(60),
                                   total_fen=60_000)
            db.session.add(plan)
            db.session.flush()
            for seq in (1, 2, 3):
                db.session.add(Promise(unit_id=u.id, plan_id=plan.id, seq=seq,
                                       made_on=plan.made_on, amount_fen=20_000,
                                       due_date=plan.made_on + timedelta(days=25 * seq)))
        if rnd.random() < 0.3:
            visit = Visit(client_uuid=str(uuid.uuid4()), payload_sha256="0" * 64, unit_id=u.id,
                          user_id=hk.id, outcome=Outcome.PAID_ON_SITE,
                          created_at=datetime.now(timezone.utc) - timedelta(days=rnd.randint(0, 9)))
            db.session.add(visit)
            db.session.flush()
            db.session.add(FieldPayment(unit_id=u.id, visit_id=visit.id,
                                        amount_fen=rnd.randint(1, 40_000), reference="R"))
    db.session.commit()
    return ids


def scramble(rnd: random.Random) -> None:
    """Summaries and statuses as an import leaves them before the refresh: wrong."""
    for b in db.session.scalars(select(Bill).order_by(Bill.id)):
        b.paid_fen = rnd.randint(0, b.amount_fen)
    db.session.execute(update(Unit).values(unpaid_fen=7, arrears_fen=3, oldest_unpaid_due=TODAY,
                                           arrears_valid_until=None, promise_status="open",
                                           plan_status=None, broken_promises_in_row=2,
                                           next_promise_date=TODAY))
    for p in db.session.scalars(select(Promise).order_by(Promise.id)):
        p.status, p.resolved_on = rnd.choice(list(PromiseStatus)), None
    for plan in db.session.scalars(select(InstallmentPlan).order_by(InstallmentPlan.id)):
        plan.status, plan.ended_on = rnd.choice([PlanStatus.ON_TRACK, PlanStatus.BEHIND]), None
    db.session.commit()


def snapshot() -> dict:
    db.session.expire_all()
    return {
        "bills": sorted(db.session.execute(select(Bill.id, Bill.paid_fen)).all()),
        "units": sorted(db.session.execute(select(
            Unit.id, Unit.unpaid_fen, Unit.arrears_fen, Unit.oldest_unpaid_due,
            Unit.arrears_valid_until, Unit.next_promise_date, Unit.promise_status,
            Unit.plan_status, Unit.broken_promises_in_row)).all()),
        "promises": sorted(db.session.execute(select(Promise.id, Promise.status,
                                                     Promise.resolved_on)).all()),
        "plans": sorted(db.session.execute(select(InstallmentPlan.id, InstallmentPlan.status,
                                                  InstallmentPlan.ended_on)).all()),
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_set_based_refresh_agrees_with_refresh_unit(app, seed):
    """Scrambled the same way, the bulk refresh and refresh_unit per unit leave exactly
    the same bills, summaries, promises and plans."""
    rnd = random.Random(seed)
    ids = random_estate(rnd)
    scramble(random.Random(seed * 7))
    refresh_many(db.session, ids, TODAY)
    db.session.commit()
    bulk = snapshot()
    scramble(random.Random(seed * 7))
    for unit_id in ids:
        refresh_unit(db.session, unit_id, TODAY)
    db.session.commit()
    assert bulk == snapshot()
    assert any(u[2] > 0 for u in bulk["units"]) and bulk["promises"]


def test_the_bulk_refresh_moves_only_the_units_it_changed(app):
    """A unit whose summary is already right keeps its updated_at (the route cache)."""
    ids = random_estate(random.Random(5), units=10)
    for unit_id in ids:
        refresh_unit(db.session, unit_id, TODAY)
    db.session.commit()
    paying = set(db.session.scalars(select(Payment.unit_id)))
    before = dict(db.session.execute(select(Unit.id, Unit.updated_at)).all())
    refresh_many(db.session, ids, TODAY)
    db.session.commit()
    after = dict(db.session.execute(select(Unit.id, Unit.updated_at)).all())
    assert all(after[i] == before[i] for i in ids if i in paying)


@pytest.mark.parametrize("pick", ["runs", "scattered"])
def test_a_refresh_of_some_units_touches_only_those(app, pick):
    """Units chosen in runs with gaps (read as a few ranges) or scattered (read as a
    list): the chosen ones come out as refresh_unit leaves them, the others keep
    exactly what they had, bills included."""
    ids = random_estate(random.Random(11), units=40)
    chosen = ids[2:9] + ids[12:13] + ids[20:31] if pick == "runs" else ids[::2]
    scramble(random.Random(3))
    refresh_many(db.session, chosen, TODAY)
    db.session.commit()
    bulk = snapshot()
    scramble(random.Random(3))
    for unit_id in chosen:
        refresh_unit(db.session, unit_id, TODAY)
    db.session.commit()
    one_by_one = snapshot()
    assert bulk["units"] == one_by_one["units"]
    assert bulk["bills"] == one_by_one["bills"]
    others = [u for u in bulk["units"] if u[0] not in chosen]
    assert others and all(u[1:3] == (7, 3) for u in others)
