"""Communities and their policies without a developer: bands checked (in order, unique,
stages never milder), rates converted exactly, every change a dated version that takes
effect on its day and never rewrites the past, the history on the policy page."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from flask_migrate import upgrade
import sqlalchemy as sa
from sqlalchemy import select, text

from fieldapp import create_app
from fieldapp.admin.estate import apply_due_versions, version_in_force
from fieldapp.domain.policy import check_bands, check_policy, percent_to_ppm, ppm_to_percent
from fieldapp.extensions import db
from fieldapp.models import (
    DEFAULT_BANDS,
    POLICY_FIELDS,
    AuditEvent,
    Community,
    Policy,
    PolicyVersion,
    Role,
)

from .conftest import _empty_tables, make_app
from .factories import PASSWORD, TODAY, make_community, make_user
from .test_migrations import empty_database  # noqa: F401 - a fixture

VALID = {"band-1-days": "1", "band-1-stage": "reminder", "band-2-days": "30",
         "band-2-stage": "visit", "band-3-days": "90", "band-3-stage": "demand",
         "band-3-key": "D90", "late_fee_grace_days": "10", "daily_rate": "0.05", "cap": "100",
         "gps_threshold_m": "200", "promise_horizon_days": "45", "promise_grace_days": "2",
         "max_installments": "6", "plan_pauses_late_fee": "1", "broken_promise_steps": "2"}


def bands(*rows) -> dict:
    form = {}
    for n, (days, stage, key) in enumerate(rows, start=1):
        form.update({f"band-{n}-days": days, f"band-{n}-stage": stage, f"band-{n}-key": key})
    return form


@pytest.mark.parametrize("typed, ppm", [("0.03", 300), ("0.035", 350), ("0.0001", 1),
                                        (" 0.05 %", 500), ("1", 10_000), ("100", 1_000_000),
                                        ("0", 0)])
def test_percentages_become_parts_per_million_exactly(typed, ppm):
    """A typed percentage is stored exactly in parts per million, and shown back."""
    assert percent_to_ppm(typed) == ppm
    assert percent_to_ppm(ppm_to_percent(ppm)) == ppm


@pytest.mark.parametrize("typed", ["0.00001", "1e-3", "-0.03", "0,03", "", "NaN", "0.03.1",
                                   "１", "9" * 20])
def test_what_is_not_a_plain_percentage_is_refused(typed):
    """Exponents, signs, commas, full-width digits and sub-ppm rates are refused."""
    with pytest.raises(ValueError):
        percent_to_ppm(typed)


def test_a_valid_form_becomes_a_policy_change():
    """A valid form becomes the values a version stores, from today."""
    change, errors = check_policy(VALID, today=TODAY)
    assert errors == {}
    assert change.values["bands"] == [{"key": "reminder", "min_days": 1, "stage": "reminder"},
                                      {"key": "visit", "min_days": 30, "stage": "visit"},
                                      {"key": "d90", "min_days": 90, "stage": "demand"}]
    assert change.values["late_fee_daily_ppm"] == 500
    assert change.values["late_fee_cap_ppm"] == 1_000_000
    assert change.values["plan_pauses_late_fee"] is True
    assert change.valid_from == TODAY and change.note == ""


@pytest.mark.parametrize("rows, field, message", [
    ((("5", "reminder", ""), ("3", "visit", "")), "band-2-days", "starts later"),
    ((("5", "reminder", ""), ("5", "visit", "")), "band-2-days", "starts later"),
    ((("0", "reminder", ""),), "band-1-days", "day 1 or later"),
    ((("1", "visit", ""), ("30", "reminder", "")), "band-2-stage", "milder stage"),
    ((("1", "reminder", "a"), ("30", "visit", "A")), "band-2-key", "has this name"),
    ((("1", "reminder", ""), ("30", "court", "")), "band-2-stage", "Choose a stage"),
    ((("one", "reminder", ""),), "band-1-days", "whole days"),
    ((("1", "reminder", "早期!"),), "band-1-key", "letters, digits"),
    ((), "band-1-days", "at least one band"),
])
def test_bands_out_of_order_duplicate_or_milder_are_refused_at_their_field(rows, field,
                                                                          message):
    """Each band problem is reported at the field that has it."""
    _bands, errors = check_bands(bands(*rows))
    assert field in errors and message in str(errors[field]), errors


def test_empty_band_rows_are_left_out_and_unnamed_bands_named_after_their_stage():
    """Empty rows drop out; a nameless band is named after its stage, uniquely."""
    found, errors = check_bands(bands(("1", "visit", ""), ("", "reminder", ""),
                                      ("40", "visit", ""), ("61", "demand", "")))
    assert errors == {}
    assert [(b.key, b.min_days, b.stage) for b in found] == [
        ("visit", 1, "visit"), ("visit-40", 40, "visit"), ("demand", 61, "demand")]


@pytest.mark.parametrize("field, value", [
    ("late_fee_grace_days", "-1"), ("late_fee_grace_days", "366"), ("gps_threshold_m", "5"),
    ("max_installments", "1"), ("broken_promise_steps", "9"), ("daily_rate", "1.5"),
    ("cap", "0"), ("cap", "101"), ("promise_horizon_days", "30.5"),
    ("valid_from", "2026-11-21"), ("valid_from", "2026-02-30"), ("valid_from", "9999-12-31"),
    ("note", "长" * 201)])
def test_each_rule_out_of_its_range_is_refused_at_its_field(field, value):
    """Each value out of its range is refused at its own field only."""
    change, errors = check_policy({**VALID, field: value}, today=TODAY)
    assert change is None and list(errors) == [field]


def scheduled(community, day, **changes) -> PolicyVersion:
    """A version of the community's policy from `day`, with some values changed."""
    values = {k: getattr(community.policy, k) for k in POLICY_FIELDS}
    version = PolicyVersion(community_id=community.id, valid_from=day, **{**values, **changes})
    db.session.add(version)
    db.session.commit()
    return version


