"""README's "A new company, from empty", step by step: one command, then only web pages
(the import files' place is taken by factories: the import is its own work). The pages
and commands the README names exist."""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from werkzeug.exceptions import MethodNotAllowed, NotFound

from fieldapp.extensions import db
from fieldapp.models import Building, Community, User

from .factories import TODAY, make_bill, make_unit
from .test_buildings_geocode import Geocoder

README = Path(__file__).resolve().parent.parent / "README.md"
PASSWORD = "a long admin password"
# Built by the import work (issue 13's other half); checked once it exists.
IMPORT_WORK = {"/imports": "imports.index", "import": "import"}


def walkthrough() -> str:
    text = README.read_text()
    start = text.index("## A new company, from empty")
    return text[start:text.index("\n## ", start + 3)]


def test_the_readme_names_only_pages_and_commands_that_exist(app):
    """Every page and command the walkthrough names exists."""
    section = walkthrough()
    spans = re.findall(r"`([^`]+)`", section)
    paths = {s.split("?")[0] for s in spans if s.startswith("/")}
    commands = {s.split()[3] for s in spans if s.startswith("flask --app wsgi ")}
    assert {"/login", "/admin", "/admin/users/new", "/admin/coverage"} <= paths
    assert {"create-user", "geocode-buildings", "refresh-arrears", "db"} <= commands
    urls = app.url_map.bind("localhost")
    for path in paths:
        if path in IMPORT_WORK and IMPORT_WORK[path] not in app.view_functions:
            continue
        try:
            urls.match(path.replace("<id>", "1"), method="GET")
        except (NotFound, MethodNotAllowed):
            raise AssertionError(f"README names {path}, which no page answers") from None
    for command in commands:
        if command in IMPORT_WORK and IMPORT_WORK[command] not in app.cli.commands:
            continue
        assert command in app.cli.commands, command


def test_a_new_company_is_set_up_from_empty(app, runner, client):
    """From an empty database to a housekeeper's route list through the set-up pages."""
    # 1. The first administrator, on the command line; then the web.
    result = runner.invoke(args=["create-user", "admin", "--role", "admin"],
                           input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert client.post("/login", data={"username": "admin",
                                       "password": PASSWORD}).status_code == 303
    client.post("/account", data={"locale": "en"})
    hub = client.get("/admin").get_data(as_text=True)
    assert "Nothing is set up yet." in hub and 'href="/admin"' in hub  # the bottom bar

    # 2. A community and its policy: bands 30/90/180, a late fee from the 10th day.
    r = client.post("/admin/communities", data={"name": "翠湖花园", "kind": "residential",
                                                "timezone": "Asia/Shanghai"})
    assert r.status_code == 303
    community = db.session.scalar(select(Community))
    r = client.post(f"/admin/communities/{community.id}/policy", data={
        "band-1-days": "30", "band-1-stage": "contact", "band-2-days": "90",
        "band-2-stage": "demand", "band-3-days": "180", "band-3-stage": "legal",
        "late_fee_grace_days": "10", "daily_rate": "0.05", "gps_threshold_m": "200",
        "promise_horizon_days": "30", "promise_grace_days": "3", "max_installments": "6",
        "broken_promise_steps": "1", "note": "物业服务合同第十二条"})
    assert r.status_code == 303

    # 3. Buildings: one with coordinates from a map, one found from its address.
    for name, address, coordinates in (("1栋", "上海市翠湖路1号", "31.2304, 121.4737"),
                                       ("2栋", "上海市翠湖路2号", "")):
        r = client.post("/admin/buildings", data={"community": str(community.id), "name": name,
                                                  "address": address, "floors": "18",
                                                  "lat": coordinates})
        assert r.status_code == 303
    one, two = db.session.scalars(select(Building).order_by(Building.id)).all()
    app.config["GEOCODER"] = Geocoder({"上海市翠湖路2号": (31.2311, 121.4751)})
    assert runner.invoke(args=["geocode-buildings"]).exit_code == 0
    db.session.expire_all()
    assert (one.lat, one.coordinates_source) == (31.2304, "manual")
    assert (two.lat, two.coordinates_source) == (31.2311, "geocoded")

    # 4. Units and bills arrive with the import; here, as the import would leave them.
    late = make_unit(one, number="1502")
    make_bill(late, 120_000, TODAY - timedelta(days=100))
    make_bill(make_unit(two, number="0801"), 80_000, TODAY - timedelta(days=40))

    # 5. Users, each with a temporary password.
    for username, name in (("wangfang", "王芳"), ("lijun", "李军")):
        r = client.post("/admin/users", data={"username": username, "display_name": name,
                                              "role": "housekeeper", "locale": "zh_CN",
                                              "password": "k7qm-x3fp-9wtr"})
        assert r.status_code == 303
    wang, li = (db.session.scalar(select(User).where(User.username == u))
                for u in ("wangfang", "lijun"))
    coverage = client.get("/admin/coverage").get_data(as_text=True)
    assert f'data-building-id="{one.id}"' in coverage and f'data-building-id="{two.id}"' in coverage

    # 6. Patches: ticked on the housekeeper's page, or assigned from the coverage page.
    assert client.post(f"/admin/users/{wang.id}/buildings",
                       data={"building": str(one.id)}).status_code == 303
    assert client.post(f"/admin/buildings/{two.id}/housekeeper",
                       data={"housekeeper": str(li.id)}).status_code == 303
    assert "Every building has a housekeeper." in client.get("/admin/coverage").get_data(
        as_text=True)

    # The housekeeper's first sign-in: their own password, then their route list, in
    # the bands the policy set (100 days overdue: a demand letter).
    phone = app.test_client()
    assert phone.post("/login", data={"username": "wangfang",
                                      "password": "k7qm-x3fp-9wtr"}).status_code == 303
    assert phone.get("/route").headers["Location"].endswith("/account#password")
    assert phone.post("/account/password", data={
        "current_password": "k7qm-x3fp-9wtr", "new_password": "王芳自己的密码123",
        "confirm_password": "王芳自己的密码123"}).status_code == 303
    route = phone.get("/route").get_data(as_text=True)
    assert f'data-unit-id="{late.id}"' in route and 'data-band="demand"' in route
    assert "1502" in route and "0801" not in route

    # 7. Someone leaves: the patch is handed over, then the account deactivated.
    assert client.post(f"/admin/users/{wang.id}/handover",
                       data={"successor": str(li.id)}).status_code == 303
    assert client.post(f"/admin/users/{wang.id}/active", data={"active": "0"}).status_code == 303
    assert "Every building has a housekeeper." in client.get("/admin/coverage").get_data(
        as_text=True)

    # 8. The nightly job.
    assert runner.invoke(args=["refresh-arrears"]).exit_code == 0
