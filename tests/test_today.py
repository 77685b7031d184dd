"""Today: promises and installments due today and in the next days, promises broken
this week, waivers decided; for supervisors, waiting waivers and flagged households."""
from __future__ import annotations

from datetime import timedelta

from fieldapp.domain.summary import refresh_unit
from fieldapp.extensions import db
from fieldapp.models import Contact, ContactKind, Promise, Role, Waiver, WaiverStatus, utcnow

from .factories import TODAY, make_bill, make_building, make_unit, make_user


def promised(unit, hk, due_in: int, made_ago: int = 5, amount: int = 10_000) -> None:
    db.session.add(Promise(unit_id=unit.id, made_on=TODAY - timedelta(days=made_ago),
                           due_date=TODAY + timedelta(days=due_in), amount_fen=amount,
                           created_by=hk.id))
    db.session.flush()
    refresh_unit(db.session, unit.id, TODAY)
    db.session.commit()


def section(html: str, key: str) -> str:
    start = html.index(f'aria-labelledby="today-{key}"')
    return html[start:html.index("</section>", start)]


def test_today_shows_what_is_due_broken_and_decided_in_my_patch_only(client, login_as, app):
    mine, theirs = make_building(), make_building()
    hk = make_user(Role.HOUSEKEEPER, buildings=[mine], locale="en")
    units = [make_unit(mine, number=f"10{i}") for i in range(5)]
    for u in units:
        make_bill(u, 100_000, TODAY - timedelta(days=90))
    stranger = make_unit(theirs, number="999")
    make_bill(stranger, 100_000, TODAY - timedelta(days=90))
    promised(units[0], hk, 0)
    promised(units[1], hk, 2)
    promised(units[2], hk, 9)  # beyond the next three days
    promised(units[3], hk, -8, made_ago=20)  # broken five days ago (three days of grace)
    promised(stranger, hk, 0)
    db.session.add(Waiver(unit_id=units[4].id, amount_fen=500, reason="困难", comment="同意",
                          requested_by=hk.id, status=WaiverStatus.APPROVED,
                          decided_at=utcnow()))
    db.session.commit()
    login_as(hk)
    html = client.get("/today").get_data(as_text=True)
    assert f'data-unit-id="{units[0].id}"' in section(html, "due")
    assert f'data-unit-id="{units[1].id}"' in section(html, "soon")
    assert f'data-unit-id="{units[2].id}"' not in html
    assert f'data-unit-id="{units[3].id}"' in section(html, "broken")
    assert f'data-unit-id="{units[4].id}"' in section(html, "decided")
    assert "approved" in section(html, "decided")
    assert f'data-unit-id="{stranger.id}"' not in html
    assert 'href="tel:13812345678"' in section(html, "due")
    assert "today-flagged" not in html


def test_an_empty_today_says_so_for_each_section(client, login_as, app):
    login_as(make_user(Role.HOUSEKEEPER, buildings=[make_building()], locale="en"))
    html = client.get("/today").get_data(as_text=True)
    assert "No promise falls due today." in html and "No waiver was decided" in html


def test_supervisors_see_waiting_waivers_and_households_with_two_broken_promises(
        client, login_as, app):
    b = make_building()
    hk = make_user(Role.HOUSEKEEPER, buildings=[b])
    unit = make_unit(b)
    make_bill(unit, 100_000, TODAY - timedelta(days=120))
    promised(unit, hk, -40, made_ago=60)
    promised(unit, hk, -10, made_ago=30)
    db.session.add(Waiver(unit_id=unit.id, amount_fen=500, reason="困难", requested_by=hk.id))
    db.session.commit()
    login_as(make_user(Role.SUPERVISOR, locale="en"))
    html = client.get("/today").get_data(as_text=True)
    assert "1 waiver is waiting for you" in html
    assert f'data-unit-id="{unit.id}"' in section(html, "flagged")
    assert "2 promises broken in a row" in section(html, "flagged")


def test_each_item_calls_the_owner_or_finance_contact_never_a_tenant(client, login_as, app):
    building = make_building()
    hk = make_user(Role.HOUSEKEEPER, buildings=[building], locale="en")
    rented, office, tenant_only = (make_unit(building, owner=None, number=n)
                                   for n in ("201", "202", "203"))
    for unit, kind, name, phone in (
            (rented, ContactKind.TENANT, "Tenant Tan", "13900000001"),  # the first contact
            (rented, ContactKind.OWNER, "Owner Ou", "13900000002"),
            (office, ContactKind.FINANCE, "Finance Fu", "13900000003"),
            (tenant_only, ContactKind.TENANT, "Tenant Ting", "13900000004")):
        db.session.add(Contact(unit_id=unit.id, kind=kind, name=name, surname=name[0],
                               phone=phone))
    db.session.commit()
    for unit in (rented, office, tenant_only):
        make_bill(unit, 100_000, TODAY - timedelta(days=90))
        promised(unit, hk, due_in=0)
    html = login_as(hk).get("/today").get_data(as_text=True)
    assert "Owner Ou" in html and "tel:13900000002" in html
    assert "Finance Fu" in html and "tel:13900000003" in html
    assert "Tenant" not in html and "tel:13900000001" not in html
    assert "tel:13900000004" not in html
