"""Who sees what (DESIGN.md §4): a housekeeper sees only the buildings of their patch, an
empty patch shows nothing, a patch may span communities; phone numbers are masked in
lists and wherever the viewer may not call them; engineers never see them."""
from __future__ import annotations

import io
import re
import uuid
from datetime import timedelta

import pytest
from flask import g
from sqlalchemy import event, func, select

from fieldapp.access import (
    can_see_phone_numbers,
    get_unit_or_404,
    patch_building_ids,
    restrict_units,
)
from fieldapp.extensions import db
from fieldapp.models import Complaint, Role, Unit, Visit, WorkOrder
from fieldapp.route.services import RouteFilters, route_page

from .factories import (
    TODAY,
    make_bill,
    make_building,
    make_community,
    make_unit,
    make_user,
)
from .photos import make_jpeg

JSON = {"Accept": "application/json"}
ROW_ID = re.compile(r'data-unit-id="(\d+)" data-band="(\w*)"')
PHONE = "13987654321"
MASKED = "139****4321"


def listed(response) -> dict[int, str]:
    """Unit id -> band key of every row on a route list page."""
    return {int(u): band for u, band in ROW_ID.findall(response.get_data(as_text=True))}


def overdue_unit(building, days=40, amount=10_000, **kw) -> Unit:
    unit = make_unit(building, **kw)
    make_bill(unit, amount, TODAY - timedelta(days=days))
    return unit


@pytest.fixture
def two_patches(app):
    """Two housekeepers with a building each; every unit is overdue."""
    mine, theirs = make_building(), make_building()
    hk = make_user(Role.HOUSEKEEPER, buildings=[mine])
    return hk, overdue_unit(mine, phone=PHONE), overdue_unit(theirs)


def test_a_housekeeper_with_no_buildings_sees_no_unit(client, login_as, two_patches):
    """An empty patch is an empty list and 404s, never "every unit"."""
    _, unit, other = two_patches
    idle = make_user(Role.HOUSEKEEPER)
    assert patch_building_ids(idle) == []
    assert db.session.scalars(restrict_units(select(Unit), idle)).all() == []
    login_as(idle)
    assert listed(client.get("/route")) == {}
    for target in (unit, other):
        assert client.get(f"/units/{target.id}").status_code == 404
        assert client.get(f"/units/{target.id}/visits/new").status_code == 404


def test_a_housekeeper_sees_exactly_the_units_of_the_patch(app, two_patches):
    """The query-level filter keeps the patch's units and only those."""
    hk, unit, other = two_patches
    assert db.session.scalars(restrict_units(select(Unit.id), hk)).all() == [unit.id]
    assert get_unit_or_404(unit.id, hk).id == unit.id


def test_the_patch_read_once_per_request_is_each_users_own(app, two_patches):
    """The patch is remembered for the request, and only for the user it was read for:
    asked next for another housekeeper, the answer is theirs."""
    hk, unit, other = two_patches
    neighbour = make_user(Role.HOUSEKEEPER, buildings=[other.building])
    idle = make_user(Role.HOUSEKEEPER)
    with app.test_request_context("/route"):
        assert patch_building_ids(hk) == [unit.building_id]
        assert patch_building_ids(neighbour) == [other.building_id]
        assert patch_building_ids(idle) == []
        assert patch_building_ids(hk) == [unit.building_id]
    statements = []
    listen = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        with app.test_request_context("/route"):
            g.pop("patch_of", None)  # the test's app context outlives the request above
            answers = [patch_building_ids(hk) for _ in range(3)]
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    assert answers == [[unit.building_id]] * 3 and len(statements) == 1, statements


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.ADMIN])
def test_supervisors_and_admins_see_every_unit(app, two_patches, role):
    """Supervision sees every patch: no building filter at all."""
    _, unit, other = two_patches
    boss = make_user(role)
    assert patch_building_ids(boss) is None
    assert set(db.session.scalars(restrict_units(select(Unit.id), boss))) == {unit.id, other.id}


