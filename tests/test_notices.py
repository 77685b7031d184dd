"""Notices as issued: templates that cannot be saved broken, every element rendered, the
archive immutable, building printing with skips, the statement link's scope and expiry,
the evidence bundle's content and hashes."""
from __future__ import annotations

import hashlib
import io
import json
import re
import uuid
import zipfile
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from fieldapp.domain.notice_text import BLOCKS, check_blocks
from fieldapp.extensions import db
from fieldapp.models import (
    AuditEvent,
    Notice,
    NoticeTemplate,
    NoticeType,
    Payment,
    Policy,
    Promise,
    Role,
    StatementLink,
    Visit,
)
from fieldapp.notices.wording import KINDS, default_blocks
from fieldapp.photos.storage import storage

from .factories import TODAY, make_bill, make_building, make_community, make_payment, make_unit, \
    make_user
from .photos import make_jpeg
from .world import make_world


def overdue_unit(building=None, **kw):
    unit = make_unit(building, **kw)
    make_bill(unit, 120_000, TODAY - timedelta(days=75), external_id=f"B-{uuid.uuid4().hex[:8]}")
    make_bill(unit, 30_000, TODAY - timedelta(days=40))
    return unit


def issue(client, unit, kind="demand_letter", deadline=None):
    return client.post(f"/units/{unit.id}/notices", data={
        "kind": kind, "deadline": (deadline or TODAY + timedelta(days=15)).isoformat()})


def test_every_default_template_is_valid():
    """The shipped text of each stage passes the check it imposes on admins."""
    for kind in KINDS:
        assert check_blocks(default_blocks(kind), 2000) == {}, kind


def test_a_template_with_an_unknown_placeholder_or_missing_part_is_refused():
    """Unknown {names}, a missing required part, an unclosed brace and a body without
    the amount or deadline are each named on their block."""
    blocks = default_blocks("reminder")
    errors = check_blocks({**blocks, "title": "提醒{owner_name}", "legal_basis": "",
                           "contact": "电话 {phone", "body": "请于{deadline}前缴费"}, 2000)
    assert set(errors) == {"title", "legal_basis", "contact", "body"}
    assert "owner_name" in errors["title"] and "total" in errors["body"]
    assert check_blocks({**blocks, "closing": ""}, 2000) == {}


def test_an_admin_saves_a_template_and_a_broken_one_is_shown_again(app, client, login_as):
    """A broken template is re-rendered (422) with what was typed; a good one is saved."""
    community = make_community()
    login_as(make_user(Role.ADMIN, locale="en"))
    url = f"/communities/{community.id}/notice-templates/reminder"
    form = {**default_blocks("reminder"), "title": "提醒{nope}"}
    r = client.post(url, data=form)
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert "Unknown placeholder {nope}" in page and "提醒{nope}" in page
    assert 'aria-invalid="true"' in page
    assert db.session.scalar(select(NoticeTemplate)) is None
    r = client.post(url, data={**default_blocks("reminder"), "title": "温馨提示"})
    assert r.status_code == 303
    assert db.session.scalar(select(NoticeTemplate)).blocks["title"] == "温馨提示"
    assert client.get(f"/communities/{community.id}/notice-templates/bogus").status_code == 404


def test_an_issued_notice_carries_every_element(app, client, login_as):
    """Title, recipient, sender, number, bill lines, late fee and how it is computed,
    deadline, how to pay with a QR code, whom to call, legal basis, consequences, seal."""
    unit = overdue_unit()
    login_as(make_user(Role.SUPERVISOR))
    r = issue(client, unit)
    assert r.status_code == 303
    notice = db.session.scalar(select(Notice))
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert notice.number in html and "催告函" in html
    assert "王建国" in html and unit.building.community.name in html
    bill = unit.bills[0]
    assert bill.external_id in html and bill.period in html and "1,200.00" in html
    assert "违约金" in html and "× 0.03% ×" in html  # the computation lines
    deadline = TODAY + timedelta(days=15)
    assert f"{deadline.year}年{deadline.month}月{deadline.day}日" in html
    assert "<svg" in html and "/s/" in html  # the QR code of the statement link
    assert "民法典" in html and "诉讼" in html and "盖章" in html
    assert "物业服务中心" in html
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing outside the file
    assert "<script" not in html
    assert notice.sha256 == hashlib.sha256(html.encode()).hexdigest()


