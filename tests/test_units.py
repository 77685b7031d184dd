"""The unit card: bills, late fee and how it is computed, next step, contacts, access."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from fieldapp.extensions import db
from fieldapp.models import Contact, ContactKind, Role

from .factories import TODAY, make_bill, make_building, make_payment, make_unit, make_user


@pytest.fixture
def unit_in_patch():
    building = make_building(name="3栋")
    unit = make_unit(building, number="1203", owner="陈静", phone="13611112222")
    db.session.add(Contact(unit=unit, kind=ContactKind.TENANT, name="赵磊", surname="赵",
                           phone="15833334444"))
    db.session.commit()
    hk = make_user(Role.HOUSEKEEPER, buildings=[building])
    return hk, unit


def test_card_shows_bills_late_fee_and_next_step(client, login_as, unit_in_patch):
    """The card lists each unpaid bill, the overdue total, the late fee line by line."""
    hk, unit = unit_in_patch
    old = make_bill(unit, 100_000, TODAY - timedelta(days=45))
    make_payment(unit, 25_000, TODAY - timedelta(days=20), bill=old)
    make_bill(unit, 30_000, TODAY + timedelta(days=10))
    login_as(hk)
    html = client.get(f"/units/{unit.id}").get_data(as_text=True)
    assert re.search(r"<h1[^>]*>3栋-1203</h1>", html)
    assert 'class="big-amount">¥750.00<' in html
    # Outstanding per bill, oldest first, then the total overdue; the bill not yet due is
    # listed, marked as such, and not in the total.
    assert re.findall(r'<td class="num">([\d,.]+)', html) == ["750.00", "300.00", "750.00"]
    assert re.search(r"<small>[^<]*1,000\.00[^<]*250\.00[^<]*</small>", html)  # of, paid
    assert html.count('class="not-due"') == 1
    # Accrued, not today's outstanding: 1,000 yuan for the 10 charged days up to the
    # payment, then 750 yuan for the 20 days after it.
    assert "¥1,000.00 × 0.03% × 10 天 = ¥3.00" in html
    assert "¥750.00 × 0.03% × 20 天 = ¥4.50" in html
    assert "违约金 ¥7.50" in html
    assert 'class="next-step"' in html


def test_full_numbers_with_tap_to_call_for_the_assigned_housekeeper(client, login_as,
                                                                   unit_in_patch):
    hk, unit = unit_in_patch
    login_as(hk)
    html = client.get(f"/units/{unit.id}").get_data(as_text=True)
    assert 'href="tel:13611112222"' in html and 'href="tel:15833334444"' in html


def test_supervisor_sees_full_numbers_too(client, login_as, unit_in_patch):
    _, unit = unit_in_patch
    login_as(make_user(Role.SUPERVISOR))
    assert 'href="tel:13611112222"' in client.get(f"/units/{unit.id}").get_data(as_text=True)


def test_map_link_uses_the_building_coordinates(client, login_as, unit_in_patch):
    hk, unit = unit_in_patch
    login_as(hk)
    assert 'href="geo:31.2304,121.4737' in client.get(f"/units/{unit.id}").get_data(as_text=True)


def test_housekeeper_gets_404_outside_the_patch(client, login_as, unit_in_patch):
    _, unit = unit_in_patch
    login_as(make_user(Role.HOUSEKEEPER, buildings=[make_building()]))
    response = client.get(f"/units/{unit.id}")
    assert response.status_code == 404
    assert "13611112222" not in response.get_data(as_text=True)


@pytest.mark.parametrize("role,status", [(Role.ENGINEER, 403), (Role.ADMIN, 200)])
def test_card_access_by_role(client, login_as, unit_in_patch, role, status):
    _, unit = unit_in_patch
    login_as(make_user(role))
    assert client.get(f"/units/{unit.id}").status_code == status


def test_unknown_unit_is_404_as_json_too(client, login_as, unit_in_patch):
    hk, _ = unit_in_patch
    login_as(hk)
    r = client.get("/units/999999", headers={"Accept": "application/json"})
    assert r.status_code == 404 and r.json["error"] == "not_found"


def test_card_of_a_unit_without_arrears(client, login_as, unit_in_patch):
    hk, unit = unit_in_patch
    login_as(hk)
    html = client.get(f"/units/{unit.id}").get_data(as_text=True)
    assert "next-step" not in html and "¥0.00" in html


def test_a_units_history_names_each_kind_of_record_it_has_and_no_other(app):
    """The card skips what a unit has none of, so each kind must be seen when present."""
    from fieldapp.models import Promise
    from fieldapp.units.services import UnitHistory as H
    from fieldapp.units.services import unit_history

    from .world import make_world
    w = make_world()
    assert unit_history(db.session, w.unit.id) == \
        H.VISITS | H.WORK_ORDERS | H.WAIVERS | H.STATEMENT_LINKS
    # The plan's installments are promises of the plan, not single promises; a notice
    # carries a link to the unit's statement.
    assert unit_history(db.session, w.other_unit.id) == \
        H.PLANS | H.VISITS | H.NOTICES | H.STATEMENT_LINKS
    bare = make_unit(make_building())
    make_bill(bare, 10_000, TODAY - timedelta(days=40))
    assert unit_history(db.session, bare.id) == H(0)
    db.session.add(Promise(unit_id=bare.id, made_on=TODAY, due_date=TODAY + timedelta(days=3),
                           amount_fen=10_000))
    db.session.commit()
    assert unit_history(db.session, bare.id) == H.PROMISES
    # The card reads the same with the unit itself.
    from sqlalchemy import select

    from fieldapp.models import Unit
    from fieldapp.units.services import with_history
    ids = [w.unit.id, w.other_unit.id, bare.id]
    db.session.expunge_all()
    loaded = db.session.scalars(select(Unit).where(Unit.id.in_(ids))
                                .options(with_history())).all()
    assert {u.id: H(u.history) for u in loaded} == {u: unit_history(db.session, u) for u in ids}