def test_engineers_see_no_unit_even_when_assigned_buildings(app, two_patches):
    """An engineer's assignments never open unit cards: work orders carry the location."""
    _, unit, _ = two_patches
    engineer = make_user(Role.ENGINEER, buildings=[unit.building])
    assert patch_building_ids(engineer) == []
    assert db.session.scalars(restrict_units(select(Unit), engineer)).all() == []


def test_phone_numbers_only_for_who_may_call(app, two_patches):
    """Full numbers for the unit's housekeeper and supervision; not for a housekeeper of
    another patch, nor for engineering."""
    hk, unit, other = two_patches
    assert can_see_phone_numbers(hk, unit)
    assert not can_see_phone_numbers(hk, other)
    assert can_see_phone_numbers(make_user(Role.SUPERVISOR), other)
    assert not can_see_phone_numbers(make_user(Role.ENGINEER, buildings=[unit.building]), unit)


@pytest.mark.parametrize("role", [Role.HOUSEKEEPER, Role.SUPERVISOR])
def test_route_lists_mask_phones_for_everyone(client, login_as, two_patches, role):
    """A list is seen over shoulders: the number is masked there, whoever looks."""
    hk, unit, _ = two_patches
    login_as(hk if role == Role.HOUSEKEEPER else make_user(role))
    html = client.get("/route").get_data(as_text=True)
    row = html.split(f'id="unit-{unit.id}"')[1].split("</li>")[0]
    assert MASKED in row and PHONE not in html


def test_the_card_masks_numbers_the_viewer_may_not_call(app, two_patches):
    """If a card is ever rendered for someone who may not call, numbers are masked."""
    from flask_login import login_user

    from fieldapp.auth.services import start_login_session
    from fieldapp.units.routes import render_card
    hk, _, other = two_patches
    with app.test_request_context(f"/units/{other.id}"):
        start_login_session(hk, user_agent="test")
        login_user(hk)
        html, status = render_card(other)
    assert status == 200 and "****" in html and 'href="tel:' not in html


def test_engineers_never_see_owners_numbers(client, login_as, two_patches):
    """Neither the work order list nor the order page shows a number, masked or not."""
    hk, unit, _ = two_patches
    login_as(hk)
    r = client.post(f"/units/{unit.id}/complaints", headers=JSON,
                    content_type="multipart/form-data",
                    data={"client_uuid": str(uuid.uuid4()), "category": "lift",
                          "description": "电梯停了",
                          "photos": [(io.BytesIO(make_jpeg()), "lift.jpg")]})
    order_id = r.json["work_order_id"]
    client.post("/logout")
    login_as(make_user(Role.ENGINEER))
    for page in (client.get("/workorders"), client.get(f"/workorders/{order_id}")):
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and unit.number in html
        assert PHONE not in html and MASKED not in html and "tel:" not in html


def test_complaints_and_satisfaction_outside_the_patch_are_404(client, login_as, two_patches):
    """Filing a complaint or recording satisfaction checks the patch like every unit
    route: another patch's unit is a 404 and nothing is written."""
    hk, _, other = two_patches
    login_as(hk)
    assert client.get(f"/units/{other.id}/complaints/new").status_code == 404
    r = client.post(f"/units/{other.id}/complaints", headers=JSON,
                    data={"client_uuid": str(uuid.uuid4()), "category": "leak",
                          "description": "漏水"})
    assert r.status_code == 404
    for satisfied in ("yes", "no"):
        r = client.post(f"/units/{other.id}/satisfaction", headers=JSON,
                        data={"satisfied": satisfied, "note": "还在漏"})
        assert r.status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Complaint)) == 0
    assert db.session.scalar(select(func.count()).select_from(WorkOrder)) == 0
    assert db.session.scalar(select(func.count()).select_from(Visit)) == 0


CUSTOM_BANDS = [{"key": "d1", "min_days": 1, "stage": "reminder"},
                {"key": "d31", "min_days": 31, "stage": "visit"},
                {"key": "d91", "min_days": 91, "stage": "demand"},
                {"key": "d181", "min_days": 181, "stage": "legal"}]


