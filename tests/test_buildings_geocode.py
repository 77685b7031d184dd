"""Buildings set up by hand (name, address, floors, coordinates) and coordinates found
from addresses by `geocode-buildings`, with a geocoder double: never over coordinates
set by hand, each address asked once, failures listed."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from fieldapp.extensions import db
from fieldapp.geo import geocode_buildings, make_geocoder
from fieldapp.models import AuditEvent, Building, Role

from .factories import PASSWORD, make_building, make_community, make_user


@dataclass
class Place:
    latitude: float
    longitude: float


class Geocoder:
    """Answers from a table; records what it was asked; raises for 'timeout'."""

    def __init__(self, answers):
        self.answers, self.asked = answers, []

    def __call__(self, address):
        self.asked.append(address)
        if address == "超时路1号":
            raise TimeoutError("the service did not answer")
        found = self.answers.get(address)
        return Place(*found) if found else None


def admin_client(app):
    browser = app.test_client()
    admin = make_user(Role.ADMIN, locale="en")
    assert browser.post("/login", data={"username": admin.username,
                                        "password": PASSWORD}).status_code == 303
    return browser


def test_an_admin_adds_a_building_with_coordinates_pasted_from_a_map(app):
    """Coordinates pasted from a map fill both fields and count as set by hand."""
    community = make_community()
    browser = admin_client(app)
    r = browser.post("/admin/buildings", data={
        "community": str(community.id), "name": "5栋", "address": "上海市翠湖路5号",
        "floors": "24", "lat": "31.2304, 121.4737"})
    assert r.status_code == 303
    building = db.session.scalar(select(Building).where(Building.name == "5栋"))
    assert (building.lat, building.lon, building.floors) == (31.2304, 121.4737, 24)
    assert building.coordinates_source == "manual"
    r = browser.post("/admin/buildings", data={"community": str(community.id), "name": "5栋",
                                               "floors": "6"})
    assert r.status_code == 422 and "Another building of this community has this name." in \
        r.get_data(as_text=True)


def test_a_refused_building_keeps_what_was_typed_next_to_each_message(app):
    """A refused building keeps what was typed, each message at its field."""
    building = make_building(name="1栋")
    browser = admin_client(app)
    r = browser.post(f"/admin/buildings/{building.id}", data={
        "name": "", "address": "新地址", "floors": "300", "lat": "31.2", "lon": "200"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and 'value="新地址"' in html and 'value="200"' in html
    for field in ("name", "floors", "lon"):
        assert f'id="err-{field}"' in html, field
    assert 'id="err-lat"' not in html
    db.session.expire_all()
    assert db.session.get(Building, building.id).name == "1栋"


def test_clearing_coordinates_by_hand_leaves_them_to_the_geocoder(app):
    """Cleared coordinates are filled by the geocoder, which leaves an audit event."""
    building = make_building(address="上海市人民路1号")
    browser = admin_client(app)
    r = browser.post(f"/admin/buildings/{building.id}", data={
        "name": building.name, "address": building.address, "floors": "18", "lat": "",
        "lon": ""})
    assert r.status_code == 303
    db.session.expire_all()
    cleared = db.session.get(Building, building.id)
    assert cleared.lat is None and cleared.coordinates_source is None
    geocoder = Geocoder({"上海市人民路1号": (31.23, 121.47)})
    report = geocode_buildings(db.session, geocoder)
    assert [f.building_id for f in report.found] == [building.id]
    [event] = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "building.geocode"))
    assert event.entity_id == building.id and event.user_id is None


def test_geocoding_fills_what_is_missing_and_never_overwrites_coordinates_set_by_hand(app):
    """Only missing coordinates are looked up, each address once; failures say why."""
    community = make_community()
    manual = make_building(community, address="上海市人民路1号", coordinates_source="manual")
    imported = make_building(community, address="上海市人民路2号")  # coordinates of unknown origin
    empty = make_building(community, address="上海市人民路3号", lat=None, lon=None)
    twin = make_building(community, address="上海市人民路3号", lat=None, lon=None)
    lost = make_building(community, address="无此路9号", lat=None, lon=None)
    slow = make_building(community, address="超时路1号", lat=None, lon=None)
    blank = make_building(community, address="", lat=None, lon=None)
    geocoder = Geocoder({"上海市人民路1号": (1.0, 1.0), "上海市人民路2号": (2.0, 2.0),
                         "上海市人民路3号": (31.2401, 121.4901)})
    report = geocode_buildings(db.session, geocoder)
    assert geocoder.asked == ["上海市人民路3号", "无此路9号", "超时路1号"]  # each once
    assert {f.building_id: f.cached for f in report.found} == {empty.id: False, twin.id: True}
    assert {f.building_id: f.reason for f in report.failed} == {
        lost.id: "not found", slow.id: "TimeoutError: the service did not answer",
        blank.id: "no address"}
    assert report.kept == 2
    db.session.expire_all()
    assert (db.session.get(Building, manual.id).lat, db.session.get(Building, imported.id).lat) \
        == (31.2304, 31.2304)
    found = db.session.get(Building, empty.id)
    assert (found.lat, found.lon, found.coordinates_source, found.geocoded_address) == (
        31.2401, 121.4901, "geocoded", "上海市人民路3号")


def test_a_second_run_asks_only_about_addresses_that_changed(app):
    """Results are cached by address: a second run asks only about changed ones."""
    building = make_building(address="上海市人民路3号", lat=None, lon=None)
    geocoder = Geocoder({"上海市人民路3号": (31.24, 121.49), "上海市人民路8号": (31.25, 121.5)})
    geocode_buildings(db.session, geocoder)
    geocode_buildings(db.session, geocoder)
    assert geocoder.asked == ["上海市人民路3号"]
    db.session.get(Building, building.id).address = "上海市人民路8号"
    db.session.commit()
    report = geocode_buildings(db.session, geocoder)
    assert geocoder.asked[-1] == "上海市人民路8号" and report.found[0].lat == 31.25


def test_coordinates_typed_during_a_run_are_not_overwritten(app):
    """Coordinates set by hand during a run win over its result."""
    building = make_building(address="上海市人民路3号", lat=None, lon=None)

    def geocoder(address):
        db.session.execute(Building.__table__.update().values(
            lat=30.0, lon=120.0, coordinates_source="manual"))  # an admin, meanwhile
        return Place(31.0, 121.0)

    report = geocode_buildings(db.session, geocoder)
    assert report.found == []
    db.session.expire_all()
    assert db.session.get(Building, building.id).lat == 30.0


def test_the_command_lists_failures_and_a_dry_run_asks_nothing(app, runner):
    """The command lists what it found and failed; a dry run asks and writes nothing."""
    make_building(address="上海市人民路3号", lat=None, lon=None, name="3栋")
    make_building(address="无此路9号", lat=None, lon=None, name="9栋")
    geocoder = Geocoder({"上海市人民路3号": (31.24, 121.49)})
    app.config["GEOCODER"] = geocoder
    dry = runner.invoke(args=["geocode-buildings", "--dry-run"])
    assert dry.exit_code == 0 and geocoder.asked == []
    assert "would look up 3栋" in dry.output and "2 buildings to look up" in dry.output
    assert db.session.scalar(select(Building.id).where(Building.lat.is_not(None))) is None
    result = runner.invoke(args=["geocode-buildings"])
    assert result.exit_code == 1
    assert "3栋" in result.output and "31.240000, 121.490000" in result.output
    assert "Not found:\n  9栋" in result.output and "Geocoded 1 buildings" in result.output


def test_the_default_geocoder_is_nominatim_at_the_configured_address_and_rate(app):
    """Nominatim at GEOCODER_URL with GEOCODER_USER_AGENT, one request a second."""
    geocoder = make_geocoder({"GEOCODER_URL": "http://geo.internal:8080/nominatim",
                              "GEOCODER_USER_AGENT": "doorstep-test (ops@example.com)",
                              "GEOCODER_MIN_DELAY": 1.0})
    nominatim = geocoder.func.__self__
    assert type(nominatim).__name__ == "Nominatim"
    assert nominatim.domain == "geo.internal:8080/nominatim" and nominatim.scheme == "http"
    assert nominatim.headers["User-Agent"] == "doorstep-test (ops@example.com)"
    assert geocoder.min_delay_seconds == 1.0 and not geocoder.swallow_exceptions
