"""Users without a developer: create, change, deactivate, reset passwords; patches set
by ticking buildings, handed over when someone leaves; who covers what."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from fieldapp.extensions import db
from fieldapp.models import (
    Assignment,
    AuditEvent,
    LoginSession,
    Outcome,
    Promise,
    Role,
    User,
    Visit,
)

from .factories import PASSWORD, TODAY, make_bill, make_building, make_unit, make_user
from .test_today import promised, section

JSON = {"Accept": "application/json"}
NEW = {"username": "WangFang", "display_name": "王芳", "role": "housekeeper",
       "locale": "zh_CN", "password": "k7qm-x3fp-9wtr"}


def signed_in(app, user, password=PASSWORD):
    browser = app.test_client()
    r = browser.post("/login", data={"username": user.username, "password": password})
    assert r.status_code == 303, r.get_data(as_text=True)[:300]
    return browser


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_a_new_user_signs_in_with_the_temporary_password_and_must_choose_their_own(app):
    """A new user's temporary password opens only the account page until they choose their own."""
    admin = signed_in(app, make_user(Role.ADMIN, locale="en"))
    r = admin.post("/admin/users", data=NEW)
    assert r.status_code == 303
    user = db.session.scalar(select(User).where(User.username == "wangfang"))
    assert r.headers["Location"].endswith(f"/admin/users/{user.id}")
    assert user.role == Role.HOUSEKEEPER and user.must_change_password and user.active
    [created] = events("user.create")
    assert created.entity_id == user.id and created.detail == {"role": "housekeeper"}

    newcomer = signed_in(app, user, NEW["password"])
    r = newcomer.get("/route")
    assert r.status_code == 303 and r.headers["Location"].endswith("/account#password")
    assert newcomer.get("/today", headers=JSON).json["error"] == "password_change_required"
    assert "管理员" in newcomer.get("/account").get_data(as_text=True)
    r = newcomer.post("/account/password", data={
        "current_password": NEW["password"], "new_password": "my own long password",
        "confirm_password": "my own long password"})
    assert r.status_code == 303
    db.session.refresh(user)
    assert not user.must_change_password
    assert newcomer.get("/route").status_code == 200