@pytest.fixture
def two_communities(app):
    """A housekeeper whose patch spans a residential estate (default bands) and an
    office park with its own bands and late-fee rule."""
    estate = make_building(make_community())
    park_community = make_community(bands=CUSTOM_BANDS)
    park_community.policy.late_fee_grace_days = 0
    park_community.policy.late_fee_daily_ppm = 1_000
    db.session.commit()
    park = make_building(park_community)
    hk = make_user(Role.HOUSEKEEPER, buildings=[estate, park])
    return hk, estate, park


def test_a_patch_across_communities_lists_both_each_by_its_own_bands(client, login_as,
                                                                      two_communities):
    """45 days overdue is "visit" in the estate and "d31" in the park; 100 days is
    "demand" and "d91"; nothing of a third community shows."""
    hk, estate, park = two_communities
    units = {(where, days): overdue_unit(b, days=days).id
             for where, b in (("estate", estate), ("park", park)) for days in (45, 100)}
    overdue_unit(make_building(make_community()), days=45)
    login_as(hk)
    assert listed(client.get("/route")) == {
        units["estate", 45]: "visit", units["park", 45]: "d31",
        units["estate", 100]: "demand", units["park", 100]: "d91"}


def test_band_chips_of_a_mixed_patch_count_each_community_in_its_bands(client, login_as,
                                                                        two_communities):
    """One chip per stage: 45 days is "visit" in the estate and "d31" (a visit-stage band)
    in the park, so all three units count once, under the visit stage, with their sum."""
    hk, estate, park = two_communities
    overdue_unit(estate, days=45, amount=1_000)
    overdue_unit(park, days=45, amount=2_000)
    overdue_unit(park, days=50, amount=3_000)
    login_as(hk)
    html = client.get("/route").get_data(as_text=True)
    chips = re.findall(r'data-band="(\w+)"\s+href="[^"]*".*?class="chip-count">\D*(\d+)'
                       r'.*?class="chip-amount">¥([\d,.]+)<', html, re.S)
    assert chips == [("legal", "0", "0.00"), ("demand", "0", "0.00"), ("visit", "3", "60.00"),
                     ("contact", "0", "0.00"), ("reminder", "0", "0.00")]


def test_late_fees_of_a_mixed_patch_follow_each_communitys_rule(two_communities):
    """The same bill costs 15 days' grace at 0.03 %/day in the estate and no grace at
    0.1 %/day in the park."""
    hk, estate, park = two_communities
    in_estate = overdue_unit(estate, days=45, amount=100_000)
    in_park = overdue_unit(park, days=45, amount=100_000)
    page = route_page(db.session, RouteFilters(building_ids=patch_building_ids(hk)), TODAY, 1,
                      30)
    fees = {row.unit_id: row.late_fee_fen for row in page.rows}
    assert fees == {in_estate.id: 900, in_park.id: 4_500}  # 1000 x 0.03% x 30; x 0.1% x 45


def test_work_orders_by_role(app, two_patches):
    """Engineers see their own and unassigned orders; supervision sees all; anyone else
    none, even through the query helpers; a hidden order is a 404."""
    from werkzeug.exceptions import NotFound

    from fieldapp.workorders.access import get_work_order_or_404, restrict_work_orders
    hk, unit, _ = two_patches
    me, colleague = make_user(Role.ENGINEER), make_user(Role.ENGINEER)
    orders = {}
    for name, engineer in (("mine", me), ("theirs", colleague), ("nobody's", None)):
        complaint = Complaint(client_uuid=str(uuid.uuid4()), unit_id=unit.id, category="leak",
                              description=name, created_by=hk.id)
        orders[name] = WorkOrder(complaint=complaint, unit_id=unit.id, category="leak",
                                 engineer_id=engineer.id if engineer else None)
        db.session.add_all([complaint, orders[name]])
    db.session.commit()

    def visible(user):
        return {o.complaint.description for o in
                db.session.scalars(restrict_work_orders(select(WorkOrder), user))}

    assert visible(me) == {"mine", "nobody's"}
    assert visible(make_user(Role.SUPERVISOR)) == visible(make_user(Role.ADMIN)) == set(orders)
    assert visible(hk) == set()
    assert get_work_order_or_404(orders["mine"].id, me).id == orders["mine"].id
    with pytest.raises(NotFound):
        get_work_order_or_404(orders["theirs"].id, me)
