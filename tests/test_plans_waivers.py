"""Installment plans and late-fee waivers through the Flask client: the form, bad
input kept and refused, the hold, statuses as payments arrive, supervisor decisions."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from fieldapp.domain.summary import refresh_due_promises
from fieldapp.extensions import db
from fieldapp.models import InstallmentPlan, Promise, Role, Unit, Waiver, WorkOrder

from .factories import TODAY, make_bill, make_building, make_payment, make_unit, make_user

JSON = {"Accept": "application/json"}


@pytest.fixture
def door(app):
    building = make_building()
    unit = make_unit(building)
    make_bill(unit, 100_000, TODAY - timedelta(days=120))
    return make_user(Role.HOUSEKEEPER, buildings=[building], locale="en"), unit


def rows_of(html: str) -> list[tuple[str, str]]:
    dates = re.findall(r'name="date-\d+" type="date" value="([^"]*)"', html)
    amounts = re.findall(r'name="amount-\d+" type="text" inputmode="decimal" value="([^"]*)"',
                         html)
    return list(zip(dates, amounts))


def plan_form(rows, **extra):
    data = {f"{k}-{i}": v for i, (d, a) in enumerate(rows, 1) for k, v in (("date", d),
                                                                           ("amount", a))}
    return {**data, **extra}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_form_splits_the_arrears_evenly_by_month(client, login_as, door):
    hk, unit = door
    login_as(hk)
    html = client.get(f"/units/{unit.id}/plans/new?count=3&first=2026-12-10&every=month"
                      ).get_data(as_text=True)
    assert rows_of(html) == [("2026-12-10", "333.00"), ("2027-01-10", "333.00"),
                             ("2027-02-10", "334.00")]
    fragment = client.get(f"/units/{unit.id}/plans/new?count=2&first=2026-12-10&every=week",
                          headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and rows_of(fragment) == [("2026-12-10", "500.00"),
                                                             ("2026-12-17", "500.00")]


def test_a_plan_is_saved_and_shows_on_the_row_and_the_card(client, login_as, door):
    hk, unit = door
    login_as(hk)
    rows = [("2026-12-10", "300"), ("2027-01-10", "300"), ("2027-02-10", "400")]
    r = client.post(f"/units/{unit.id}/plans", data=plan_form(rows, reason="失业"))
    assert r.status_code == 303
    plan = db.session.scalar(select(InstallmentPlan))
    assert [(i.seq, i.due_date, i.amount_fen) for i in plan.installments] == [
        (1, date(2026, 12, 10), 30_000), (2, date(2027, 1, 10), 30_000),
        (3, date(2027, 2, 10), 40_000)]
    row = db.session.get(Unit, unit.id)
    assert (row.plan_status, row.promise_status, row.next_promise_date) == \
        ("on_track", "open", date(2026, 12, 10))
    route = client.get("/route").get_data(as_text=True)
    assert "badge-plan" in route and 'data-promise-date="2026-12-10"' in route
    card = client.get(f"/units/{unit.id}").get_data(as_text=True)
    assert "Installment plan, on track" in card and card.count('class="installment ') == 3


@pytest.mark.parametrize("rows,field,message", [
    ([("2026-12-10", "300"), ("2027-01-10", "300")], "plan", "add up to ¥600.00"),
    ([("2027-01-10", "500"), ("2026-12-10", "500")], "date-2", "after the one before"),
    ([("2026-11-01", "500"), ("2026-12-10", "500")], "date-1", "in the future"),
    ([("2026-12-10", "500.005"), ("2027-01-10", "499.995")], "amount-1", "1280.50"),
    ([("2026-12-10", "-500"), ("2027-01-10", "1500")], "amount-1", "1280.50"),
    ([(f"2027-{m:02d}-01", "1") for m in range(1, 13)] + [("2028-01-01", "988")], "plan",
     "At most 12 installments"),
])
def test_bad_plans_are_refused_with_what_was_typed(client, login_as, door, rows, field,
                                                   message):
    hk, unit = door
    login_as(hk)
    r = client.post(f"/units/{unit.id}/plans", data=plan_form(rows))
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and message in html
    assert f'id="err-{field}"' in html
    assert rows_of(html)[:2] == rows[:2]
    assert count(InstallmentPlan) == 0 and count(Promise) == 0
    r = client.post(f"/units/{unit.id}/plans", data=plan_form(rows), headers=JSON)
    assert r.status_code == 422 and field in r.json["errors"]


def test_a_unit_on_hold_gets_no_plan(client, login_as, door):
    """Asking for a plan is dunning: 409, naming the work order."""
    hk, unit = door
    login_as(hk)
    order = client.post(f"/units/{unit.id}/complaints", headers=JSON, data={
        "client_uuid": "5e9b1c3e-2d7a-4e55-9a0e-3b7d1a2c4f60", "category": "leak",
        "description": "漏水"}).json["work_order_id"]
    rows = [("2026-12-10", "500"), ("2027-01-10", "500")]
    r = client.post(f"/units/{unit.id}/plans", data=plan_form(rows), headers=JSON)
    assert r.status_code == 409 and r.json["error"] == "dunning_hold"
    assert f"#{order}" in r.json["errors"]["plan"] and count(InstallmentPlan) == 0
    assert db.session.get(WorkOrder, order) is not None


def test_installments_are_kept_as_paid_and_the_plan_falls_behind_when_one_is_missed(
        client, login_as, door):
    hk, unit = door
    login_as(hk)
    rows = [("2026-11-25", "500"), ("2026-12-25", "500")]
    client.post(f"/units/{unit.id}/plans", data=plan_form(rows))
    make_payment(unit, 50_000, TODAY)
    first, second = db.session.scalar(select(InstallmentPlan)).installments
    assert (first.status.value, second.status.value) == ("kept", "open")
    assert db.session.get(Unit, unit.id).plan_status == "on_track"
    refresh_due_promises(db.session, date(2026, 12, 29))
    db.session.commit()
    db.session.expire_all()
    plan = db.session.scalar(select(InstallmentPlan))
    assert plan.status.value == "behind" and plan.installments[1].status.value == "broken"
    assert db.session.get(Unit, unit.id).plan_status == "behind"


def test_ending_a_plan_removes_its_open_installments_and_keeps_the_rest(client, login_as,
                                                                        door):
    hk, unit = door
    login_as(hk)
    client.post(f"/units/{unit.id}/plans",
                data=plan_form([("2026-11-25", "500"), ("2026-12-25", "500")]))
    make_payment(unit, 50_000, TODAY)
    plan = db.session.scalar(select(InstallmentPlan))
    assert client.post(f"/plans/{plan.id}/cancel").status_code == 303
    db.session.expire_all()
    assert db.session.scalar(select(InstallmentPlan)).status.value == "cancelled"
    assert [p.status.value for p in db.session.scalars(select(Promise))] == ["kept"]
    assert db.session.get(Unit, unit.id).plan_status is None


def test_a_waiver_takes_effect_only_when_a_supervisor_approves(client, login_as, door):
    hk, unit = door
    login_as(hk)
    r = client.post(f"/units/{unit.id}/waivers", data={"amount": "10", "reason": "独居老人"})
    assert r.status_code == 303
    waiver = db.session.scalar(select(Waiver))
    assert waiver.status.value == "pending" and db.session.get(Unit, unit.id).late_fee_waived_fen == 0
    assert client.post(f"/waivers/{waiver.id}/decide", data={"decision": "approve"},
                       headers=JSON).status_code == 403
    r = client.post(f"/units/{unit.id}/waivers", data={"amount": "5", "reason": "再来一次"},
                    headers=JSON)
    assert r.status_code == 409
    client.post("/logout")
    login_as(make_user(Role.SUPERVISOR, locale="en"))
    page = client.get("/waivers").get_data(as_text=True)
    assert f'data-waiver-id="{waiver.id}"' in page and "独居老人" in page
    r = client.post(f"/waivers/{waiver.id}/decide", data={"decision": "decline"})
    assert r.status_code == 422 and "Say why" in r.get_data(as_text=True)
    r = client.post(f"/waivers/{waiver.id}/decide", data={"decision": "approve",
                                                          "comment": "同意"})
    assert r.status_code == 303
    db.session.expire_all()
    assert db.session.get(Unit, unit.id).late_fee_waived_fen == 1_000
    assert client.post(f"/waivers/{waiver.id}/decide", data={"decision": "approve"},
                       headers=JSON).status_code == 409


@pytest.mark.parametrize("amount,reason,field", [
    ("", "x", "amount"), ("abc", "x", "amount"), ("-1", "x", "amount"), ("0", "x", "amount"),
    ("10", "", "reason"), ("10", "长" * 501, "reason"), ("1e9", "x", "amount"),
    ("99999", "x", "amount"),
])
def test_bad_waiver_requests_are_refused(client, login_as, door, amount, reason, field):
    hk, unit = door
    login_as(hk)
    r = client.post(f"/units/{unit.id}/waivers", data={"amount": amount, "reason": reason},
                    headers=JSON)
    assert r.status_code == 422 and field in r.json["errors"]
    assert count(Waiver) == 0