def signed_in_admin(app):
    browser = app.test_client()
    admin = make_user(Role.ADMIN, locale="en")
    assert browser.post("/login", data={"username": admin.username,
                                        "password": PASSWORD}).status_code == 303
    return browser, admin


def test_an_admin_creates_a_community_with_the_default_policy_as_its_first_version(app):
    """A new community starts with the default policy as its first version."""
    browser, admin = signed_in_admin(app)
    r = browser.post("/admin/communities", data={"name": " 星河湾 ", "kind": "office_park",
                                                 "timezone": "Asia/Urumqi"})
    assert r.status_code == 303
    community = db.session.scalar(select(Community).where(Community.name == "星河湾"))
    assert (community.kind, community.timezone) == ("office_park", "Asia/Urumqi")
    policy = db.session.scalar(select(Policy).where(Policy.community_id == community.id))
    assert policy.bands == DEFAULT_BANDS and policy.late_fee_daily_ppm == 300
    [version] = db.session.scalars(select(PolicyVersion)).all()
    assert policy.version_id == version.id and version.valid_from == TODAY
    assert version.created_by == admin.id
    r = browser.post("/admin/communities", data={"name": "星河湾", "kind": "residential",
                                                 "timezone": "Asia/Shanghai"})
    assert r.status_code == 422 and "A community of this name exists." in r.get_data(as_text=True)


def test_a_policy_change_from_today_is_in_force_at_once_and_shown_in_the_history(app):
    """A change from today is in force at once, audited and shown with what it changed."""
    community = make_community()
    browser, admin = signed_in_admin(app)
    r = browser.post(f"/admin/communities/{community.id}/policy",
                     data={**VALID, "note": "董事会决议"})
    assert r.status_code == 303
    db.session.expire_all()
    policy = db.session.get(Community, community.id).policy
    assert [b["min_days"] for b in policy.bands] == [1, 30, 90]
    assert (policy.late_fee_grace_days, policy.late_fee_daily_ppm, policy.late_fee_cap_ppm,
            policy.max_installments, policy.broken_promise_steps) == (10, 500, 1_000_000, 6, 2)
    versions = db.session.scalars(select(PolicyVersion).order_by(PolicyVersion.id)).all()
    assert len(versions) == 2 and versions[0].created_by is None  # the policy as it stood
    assert policy.version_id == versions[1].id
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "policy.change"))
    assert event.user_id == admin.id and event.entity_id == versions[1].id
    assert "late_fee_daily_ppm" in event.detail["changed"]
    html = browser.get(f"/admin/communities/{community.id}/policy").get_data(as_text=True)
    history = html[html.index('id="history"'):]
    assert "In force" in history and "董事会决议" in history
    assert re.search(r"Daily late fee: <del>0\.03 % a day</del> → <ins>0\.05 % a day</ins>",
                     history)
    assert 'value="0.05"' in html and 'value="d90"' in html