def test_a_refused_new_user_keeps_what_was_typed_with_a_message_at_each_field(app):
    """Bad input comes back as typed, each message tied to its field; nothing is stored."""
    admin = signed_in(app, make_user(Role.ADMIN, locale="en"))
    r = admin.post("/admin/users", data={"username": "王 芳", "display_name": "王芳",
                                         "role": "boss", "password": "short"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert 'value="王 芳"' in html and 'value="王芳"' in html and 'value="short"' in html
    for field in ("username", "password"):
        assert re.search(rf'id="f-{field}"[^>]*aria-describedby="err-{field}[^"]*"'
                         rf'[^>]*aria-invalid="true"', html), field
    assert 'id="err-role"' in html and "Choose a role." in html
    assert db.session.scalar(select(User).where(User.display_name == "王芳")) is None


def test_a_taken_username_is_refused(app):
    """Two users cannot share a username."""
    make_user(username="wangfang")
    admin = signed_in(app, make_user(Role.ADMIN, locale="en"))
    r = admin.post("/admin/users", data=NEW, headers=JSON)
    assert r.status_code == 422 and r.json["errors"] == {"username": "This username is taken."}


def test_deactivating_signs_out_everywhere_and_keeps_the_history(app):
    """A deactivated user is out at once and cannot sign in; visits and patch stay."""
    building = make_building()
    hk = make_user(Role.HOUSEKEEPER, buildings=[building])
    unit = make_unit(building)
    phone = signed_in(app, hk)
    db.session.add(Visit(unit_id=unit.id, user_id=hk.id, payload_sha256="0" * 64,
                         client_uuid="6c1e7a9e-0000-4000-8000-000000000001",
                         outcome=Outcome.NOBODY_HOME))
    db.session.commit()
    admin = signed_in(app, make_user(Role.ADMIN, locale="en"))
    r = admin.post(f"/admin/users/{hk.id}/active", data={"active": "0"})
    assert r.status_code == 303
    db.session.expire_all()
    assert not db.session.get(User, hk.id).active
    assert phone.get("/route", headers=JSON).status_code == 401
    assert db.session.scalar(select(LoginSession.id).where(
        LoginSession.user_id == hk.id, LoginSession.revoked_at.is_(None))) is None
    assert db.session.scalar(select(Visit.id).where(Visit.user_id == hk.id)) is not None
    assert db.session.scalar(select(Assignment.id).where(Assignment.user_id == hk.id))
    assert app.test_client().post("/login", data={"username": hk.username,
                                                  "password": PASSWORD}).status_code == 401
    assert events("user.deactivate")[0].detail == {"buildings": 1}
    assert admin.post(f"/admin/users/{hk.id}/active", data={"active": "1"}).status_code == 303
    assert signed_in(app, hk)


def test_an_admin_keeps_their_own_role_and_account(app):
    """An administrator cannot lock themself out."""
    me = make_user(Role.ADMIN, locale="en")
    admin = signed_in(app, me)
    r = admin.post(f"/admin/users/{me.id}/active", data={"active": "0"}, headers=JSON)
    assert r.status_code == 422 and "yourself" in r.json["errors"]["active"]
    r = admin.post(f"/admin/users/{me.id}", data={"display_name": "Me", "role": "engineer"})
    assert r.status_code == 422 and "your own role" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, me.id).role == Role.ADMIN


def test_a_housekeeper_hands_over_their_buildings_before_changing_role(app):
    """No building loses its housekeeper by a role change."""
    hk = make_user(Role.HOUSEKEEPER, buildings=[make_building()])
    admin = signed_in(app, make_user(Role.ADMIN, locale="en"))
    r = admin.post(f"/admin/users/{hk.id}", data={"display_name": "Li", "role": "supervisor"})
    assert r.status_code == 422 and "Hand over their buildings first" in r.get_data(as_text=True)
    free = make_user(Role.HOUSEKEEPER)
    assert admin.post(f"/admin/users/{free.id}", data={"display_name": "Zhao",
                                                       "role": "supervisor"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(User, free.id).role == Role.SUPERVISOR
    assert events("user.update")[0].detail["role"] == ["housekeeper", "supervisor"]


def test_a_reset_password_signs_out_everywhere_and_must_be_replaced(app):
    """A reset ends every session and the temporary password must be replaced."""
    hk = make_user(Role.HOUSEKEEPER, buildings=[make_building()])
    phone = signed_in(app, hk)
    admin = signed_in(app, make_user(Role.ADMIN, locale="en"))
    assert admin.post(f"/admin/users/{hk.id}/password",
                      data={"password": "short"}).status_code == 422
    r = admin.post(f"/admin/users/{hk.id}/password", data={"password": "temporary-pass-9"})
    assert r.status_code == 303
    assert phone.get("/route", headers=JSON).status_code == 401
    again = signed_in(app, hk, "temporary-pass-9")
    assert again.get("/route").headers["Location"].endswith("/account#password")
    [reset] = events("user.password_reset")
    assert reset.entity_id == hk.id and reset.detail == {"revoked": 1}


def test_ticking_buildings_sets_the_patch_and_the_route_list_follows(app):
    """The patch becomes the buildings ticked; the route list shows their units."""
    a, b, c = make_building(), make_building(), make_building()
    hk = make_user(Role.HOUSEKEEPER, buildings=[a, b])
    unit = make_unit(c)
    make_bill(unit, 50_000, TODAY - timedelta(days=40))
    supervisor = signed_in(app, make_user(Role.SUPERVISOR, locale="en"))
    r = supervisor.post(f"/admin/users/{hk.id}/buildings",
                        data={"building": [str(b.id), str(c.id)]})
    assert r.status_code == 303
    assert sorted(hk.building_ids()) == [b.id, c.id]
    [change] = events("user.patch")
    assert change.detail == {"added": [c.id], "removed": [a.id]}
    assert f'data-unit-id="{unit.id}"' in signed_in(app, hk).get("/route").get_data(as_text=True)


def test_a_patch_is_only_for_housekeepers_and_only_of_real_buildings(app):
    """Patches belong to housekeepers and name buildings that exist."""
    b = make_building()
    engineer, hk = make_user(Role.ENGINEER), make_user(Role.HOUSEKEEPER)
    admin = signed_in(app, make_user(Role.ADMIN, locale="en"))
    r = admin.post(f"/admin/users/{engineer.id}/buildings", data={"building": str(b.id)},
                   headers=JSON)
    assert r.status_code == 422 and "Only housekeepers" in r.json["errors"]["buildings"]
    assert admin.post(f"/admin/users/{hk.id}/buildings",
                      data={"building": "999999"}).status_code == 404
    assert admin.post(f"/admin/users/{hk.id}/buildings",
                      data={"building": "1; DROP"}).status_code == 404
    assert db.session.scalar(select(Assignment.id)) is None


def test_a_deactivated_housekeeper_gets_no_new_building_but_loses_theirs(app):
    """A deactivated housekeeper's patch can shrink, never grow."""
    kept, offered = make_building(), make_building()
    hk = make_user(Role.HOUSEKEEPER, active=False, buildings=[kept])
    admin = signed_in(app, make_user(Role.ADMIN, locale="en"))
    r = admin.post(f"/admin/users/{hk.id}/buildings",
                   data={"building": [str(kept.id), str(offered.id)]}, headers=JSON)
    assert r.status_code == 422 and "deactivated" in r.json["errors"]["buildings"]
    assert admin.post(f"/admin/users/{hk.id}/buildings", data={}).status_code == 303
    assert db.session.scalar(select(Assignment.id)) is None


def test_a_supervisor_manages_patches_of_housekeepers_only(app):
    """Supervisors see housekeepers only and create no users."""
    engineer = make_user(Role.ENGINEER)
    supervisor = signed_in(app, make_user(Role.SUPERVISOR, locale="en"))
    make_user(Role.HOUSEKEEPER, display_name="Hu Mei")
    html = supervisor.get("/admin/users?role=engineer&status=all").get_data(as_text=True)
    assert "Hu Mei" in html and engineer.display_name not in html
    assert supervisor.get(f"/admin/users/{engineer.id}").status_code == 404
    assert supervisor.post("/admin/users", data=NEW).status_code == 403


def test_a_handover_moves_the_patch_and_the_successors_today_list_shows_its_promises(app):
    """A handover moves every building; the successor's lists show the promises."""
    shared, own = make_building(), make_building()
    leaver = make_user(Role.HOUSEKEEPER, buildings=[shared, own])
    successor = make_user(Role.HOUSEKEEPER, buildings=[shared], locale="en")
    unit = make_unit(own)
    make_bill(unit, 100_000, TODAY - timedelta(days=60))
    promised(unit, leaver, 0)
    supervisor = signed_in(app, make_user(Role.SUPERVISOR, locale="en"))
    r = supervisor.post(f"/admin/users/{leaver.id}/handover",
                        data={"successor": str(successor.id)})
    assert r.status_code == 303
    db.session.expire_all()
    assert leaver.building_ids() == []
    assert sorted(successor.building_ids()) == sorted([shared.id, own.id])
    [handover] = events("user.handover")
    assert handover.detail == {"to": successor.id, "buildings": sorted([shared.id, own.id])}
    phone = signed_in(app, successor)
    today_page = phone.get("/today").get_data(as_text=True)
    assert f'data-unit-id="{unit.id}"' in section(today_page, "due")
    assert f'data-unit-id="{unit.id}"' in phone.get("/route").get_data(as_text=True)
    assert db.session.scalar(select(Promise.created_by).where(Promise.unit_id == unit.id)) \
        == leaver.id  # the record still says who agreed it
    assert f'data-unit-id="{unit.id}"' not in signed_in(app, leaver).get("/today").get_data(
        as_text=True)


def test_a_handover_needs_another_active_housekeeper(app):
    """A patch goes only to another active housekeeper, said next to the field."""
    leaver = make_user(Role.HOUSEKEEPER, buildings=[make_building()])
    gone = make_user(Role.HOUSEKEEPER, active=False)
    admin = signed_in(app, make_user(Role.ADMIN, locale="en"))
    for successor, message in ((leaver, "another housekeeper"), (gone, "deactivated"),
                               (make_user(Role.ENGINEER), "Only housekeepers")):
        r = admin.post(f"/admin/users/{leaver.id}/handover",
                       data={"successor": str(successor.id)}, headers=JSON)
        assert r.status_code == 422 and message in r.json["errors"]["successor"], successor
    r = admin.post(f"/admin/users/{leaver.id}/handover", data={})
    assert r.status_code == 422 and 'id="err-successor"' in r.get_data(as_text=True)
    assert leaver.building_ids() != []


def test_coverage_shows_who_covers_what_and_what_nobody_covers(app):
    """Buildings of no one or of a deactivated user are listed as covered by nobody."""
    covered, orphaned, empty = (make_building(name=n) for n in ("1栋", "2栋", "3栋"))
    make_user(Role.HOUSEKEEPER, buildings=[covered], display_name="Chen Jing")
    make_user(Role.HOUSEKEEPER, buildings=[orphaned], display_name="Old Zhou", active=False)
    late, paid = make_unit(orphaned), make_unit(orphaned)
    make_bill(late, 30_000, TODAY - timedelta(days=20))
    make_bill(paid, 30_000, TODAY + timedelta(days=5))
    supervisor = signed_in(app, make_user(Role.SUPERVISOR, locale="en"))
    html = supervisor.get("/admin/coverage").get_data(as_text=True)
    start = html.index('id="uncovered"')
    nobody = html[start:html.index("</section>", start)]
    assert f'data-building-id="{orphaned.id}"' in nobody
    assert f'data-building-id="{empty.id}"' in nobody
    assert f'data-building-id="{covered.id}"' not in nobody
    assert "1 overdue unit" in nobody and "Old Zhou, who is deactivated" in nobody
    assert "Chen Jing" in html


def test_a_building_nobody_covers_is_assigned_from_the_coverage_page(app):
    """The coverage page assigns an uncovered building to a housekeeper."""
    building = make_building()
    hk = make_user(Role.HOUSEKEEPER)
    supervisor = signed_in(app, make_user(Role.SUPERVISOR, locale="en"))
    r = supervisor.post(f"/admin/buildings/{building.id}/housekeeper", data={})
    assert r.status_code == 422 and f'id="err-assign-{building.id}"' in r.get_data(as_text=True)
    r = supervisor.post(f"/admin/buildings/{building.id}/housekeeper",
                        data={"housekeeper": str(hk.id)})
    assert r.status_code == 303 and r.headers["Location"].endswith("/admin/coverage")
    assert hk.building_ids() == [building.id]
    html = supervisor.get("/admin/coverage").get_data(as_text=True)
    assert "Every building has a housekeeper." in html


def test_the_user_list_filters_and_answers_htmx_with_its_rows(app):
    """The list filters by name and status; htmx gets the rows alone."""
    make_user(Role.HOUSEKEEPER, display_name="Zhang Wei")
    make_user(Role.ENGINEER, display_name="Zhang Li", active=False)
    admin = signed_in(app, make_user(Role.ADMIN, locale="en"))
    page = admin.get("/admin/users?q=zhang").get_data(as_text=True)
    assert "Zhang Wei" in page and "Zhang Li" not in page and "<html" in page
    rows = admin.get("/admin/users?q=zhang&status=inactive",
                     headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Zhang Li" in rows and "Zhang Wei" not in rows and "<html" not in rows
    assert "No user matches." in admin.get("/admin/users?q=%25_").get_data(as_text=True)


def test_the_hub_shows_supervisors_their_part_and_admins_everything(app):
    """Supervisors see patches and coverage; admins also communities and new users."""
    make_building()
    make_user(Role.HOUSEKEEPER)
    html = signed_in(app, make_user(Role.SUPERVISOR, locale="en")).get("/admin").get_data(
        as_text=True)
    assert "1 active housekeeper" in html and "1 covered by nobody" in html
    assert "/admin/communities" not in html and "/admin/users/new" not in html
    html = signed_in(app, make_user(Role.ADMIN, locale="en")).get("/admin").get_data(
        as_text=True)
    assert "/admin/communities" in html and "/admin/users/new" in html


def test_the_hub_leads_to_import_for_both_and_to_the_audit_trail_for_admins(app):
    """Import and audit (and the admin's notices) are on the hub: six items fit a bar."""
    def hub(role):
        html = signed_in(app, make_user(role, locale="en")).get("/admin").get_data(
            as_text=True)
        return html.split('<ul class="admin-hub">')[1].split("</ul>")[0]

    admin = hub(Role.ADMIN)
    assert 'href="/imports"' in admin and 'href="/audit"' in admin
    supervisor = hub(Role.SUPERVISOR)  # their bottom bar has the notices
    assert 'href="/imports"' in supervisor and 'href="/audit"' in supervisor
    assert 'href="/notices"' in admin and 'href="/notices"' not in supervisor


def test_the_admins_bottom_bar_leads_to_set_up_and_a_supervisor_finds_it_on_me(app):
    """Admins reach set-up from the bottom bar, supervisors from Me."""
    admin = signed_in(app, make_user(Role.ADMIN, locale="en"))
    assert 'class="nav-admin"' in admin.get("/account").get_data(as_text=True)
    supervisor = signed_in(app, make_user(Role.SUPERVISOR, locale="en"))
    me = supervisor.get("/account").get_data(as_text=True)
    assert 'class="nav-admin"' not in me and 'href="/admin"' in me