def test_the_archive_does_not_change_when_policy_or_template_changes(app, client, login_as):
    """Reprinting serves the archived bytes: a later policy or template edit leaves it."""
    unit = overdue_unit()
    login_as(make_user(Role.SUPERVISOR))
    first = client.get(issue(client, unit).headers["Location"]).get_data()
    policy = db.session.scalar(select(Policy).where(
        Policy.community_id == unit.building.community_id))
    policy.late_fee_daily_ppm = 900
    db.session.add(NoticeTemplate(community_id=unit.building.community_id,
                                  kind=NoticeType.DEMAND_LETTER,
                                  blocks={**default_blocks("demand_letter"), "title": "新标题"}))
    db.session.commit()
    notice = db.session.scalar(select(Notice))
    again = client.get(f"/notices/{notice.id}").get_data()
    assert again == first and hashlib.sha256(again).hexdigest() == notice.sha256
    second = client.get(issue(client, unit).headers["Location"]).get_data(as_text=True)
    assert "新标题" in second and "0.09%" in second  # a new notice takes the new rules


def test_notice_numbers_are_unique_and_counted(app, client, login_as):
    """Each notice takes the next number of the company's counter."""
    unit = overdue_unit()
    login_as(make_user(Role.SUPERVISOR))
    for _ in range(3):
        issue(client, unit)
    numbers = db.session.scalars(select(Notice.number).order_by(Notice.id)).all()
    assert numbers == [f"{TODAY.year}-{n:06d}" for n in (1, 2, 3)]


def test_a_unit_on_hold_gets_no_notice(app, client, login_as):
    """Printing for a unit with an open work order is refused (409) naming the order."""
    world = make_world()
    login_as(world.users["hk"])
    r = issue(client, world.unit)
    assert r.status_code == 409
    assert f"#{world.order.id}" in r.get_data(as_text=True)
    assert db.session.scalar(select(Notice).where(Notice.unit_id == world.unit.id)) is None


def test_bad_deadline_and_kind_are_refused_with_the_form(app, client, login_as):
    """A deadline in the past or unreadable, or an unknown kind: 422 and nothing issued."""
    unit = overdue_unit()
    login_as(make_user(Role.SUPERVISOR, locale="en"))
    r = issue(client, unit, deadline=TODAY - timedelta(days=1))
    assert r.status_code == 422 and "within the next 90 days" in r.get_data(as_text=True)
    r = client.post(f"/units/{unit.id}/notices", data={"kind": "nope", "deadline": "x"})
    assert r.status_code == 422 and 'id="err-kind"' in r.get_data(as_text=True)
    assert db.session.scalar(select(Notice)) is None


def test_building_printing_skips_held_and_promised_units_and_says_so(app, client, login_as):
    """One notice per page for the building's overdue units; held and promised are listed."""
    building = make_building()
    printed = [overdue_unit(building), overdue_unit(building)]
    held, promised = overdue_unit(building), overdue_unit(building)
    hk = make_user(Role.HOUSEKEEPER, buildings=[building])
    login_as(hk)
    r = client.post(f"/units/{held.id}/complaints", data={
        "client_uuid": str(uuid.uuid4()), "category": "leak", "description": "漏水"})
    assert r.status_code == 303
    db.session.add(Promise(unit_id=promised.id, due_date=TODAY + timedelta(days=5),
                           amount_fen=1000, made_on=TODAY))
    promised.promise_status, promised.next_promise_date = "open", TODAY + timedelta(days=5)
    db.session.commit()
    login_as(make_user(Role.SUPERVISOR, locale="en"))
    r = client.post("/notices/print", data={"building": building.id,
                                            "deadline": (TODAY + timedelta(days=10)).isoformat()})
    assert r.status_code == 303
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert page.count('<article class="notice') == 2
    assert f"{held.label}: on dunning hold" in page and f"{promised.label}: open promise" in page
    assert {n.unit_id for n in db.session.scalars(select(Notice))} == {u.id for u in printed}


def statement_token(client, unit) -> str:
    r = client.post(f"/units/{unit.id}/statement-links")
    assert r.status_code == 303
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    return re.search(r"/s/([A-Za-z0-9_-]+)", page).group(1)


def test_the_statement_link_shows_only_its_unit_and_logs_a_contact(app, client, login_as):
    """The owner's page lists that unit's bills and late fee and nothing of another unit;
    sharing it is an audited contact attempt; only the token's hash is stored."""
    building = make_building()
    unit = overdue_unit(building, owner="李秀英")
    other = overdue_unit(building, owner="赵大海")
    make_payment(unit, 5_000, TODAY - timedelta(days=20))
    login_as(make_user(Role.HOUSEKEEPER, buildings=[building]))
    token = statement_token(client, unit)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "statement.share"))
    link = db.session.scalar(select(StatementLink))
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in \
        link.token_hash
    anon = app.test_client()
    page = anon.get(f"/s/{token}").get_data(as_text=True)
    assert unit.label in page and "50.00" in page and "bottom-nav" not in page
    assert other.label not in page and "赵大海" not in page and "13812345678" not in page


