"""Test factories: make_* builds a valid object with overridable fields, committed."""
from __future__ import annotations

import itertools
from datetime import date

from werkzeug.security import generate_password_hash

from fieldapp.domain.summary import refresh_unit
from fieldapp.extensions import db
from fieldapp.models import (
    Assignment,
    Bill,
    Building,
    Community,
    Contact,
    ContactKind,
    Payment,
    Policy,
    Role,
    Unit,
    User,
)

PASSWORD = "correct horse battery"
_HASH = generate_password_hash(PASSWORD, method="scrypt")  # hashed once: scrypt is slow
_seq = itertools.count(1)
TODAY = date(2026, 11, 22)


def make_community(*, bands=None, **overrides) -> Community:
    community = Community(name=overrides.pop("name", f"小区{next(_seq)}"), **overrides)
    policy = Policy(community=community)
    if bands is not None:
        policy.bands = bands
    db.session.add_all([community, policy])
    db.session.commit()
    return community


def make_building(community: Community | None = None, **overrides) -> Building:
    community = community or make_community()
    fields = dict(name=f"{next(_seq)}栋", address="上海市黄浦区人民路1号", lat=31.2304,
                  lon=121.4737, floors=18)
    fields.update(overrides)
    building = Building(community=community, **fields)
    db.session.add(building)
    db.session.commit()
    return building


def make_unit(building: Building | None = None, *, owner: str | None = "王建国",
              phone: str = "13812345678", **overrides) -> Unit:
    building = building or make_building()
    n = next(_seq)
    fields = dict(number=f"{n:04d}", floor=overrides.pop("floor", n % 18 + 1), area_m2=89.5)
    fields.update(overrides)
    unit = Unit(building=building, **fields)
    db.session.add(unit)
    if owner:
        db.session.add(Contact(unit=unit, kind=ContactKind.OWNER, name=owner,
                               surname=owner[0], phone=phone))
    db.session.commit()
    return unit


def make_bill(unit: Unit, amount_fen: int, due: date, *, fee_type="management",
              today: date = TODAY, **overrides) -> Bill:
    bill = Bill(unit=unit, fee_type=fee_type, period=overrides.pop("period", due.strftime("%Y-%m")),
                amount_fen=amount_fen, due_date=due, **overrides)
    db.session.add(bill)
    db.session.flush()
    refresh_unit(db.session, unit.id, today)
    db.session.commit()
    return bill


def make_payment(unit: Unit, amount_fen: int, paid_on: date, *, bill: Bill | None = None,
                 today: date = TODAY) -> Payment:
    payment = Payment(unit=unit, amount_fen=amount_fen, paid_on=paid_on,
                      bill_id=bill.id if bill else None)
    db.session.add(payment)
    db.session.flush()
    refresh_unit(db.session, unit.id, today)
    db.session.commit()
    return payment


def make_user(role: Role = Role.HOUSEKEEPER, *, buildings=(), **overrides) -> User:
    n = next(_seq)
    user = User(username=overrides.pop("username", f"{role.value}{n}"), role=role,
                display_name=overrides.pop("display_name", f"{role.value} {n}"),
                password_hash=_HASH, **overrides)
    for b in buildings:
        user.assignments.append(Assignment(building=b))
    db.session.add(user)
    db.session.commit()
    return user