def test_a_change_dated_ahead_waits_for_its_day_and_the_past_is_not_rewritten(app):
    """A change dated ahead waits for its day; a past date is refused."""
    community = make_community()
    browser, _admin = signed_in_admin(app)
    ahead = TODAY + timedelta(days=10)
    r = browser.post(f"/admin/communities/{community.id}/policy",
                     data={**VALID, "valid_from": ahead.isoformat()})
    assert r.status_code == 303
    db.session.expire_all()
    policy = db.session.get(Community, community.id).policy
    assert policy.late_fee_daily_ppm == 300 and policy.bands == DEFAULT_BANDS
    html = browser.get(f"/admin/communities/{community.id}/policy").get_data(as_text=True)
    assert "Scheduled" in html and ahead.isoformat() in html
    assert version_in_force(db.session, community.id, ahead - timedelta(days=1)).valid_from == TODAY
    assert apply_due_versions(db.session, ahead - timedelta(days=1)) == 0
    assert apply_due_versions(db.session, ahead) == 1
    assert apply_due_versions(db.session, ahead) == 0
    policy = db.session.get(Community, community.id).policy
    assert policy.late_fee_daily_ppm == 500
    assert policy.version_id == version_in_force(db.session, community.id, ahead).id
    [applied] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "policy.apply"))
    assert applied.user_id is None and applied.detail["valid_from"] == ahead.isoformat()
    r = browser.post(f"/admin/communities/{community.id}/policy",
                     data={**VALID, "valid_from": (TODAY - timedelta(days=1)).isoformat()})
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and "the past is not rewritten" in page
    assert re.search(r'id="f-valid_from"[^>]*aria-describedby="err-valid_from hint-valid_from"'
                     r'[^>]*aria-invalid="true"', page)


def test_the_first_page_of_the_day_that_reads_policies_puts_a_change_in_force(db_url,
                                                                             tmp_path):
    """The first page of the day that reads policies brings a due version into force."""
    app = make_app(db_url, tmp_path)
    try:
        with app.app_context():
            community = make_community()
            scheduled(community, TODAY, late_fee_daily_ppm=450)
            browser = app.test_client()
            assert browser.post("/login", data={"username": make_user(Role.SUPERVISOR).username,
                                                "password": PASSWORD}).status_code == 303
            db.session.expire_all()
            assert db.session.get(Community, community.id).policy.late_fee_daily_ppm == 300
            assert browser.get("/today").status_code == 200
            db.session.expire_all()
            assert db.session.get(Community, community.id).policy.late_fee_daily_ppm == 450
    finally:
        _empty_tables(app)


def test_the_nightly_job_puts_a_scheduled_change_in_force(app, runner):
    """refresh-arrears brings a due version into force."""
    community = make_community()
    scheduled(community, TODAY, late_fee_daily_ppm=400)
    app.extensions["policies_checked_on"] = TODAY  # as if today's first request came before
    result = runner.invoke(args=["refresh-arrears"])
    assert result.exit_code == 0 and "Put 1 scheduled policy changes in force." in result.output
    db.session.expire_all()
    assert db.session.get(Community, community.id).policy.late_fee_daily_ppm == 400


def test_a_refused_policy_keeps_what_was_typed_and_lists_every_error(app):
    """A refused policy keeps what was typed and links each error to its field."""
    community = make_community()
    browser, _admin = signed_in_admin(app)
    form = {**VALID, "band-2-days": "0", "daily_rate": "abc"}
    r = browser.post(f"/admin/communities/{community.id}/policy", data=form)
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert 'value="abc"' in html and 'value="90"' in html
    assert "2 fields need a change" in html
    assert 'href="#f-band-2-days"' in html and 'href="#f-daily_rate"' in html
    assert db.session.scalar(select(PolicyVersion.id)) is None


def test_each_existing_policy_gets_a_first_version_on_upgrade(empty_database):  # noqa: F811
    """The migration records each existing policy as its community's first version."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database, "SECRET_KEY": "x"})
    with app.app_context():
        upgrade(revision="0008")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO community (id, name, kind, timezone) "
                              "VALUES (7, '老小区', 'residential', 'Asia/Shanghai')"))
            policy = sa.Table("policy", sa.MetaData(), autoload_with=conn)
            conn.execute(policy.insert().values(
                id=3, community_id=7, bands=DEFAULT_BANDS, late_fee_grace_days=20,
                late_fee_daily_ppm=500, gps_threshold_m=150, promise_horizon_days=30,
                promise_grace_days=3, max_installments=12, plan_pauses_late_fee=True,
                late_fee_cap_ppm=None, broken_promise_steps=1))
        upgrade()
        with db.engine.connect() as conn:
            version = conn.execute(text("SELECT id, community_id, late_fee_grace_days, "
                                        "late_fee_daily_ppm, valid_from FROM policy_version")
                                   ).one()
            assert conn.execute(text("SELECT version_id FROM policy")).scalar() == version.id
        assert (version.community_id, version.late_fee_grace_days,
                version.late_fee_daily_ppm) == (7, 20, 500)
        assert str(version.valid_from)[:10] == date.today().isoformat()
        db.engine.dispose()