def test_expired_revoked_and_unknown_tokens_show_no_data(app, client, login_as):
    """An expired or revoked link is a clear 410 page, an unknown one 404, without data."""
    unit = overdue_unit()
    login_as(make_user(Role.SUPERVISOR, locale="en"))
    token = statement_token(client, unit)
    anon = app.test_client()
    link = db.session.scalar(select(StatementLink))
    link.expires_at = datetime.now(timezone.utc) - timedelta(minutes=1)
    db.session.commit()
    r = anon.get(f"/s/{token}")
    assert r.status_code == 410 and unit.label not in r.get_data(as_text=True)
    link.expires_at = datetime.now(timezone.utc) + timedelta(days=1)
    db.session.commit()
    assert anon.get(f"/s/{token}").status_code == 200
    assert client.post(f"/statement-links/{link.id}/revoke").status_code == 303
    r = anon.get(f"/s/{token}")
    assert r.status_code == 410 and "1,200.00" not in r.get_data(as_text=True)
    assert anon.get("/s/not-a-token").status_code == 404


def test_a_token_opens_no_photo_of_another_unit(app, client, login_as):
    """The statement's photos are the after-photos of its own unit's closed repairs."""
    world = make_world()
    login_as(world.users["supervisor"])
    token = statement_token(client, world.other_unit)
    anon = app.test_client()
    assert anon.get(f"/s/{token}/photos/{world.after_photo.id}").status_code == 404
    assert anon.get(f"/s/{token}/photos/{world.visit_photo.id}").status_code == 404


def test_a_visit_delivering_a_notice_picks_it(app, client, login_as):
    """The visit form lists undelivered notices; the saved visit names the one chosen."""
    unit = overdue_unit()
    hk = make_user(Role.HOUSEKEEPER, buildings=[unit.building])
    login_as(hk)
    issue(client, unit, kind="payment_notice")
    notice = db.session.scalar(select(Notice))
    assert notice.number in client.get(f"/units/{unit.id}/visits/new").get_data(as_text=True)
    r = client.post(f"/units/{unit.id}/visits", data={
        "client_uuid": str(uuid.uuid4()), "outcome": "nobody_home", "notice_id": notice.id,
        "delivery": "door", "photos": [(io.BytesIO(make_jpeg()), "door.jpg")]},
        content_type="multipart/form-data")
    assert r.status_code == 303
    visit = db.session.scalar(select(Visit))
    assert visit.notice_id == notice.id and visit.notice_type == NoticeType.PAYMENT_NOTICE
    assert notice.number not in client.get(f"/units/{unit.id}/visits/new").get_data(
        as_text=True)


def test_a_visit_cannot_pick_a_notice_of_another_unit(app, client, login_as):
    """A notice id of another unit is refused on the field, and no visit is stored."""
    building = make_building()
    unit, other = overdue_unit(building), overdue_unit(building)
    login_as(make_user(Role.HOUSEKEEPER, buildings=[building], locale="en"))
    issue(client, other)
    notice = db.session.scalar(select(Notice))
    r = client.post(f"/units/{unit.id}/visits", data={
        "client_uuid": str(uuid.uuid4()), "outcome": "nobody_home", "notice_id": notice.id,
        "delivery": "door", "photos": [(io.BytesIO(make_jpeg()), "door.jpg")]},
        content_type="multipart/form-data")
    assert r.status_code == 422 and 'id="err-notice_id"' in r.get_data(as_text=True)
    assert db.session.scalar(select(Visit)) is None


def test_the_evidence_bundle_holds_everything_with_matching_hashes(app, client, login_as):
    """index.html, the notices as issued, the photo originals and a manifest whose every
    SHA-256 matches the file it names."""
    world = make_world()
    login_as(world.users["supervisor"])
    other = world.other_unit
    issue(client, other)
    r = client.get(f"/units/{world.unit.id}/evidence.zip")
    assert r.status_code == 200 and r.is_streamed
    archive = zipfile.ZipFile(io.BytesIO(r.get_data()))
    manifest = json.loads(archive.read("manifest.json"))
    names = set(archive.namelist()) - {"manifest.json"}
    assert set(manifest["files"]) == names
    for name, digest in manifest["files"].items():
        assert hashlib.sha256(archive.read(name)).hexdigest() == digest, name
    photos = {n for n in names if n.startswith("photos/")}
    assert {f"photos/{p.sha256}.jpg" for p in (world.visit_photo, world.complaint_photo,
                                                world.after_photo)} == photos
    assert archive.read(f"photos/{world.visit_photo.sha256}.jpg") == \
        storage().get(f"originals/{world.visit_photo.sha256[:2]}/{world.visit_photo.sha256}")
    index = archive.read("index.html").decode()
    assert "屋顶漏水" in index and world.unit.label in index and "13812345678" in index
    r = client.get(f"/units/{other.id}/evidence.zip")
    archive = zipfile.ZipFile(io.BytesIO(r.get_data()))
    notice = db.session.scalar(select(Notice))
    assert hashlib.sha256(archive.read(f"notices/{notice.number}.html")).hexdigest() == \
        notice.sha256


def test_the_card_shows_the_limitation_end_and_the_list_names_units_near_it(app, client,
                                                                           login_as):
    """An unpaid bill nearly three years old: its end on the card, the unit on the list;
    a proven notice delivered since takes it off."""
    unit = make_unit()
    make_bill(unit, 50_000, TODAY - timedelta(days=3 * 365 - 30))
    fresh = overdue_unit()
    login_as(make_user(Role.SUPERVISOR, locale="en"))
    card = client.get(f"/units/{unit.id}").get_data(as_text=True)
    assert "Limitation period of the oldest claim ends" in card and "Deliver a notice" in card
    page = client.get("/limitation").get_data(as_text=True)
    assert f'data-unit-id="{unit.id}"' in page and f'data-unit-id="{fresh.id}"' not in page
    db.session.add(Promise(unit_id=unit.id, due_date=TODAY + timedelta(days=9),
                           amount_fen=100, made_on=TODAY - timedelta(days=1)))
    db.session.commit()
    assert f'data-unit-id="{unit.id}"' not in client.get("/limitation").get_data(as_text=True)


def test_printed_and_shared_links_use_the_public_address_not_the_request_host(app, client,
                                                                              login_as):
    """With PUBLIC_URL set, a notice's QR link and a shared link point there, not at the
    address the printing browser used (here the test client's localhost)."""
    app.config["PUBLIC_URL"] = "https://pay.example.com"
    unit = overdue_unit()
    login_as(make_user(Role.SUPERVISOR, locale="en"))
    r = client.post(f"/units/{unit.id}/notices", data={
        "kind": "demand_letter", "deadline": (TODAY + timedelta(days=15)).isoformat()})
    assert r.status_code == 303
    notice = db.session.scalar(select(Notice))
    html = client.get(f"/notices/{notice.id}").get_data(as_text=True)
    assert "https://pay.example.com/s/" in html and "//localhost/s/" not in html
    r = client.post(f"/units/{unit.id}/statement-links")
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "https://pay.example.com/s/" in page and "//localhost/s/" not in page


def test_the_cards_limitation_end_is_the_full_reads_without_reading_what_the_card_knows(app):
    """The card gives the clock the payments it has read and says whether the unit has
    visits or promises: a unit with neither costs no statement, and each end is the one
    a full read of the demands gives."""
    from sqlalchemy import event

    from fieldapp.clock import company_tz
    from fieldapp.notices.limitation import bill_ends
    from fieldapp.notices.services import card_panel
    from fieldapp.units.services import unit_card

    old = TODAY - timedelta(days=3 * 365 - 60)
    payer, promised, bare = make_unit(), make_unit(), make_unit()
    for unit in (payer, promised, bare):
        make_bill(unit, 50_000, old)
    make_payment(payer, 3_000, old + timedelta(days=30))
    db.session.add(Payment(unit_id=payer.id, amount_fen=-1_000, paid_on=TODAY))  # a refund
    db.session.add(Promise(unit_id=promised.id, due_date=TODAY + timedelta(days=9),
                           amount_fen=100, made_on=TODAY - timedelta(days=100)))
    db.session.commit()
    now, tz = datetime.now(timezone.utc), company_tz()
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        seen.append(statement)
    ends = {}
    for unit, demand_reads in ((payer, 0), (bare, 0), (promised, 1)):
        card = unit_card(db.session, unit, TODAY)
        overdue = [(line.bill.id, line.bill.due_date) for line in card.lines if line.overdue]
        seen.clear()
        event.listen(db.engine, "before_cursor_execute", note)
        try:
            panel = card_panel(db.session, unit, card, TODAY, tz, now)
        finally:
            event.remove(db.engine, "before_cursor_execute", note)
        assert len(seen) == demand_reads, seen
        assert panel.limitation_end == min(bill_ends(db.session, unit.id, overdue, tz).values())
        ends[unit.id] = panel.limitation_end
    assert ends[bare.id] < ends[payer.id] < ends[promised.id]  # each demand moved its clock
