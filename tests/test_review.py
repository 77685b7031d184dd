"""The review: only supervisors (and admins) review, within their scope; the queue
filters and pages; approve (one, or many clean ones), send back with a comment; flagged
visits are approved only once opened; the housekeeper sees the send-back on Today and
corrects with a new record; a visit's page shows its history; a housekeeper's day."""
from __future__ import annotations

import io
import re
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from fieldapp.domain.visits import check_visit
from fieldapp.extensions import db
from fieldapp.models import (
    AuditEvent,
    Decision,
    Payment,
    PromiseStatus,
    ReviewDecision,
    Role,
    Visit,
    VisitCorrection,
)
from fieldapp.photos.evidence import Upload
from fieldapp.photos.storage import storage
from fieldapp.review.services import Refused, decide
from fieldapp.visits.services import record_visit

from .factories import TODAY, make_bill, make_building, make_community, make_unit, make_user
from .photos import make_jpeg

JSON = {"Accept": "application/json"}
HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}


@pytest.fixture
def patch(app):
    """Two buildings of one community, a housekeeper for each, an overdue unit in each,
    and a supervisor reading English."""
    community = make_community()
    mine, theirs = make_building(community), make_building(community, lat=31.2404)
    hk = make_user(Role.HOUSEKEEPER, buildings=[mine], locale="en", display_name="Wang")
    other_hk = make_user(Role.HOUSEKEEPER, buildings=[theirs], locale="en")
    unit, far_unit = make_unit(mine), make_unit(theirs)
    for u in (unit, far_unit):
        make_bill(u, 100_000, TODAY - timedelta(days=60))
    supervisor = make_user(Role.SUPERVISOR, locale="en")
    return dict(hk=hk, other_hk=other_hk, unit=unit, far_unit=far_unit,
                supervisor=supervisor)


def visit(unit, hk, *, at_building=True, photos=(), outcome="nobody_home", **fields):
    """A visit as the app records it; at the building it has no flag."""
    form = {"client_uuid": str(uuid.uuid4()), "outcome": outcome, **fields}
    if at_building:
        form.update(lat=str(unit.building.lat), lon=str(unit.building.lon), accuracy="10")
    data = check_visit(form, photo_count=len(photos), arrears_fen=unit.arrears_fen,
                       today=TODAY, promise_horizon_days=30)
    assert not data.errors, data.errors
    stored, _ = record_visit(db.session, storage(), unit, hk, data,
                             [Upload("p.jpg", p, {}) for p in photos], today=TODAY,
                             tz=timezone.utc)
    return stored


def status(v) -> str:
    db.session.expire_all()
    return db.session.get(Visit, v.id).review_status


def item_html(html: str, visit_id: int) -> str:
    """One queue item's markup: from its opening tag to the next item or the list's end."""
    start = html.index(f'id="visit-{visit_id}"')
    ends = [i for i in (html.find('<li class="card review-item', start),
                        html.find("</ol>", start)) if i != -1]
    return html[start:min(ends)]


def ids_in(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'class="card review-item[^"]*" id="visit-(\d+)"', html)]


# --- who reviews ----------------------------------------------------------------------------

def test_housekeepers_and_engineers_cannot_review(client, login_as, patch):
    """The queue and the decision are refused (403) and the visit stays pending."""
    v = visit(patch["unit"], patch["hk"])
    for user in (patch["hk"], make_user(Role.ENGINEER)):
        login_as(user)
        assert client.get("/review").status_code == 403
        r = client.post(f"/review/visits/{v.id}/decision", data={"decision": "approve"})
        assert r.status_code == 403
        assert client.post("/review/approve", data={"visit": v.id}).status_code == 403
        client.post("/logout")
    assert status(v) == "pending"
    assert db.session.scalar(select(func.count()).select_from(ReviewDecision)) == 0


def test_a_decision_by_anyone_but_a_supervisor_is_refused_by_the_service(patch):
    """The rule lives below the route too."""
    v = visit(patch["unit"], patch["hk"])
    with pytest.raises(Refused) as refused:
        decide(db.session, v, patch["hk"], Decision.APPROVE, "")
    assert refused.value.status == 403 and status(v) == "pending"


def test_visit_pages_open_within_the_patch_only(client, login_as, patch):
    """The housekeeper of the patch and supervisors open a visit; another housekeeper
    gets a 404, so existence does not leak; engineers see no visits."""
    v = visit(patch["unit"], patch["hk"])
    login_as(patch["hk"])
    assert client.get(f"/visits/{v.id}").status_code == 200
    client.post("/logout")
    login_as(patch["other_hk"])
    assert client.get(f"/visits/{v.id}").status_code == 404
    client.post("/logout")
    login_as(make_user(Role.ENGINEER))
    assert client.get(f"/visits/{v.id}").status_code == 403
    client.post("/logout")
    login_as(patch["supervisor"])
    assert client.get(f"/visits/{v.id}").status_code == 200


def test_admins_review_too(client, login_as, patch):
    """Admins see everything, the review included."""
    v = visit(patch["unit"], patch["hk"])
    login_as(make_user(Role.ADMIN))
    assert ids_in(client.get("/review").text) == [v.id]
    r = client.post(f"/review/visits/{v.id}/decision", data={"decision": "approve"})
    assert r.status_code == 303 and status(v) == "approved"


# --- the queue ------------------------------------------------------------------------------

def test_the_queue_lists_visits_waiting_newest_first(client, login_as, patch):
    """Pending visits only, newest first, each with its unit, outcome, both times and
    where the phone was."""
    old = visit(patch["unit"], patch["hk"], outcome="vacant")
    new = visit(patch["far_unit"], patch["other_hk"])
    done = visit(patch["unit"], patch["hk"])
    decide(db.session, done, patch["supervisor"], Decision.APPROVE, "")
    login_as(patch["supervisor"])
    html = client.get("/review").text
    assert ids_in(html) == [new.id, old.id]
    assert "2 visits are waiting for review" in html
    assert patch["unit"].label in html and "Vacant" in html and "0 m from the building" in html
    assert "Server time" in html and "Phone time" in html and 'class="where-map"' in html


def test_the_queue_filters_by_housekeeper_building_day_outcome_and_flag(client, login_as,
                                                                        patch):
    """Each filter narrows the list; filters combine."""
    mine = visit(patch["unit"], patch["hk"], outcome="vacant")
    far = visit(patch["unit"], patch["hk"], at_building=False)  # no position: flagged
    theirs = visit(patch["far_unit"], patch["other_hk"])
    login_as(patch["supervisor"])
    day = datetime.now(timezone(timedelta(hours=8))).date()

    def listed(**args):
        return set(ids_in(client.get("/review", query_string=args).text))

    assert listed(hk=patch["hk"].id) == {mine.id, far.id}
    assert listed(building=patch["far_unit"].building_id) == {theirs.id}
    assert listed(outcome="vacant") == {mine.id}
    assert listed(flag="any") == {far.id} == listed(flag="no_position")
    assert listed(flag="none") == {mine.id, theirs.id}
    assert listed(flag="far") == set()
    assert listed(date=day.isoformat()) == {mine.id, far.id, theirs.id}
    assert listed(date=(day - timedelta(days=1)).isoformat()) == set()
    assert listed(hk=patch["hk"].id, flag="none") == {mine.id}


def test_the_queue_filters_by_community_and_lists_its_buildings_only(client, login_as,
                                                                     patch):
    """Thousands of buildings are chosen a community at a time: the page lists the
    communities, and a community's buildings once it is chosen; a building left over
    from another community is dropped, not turned into an empty list."""
    ours = visit(patch["unit"], patch["hk"])
    elsewhere = make_community(name="远方小区")
    away = make_unit(make_building(elsewhere, name="99栋"))
    make_bill(away, 50_000, TODAY - timedelta(days=40))
    theirs = visit(away, patch["hk"])
    login_as(patch["supervisor"])
    community = patch["unit"].building.community_id

    def listed(**args):
        return set(ids_in(client.get("/review", query_string=args).text))

    html = client.get("/review").text
    assert "远方小区" in html and "Choose a community first" in html
    assert f'<option value="{away.building_id}"' not in html
    assert listed(community=community) == {ours.id}
    assert listed(community=elsewhere.id) == {theirs.id}
    html = client.get("/review", query_string={"community": elsewhere.id}).text
    assert re.search(r'<option value="%d"\s*>99栋</option>' % away.building_id, html)
    # The building of the other community: the community alone filters.
    assert listed(community=community, building=away.building_id) == {ours.id}
    # A building alone names its community, which the page then shows chosen.
    html = client.get("/review", query_string={"building": away.building_id}).text
    assert set(ids_in(html)) == {theirs.id}
    assert re.search(r'<option value="%d" selected>远方小区' % elsewhere.id, html)
    options = client.get("/review/buildings", query_string={"community": elsewhere.id},
                         headers=HTMX).text
    assert "<html" not in options and "99栋" in options and "Every building" in options
    assert "Choose a community first" in client.get("/review/buildings").text


def test_an_empty_queue_says_so(client, login_as, patch):
    """Nothing waiting, or nothing matching: a sentence, and a way back to everything."""
    login_as(patch["supervisor"])
    assert "No visit is waiting for review" in client.get("/review").text
    visit(patch["unit"], patch["hk"])
    html = client.get("/review?outcome=refused").text
    assert "matches these filters" in html and 'href="/review"' in html


def test_the_queue_pages_by_keyset_without_gaps(client, login_as, patch):
    """Twenty-five visits: two pages, every visit once, newest first."""
    made = [visit(patch["unit"], patch["hk"]) for _ in range(25)]
    login_as(patch["supervisor"])
    seen, url = [], "/review"
    while url:
        html = client.get(url).text
        seen += ids_in(html)
        found = re.search(r'href="(/review\?[^"]*before=\d+[^"]*)"', html)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert seen == sorted((v.id for v in made), reverse=True)


def test_the_queue_answers_htmx_with_the_list_alone(client, login_as, patch):
    """A filter change swaps the list in; a boosted or plain request gets the page."""
    visit(patch["unit"], patch["hk"])
    login_as(patch["supervisor"])
    fragment = client.get("/review?flag=none", headers=HTMX).text
    assert "<html" not in fragment and "review-item" in fragment
    assert "<html" in client.get("/review?flag=none").text
    assert "<html" in client.get("/review", headers={**HTMX, "HX-Boosted": "true"}).text


def test_bad_filters_are_ignored_or_refused(client, login_as, patch):
    """Unknown flags and outcomes mean no filter; an id no database holds is a 404."""
    v = visit(patch["unit"], patch["hk"])
    login_as(patch["supervisor"])
    assert ids_in(client.get("/review?flag=bogus&outcome=teleported&date=2026-02-30").text) \
        == [v.id]
    assert client.get("/review?hk=99999999999").status_code == 404
    assert client.get("/review?before=abc").status_code == 404


# --- deciding -------------------------------------------------------------------------------

def test_approving_a_clean_visit_from_the_queue(client, login_as, patch):
    """A plain post approves, records the decision and its audit event, and comes back
    to the same page at the next visit."""
    v, after = visit(patch["unit"], patch["hk"]), visit(patch["unit"], patch["hk"])
    login_as(patch["supervisor"])
    r = client.post(f"/review/visits/{v.id}/decision?next=/review%3Fhk%3D{patch['hk'].id}",
                    data={"decision": "approve", "focus_next": str(after.id)})
    assert r.status_code == 303
    assert r.headers["Location"] == f"/review?hk={patch['hk'].id}#visit-{after.id}"
    assert status(v) == "approved"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "review.approve"))
    assert (event.entity_id, event.unit_id, event.user_id) == (v.id, v.unit_id,
                                                               patch["supervisor"].id)
    assert ids_in(client.get("/review").text) == [after.id]


def test_a_flagged_visit_is_approved_only_by_someone_shown_its_flags(client, login_as, patch):
    """From the queue (no flags seen) it is refused with a 409; from its page, which sent
    the flags it showed, it is approved."""
    v = visit(patch["unit"], patch["hk"], at_building=False)
    login_as(patch["supervisor"])
    r = client.post(f"/review/visits/{v.id}/decision", data={"decision": "approve"})
    assert r.status_code == 409 and "open it and look" in r.text and status(v) == "pending"
    page = client.get(f"/visits/{v.id}").text
    seen = re.search(r'name="flags_seen" value="([\d,]+)"', page).group(1)
    assert "No position" in page
    r = client.post(f"/review/visits/{v.id}/decision",
                    data={"decision": "approve", "flags_seen": seen})
    assert r.status_code == 303 and status(v) == "approved"


def test_a_flag_raised_after_the_page_was_opened_must_be_seen_too(client, login_as, patch):
    """The same photo arrives on another unit while the supervisor looks: approving with
    the old list of flags is refused."""
    photo = make_jpeg(color=(40, 90, 140), taken="2026:11:22 10:00:00")
    v = visit(patch["unit"], patch["hk"], photos=[photo])
    login_as(patch["supervisor"])
    seen = re.search(r'name="flags_seen" value="([\d,]*)"',
                     client.get(f"/visits/{v.id}").text).group(1)
    visit(patch["far_unit"], patch["other_hk"], photos=[photo])
    r = client.post(f"/review/visits/{v.id}/decision",
                    data={"decision": "approve", "flags_seen": seen})
    assert r.status_code == 409 and status(v) == "pending"


def test_sending_back_needs_a_comment(client, login_as, patch):
    """No comment: the visit page comes back (422) with the message next to the field."""
    v = visit(patch["unit"], patch["hk"])
    login_as(patch["supervisor"])
    r = client.post(f"/review/visits/{v.id}/decision", data={"decision": "send_back"})
    assert r.status_code == 422 and status(v) == "pending"
    assert 'aria-invalid="true"' in r.text and "Say what the housekeeper should correct" in r.text


def test_a_comment_too_long_comes_back_as_typed(client, login_as, patch):
    """Over 500 characters: refused, the text kept in the field."""
    v = visit(patch["unit"], patch["hk"])
    login_as(patch["supervisor"])
    long = "门" * 501
    r = client.post(f"/review/visits/{v.id}/decision",
                    data={"decision": "send_back", "comment": long})
    assert r.status_code == 422 and long in r.text and status(v) == "pending"


def test_an_unknown_decision_is_refused(client, login_as, patch):
    """Neither approve nor send back: 422, nothing stored."""
    v = visit(patch["unit"], patch["hk"])
    login_as(patch["supervisor"])
    r = client.post(f"/review/visits/{v.id}/decision", data={"decision": "maybe"}, headers=JSON)
    assert r.status_code == 422 and r.json["error"] == "refused" and status(v) == "pending"


def test_a_visit_decided_twice_keeps_the_first_decision(client, login_as, patch):
    """A second decision (another tab, another supervisor) is a 409."""
    v = visit(patch["unit"], patch["hk"])
    login_as(patch["supervisor"])
    assert client.post(f"/review/visits/{v.id}/decision",
                       data={"decision": "send_back", "comment": "补拍门牌"}).status_code == 303
    r = client.post(f"/review/visits/{v.id}/decision", data={"decision": "approve"})
    assert r.status_code == 409 and status(v) == "sent_back"
    assert db.session.scalar(select(func.count()).select_from(ReviewDecision)) == 1


def test_htmx_decisions_swap_the_item(client, login_as, patch):
    """Approved through htmx: a line saying so replaces the item; a refused send-back
    comes back as the item with the message (422)."""
    v, w = visit(patch["unit"], patch["hk"]), visit(patch["unit"], patch["hk"])
    login_as(patch["supervisor"])
    r = client.post(f"/review/visits/{v.id}/decision", data={"decision": "approve"},
                    headers=HTMX)
    assert r.status_code == 200 and "<html" not in r.text and 'data-decided="approved"' in r.text
    r = client.post(f"/review/visits/{w.id}/decision", data={"decision": "send_back"},
                    headers=HTMX)
    assert r.status_code == 422 and "<html" not in r.text
    assert f'id="visit-{w.id}"' in r.text and 'aria-invalid="true"' in r.text


def test_approving_many_takes_the_clean_ones_and_leaves_the_flagged(client, login_as, patch):
    """Clean visits approved in one go, flagged ones left waiting and named as such."""
    clean = [visit(patch["unit"], patch["hk"]) for _ in range(3)]
    flagged = visit(patch["unit"], patch["hk"], at_building=False)
    login_as(patch["supervisor"])
    r = client.post("/review/approve", data={"visit": [v.id for v in clean] + [flagged.id]})
    assert r.status_code == 303
    assert [status(v) for v in clean] == ["approved"] * 3 and status(flagged) == "pending"
    html = client.get("/review").text
    assert "3 visits approved" in html and "1 visit has flags" in html
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "review.approve")) == 3


def test_approving_none_says_what_to_do(client, login_as, patch):
    """An empty selection is refused with a message; nothing changes."""
    login_as(patch["supervisor"])
    r = client.post("/review/approve", data={}, headers=JSON)
    assert r.status_code == 422 and "visit" in r.json["errors"]


def test_only_visits_without_flags_can_be_selected(client, login_as, patch):
    """The queue offers the approve-many checkbox and the approve button on clean visits;
    a flagged one offers opening it instead."""
    clean = visit(patch["unit"], patch["hk"])
    flagged = visit(patch["unit"], patch["hk"], at_building=False)
    login_as(patch["supervisor"])
    html = client.get("/review").text
    item = item_html(html, flagged.id)
    assert "data-select" not in item and "data-approve" not in item and "Open to review" in item
    item = item_html(html, clean.id)
    assert f'value="{clean.id}" form="bulk-approve"' in item and "data-approve" in item


# --- sent back and corrected ------------------------------------------------------------------

def sent_back(patch, comment="门牌号看不清，请补拍"):
    v = visit(patch["unit"], patch["hk"], photos=[make_jpeg(color=(5, 60, 5))])
    decide(db.session, v, patch["supervisor"], Decision.SEND_BACK, comment)
    return v


def test_the_housekeeper_sees_the_send_back_on_today(client, login_as, patch):
    """Today lists it with the supervisor's comment and a way to correct it; another
    housekeeper's Today does not."""
    v = sent_back(patch)
    login_as(patch["hk"])
    html = client.get("/today").text
    section = html[html.index('id="today-sentback"'):]
    assert "Sent back by your supervisor" in html and "门牌号看不清，请补拍" in section
    assert f"/visits/{v.id}" in section
    client.post("/logout")
    login_as(patch["other_hk"])
    assert "门牌号看不清" not in client.get("/today").text


def test_a_correction_is_a_new_record_and_the_visit_goes_back_to_the_queue(client, login_as,
                                                                          patch):
    """A note and a photo: stored as a correction with its photo, the visit untouched
    but waiting for review again, with an audit event; the queue shows the correction."""
    v = sent_back(patch)
    before = {c.name: getattr(v, c.name) for c in Visit.__table__.columns
              if c.name != "review_status"}
    login_as(patch["hk"])
    r = client.post(f"/visits/{v.id}/corrections", content_type="multipart/form-data", data={
        "note": "已补拍门牌", "client_uuid": str(uuid.uuid4()),
        "photos": [(io.BytesIO(make_jpeg(color=(200, 200, 10))), "plate.jpg")]})
    assert r.status_code == 303 and r.headers["Location"] == "/today"
    db.session.expire_all()
    stored = db.session.get(Visit, v.id)
    assert stored.review_status == "pending"
    assert {c.name: getattr(stored, c.name) for c in Visit.__table__.columns
            if c.name != "review_status"} == before
    [correction] = stored.corrections
    assert correction.note == "已补拍门牌" and len(correction.photos) == 1
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "review.correct")).unit_id == v.unit_id
    assert "Sent back by your supervisor" not in client.get("/today").text
    client.post("/logout")
    login_as(patch["supervisor"])
    queue = client.get("/review").text
    assert v.id in ids_in(queue) and "已补拍门牌" in queue and "门牌号看不清，请补拍" in queue
    viewer = client.get(f"/corrections/{correction.id}/photos/1")
    assert viewer.status_code == 200 and "Correction photo 1 / 1" in viewer.text


def test_the_same_correction_sent_twice_is_stored_once(client, login_as, patch):
    """A retry of the same form (same id) is one correction."""
    v = sent_back(patch)
    login_as(patch["hk"])
    form = {"note": "补充说明", "client_uuid": str(uuid.uuid4())}
    assert client.post(f"/visits/{v.id}/corrections", data=form).status_code == 303
    assert client.post(f"/visits/{v.id}/corrections", data=form).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(VisitCorrection)) == 1


def test_an_empty_correction_is_refused_with_the_form_again(client, login_as, patch):
    """No note, no photo: 422 on the visit page, the message by the note field."""
    v = sent_back(patch)
    login_as(patch["hk"])
    r = client.post(f"/visits/{v.id}/corrections", data={"note": "  "})
    assert r.status_code == 422 and "Add a note, photos or both" in r.text
    assert 'aria-invalid="true"' in r.text and status(v) == "sent_back"


def test_a_bad_photo_in_a_correction_keeps_the_note(client, login_as, patch):
    """Not a photo: refused (422) naming the file, the note as typed."""
    v = sent_back(patch)
    login_as(patch["hk"])
    r = client.post(f"/visits/{v.id}/corrections", content_type="multipart/form-data", data={
        "note": "补拍", "photos": [(io.BytesIO(b"not a photo"), "notes.txt")]})
    assert r.status_code == 422 and "notes.txt" in r.text and "补拍</textarea>" in r.text
    assert status(v) == "sent_back"
    assert db.session.scalar(select(func.count()).select_from(VisitCorrection)) == 0


def test_only_a_visit_sent_back_can_be_corrected(client, login_as, patch):
    """A pending visit refuses a correction with a 409; a supervisor may not correct."""
    v = visit(patch["unit"], patch["hk"])
    login_as(patch["hk"])
    r = client.post(f"/visits/{v.id}/corrections", data={"note": "补充"})
    assert r.status_code == 409
    client.post("/logout")
    login_as(patch["supervisor"])
    assert client.post(f"/visits/{v.id}/corrections", data={"note": "x"}).status_code == 403


def test_the_visit_page_shows_flags_photos_and_review_history(client, login_as, patch):
    """Sent back, corrected, then approved: the page lists all three in order."""
    v = sent_back(patch)
    login_as(patch["hk"])
    client.post(f"/visits/{v.id}/corrections", data={"note": "已经补拍"})
    client.post("/logout")
    login_as(patch["supervisor"])
    page = client.get(f"/visits/{v.id}").text
    seen = re.search(r'name="flags_seen" value="([\d,]*)"', page).group(1)
    client.post(f"/review/visits/{v.id}/decision",
                data={"decision": "approve", "flags_seen": seen})
    page = client.get(f"/visits/{v.id}").text
    history = page[page.index('id="history-h"'):]
    steps = re.findall(r'data-decision="(\w+)"|data-correction-id="\d+"', history)
    assert steps == ["send_back", "", "approve"]
    assert "门牌号看不清，请补拍" in history and "已经补拍" in history
    assert "Photo 1 has no capture time" in page and "/visits/%d/photos/1" % v.id in page


def test_supervisors_today_counts_the_visits_waiting(client, login_as, patch):
    """Today links to the queue with how many are waiting."""
    visit(patch["unit"], patch["hk"])
    visit(patch["unit"], patch["hk"])
    login_as(patch["supervisor"])
    assert "2 visits are waiting for your review" in client.get("/today").text


# --- a housekeeper's day ---------------------------------------------------------------------

def test_a_housekeepers_day(client, login_as, patch):
    """Three visits in the order they happened (phone times), the distance between
    them, units covered of their list, the share flagged, promises obtained and kept,
    money paid after the visits."""
    hk, unit = patch["hk"], patch["unit"]
    neighbour = make_unit(unit.building)
    make_bill(neighbour, 50_000, TODAY - timedelta(days=40))
    day = date(2026, 11, 20)
    at = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai
    first = visit(unit, hk, outcome="met_owner", reason="hardship",
                  promise_date="2026-11-30", promise_amount="100")
    second = visit(neighbour, hk, at_building=False)
    third = visit(unit, hk, lat=str(unit.building.lat + 0.0009),
                  lon=str(unit.building.lon), at_building=False)
    for v, minutes in ((first, 0), (second, 20), (third, 45)):
        v.device_time = at + timedelta(minutes=minutes)
        v.created_at = at + timedelta(minutes=minutes, seconds=30)
    db.session.add(Payment(unit_id=unit.id, amount_fen=30_000, paid_on=day + timedelta(days=2)))
    db.session.add(Payment(unit_id=unit.id, amount_fen=99_900, paid_on=day - timedelta(days=5)))
    first.promise.status = PromiseStatus.KEPT
    db.session.commit()
    login_as(patch["supervisor"])
    html = client.get(f"/review/day?hk={hk.id}&date=2026-11-20").text
    metric = dict(re.findall(r'data-metric="(\w+)">([^<]*)', html))
    assert metric["visits"] == "3"
    assert metric["covered"] == "2 of 2"
    assert metric["flagged"].startswith("33%")
    assert (metric["promises"], metric["kept"]) == ("1", "1")
    assert metric["paid"] == "¥300.00"
    path = html[html.index('class="day-path"'):]
    assert re.findall(r'data-visit-id="(\d+)"', path) == [str(v.id) for v in
                                                          (first, second, third)]
    assert re.search(r"(99|100) m in 25 min", path) and "0 m in 20 min" in path
    assert "2026-11-20 10:20" in path


def test_a_day_without_visits_says_so(client, login_as, patch):
    """A day off: the metrics are zero and the path says there were none."""
    login_as(patch["supervisor"])
    html = client.get(f"/review/day?hk={patch['hk'].id}&date=2026-11-01").text
    assert "No visits on this day" in html


def test_a_day_for_someone_who_is_not_a_housekeeper_is_a_404(client, login_as, patch):
    """Only housekeepers have days of visits; a bad id is a 404 too."""
    login_as(patch["supervisor"])
    assert client.get(f"/review/day?hk={patch['supervisor'].id}").status_code == 404
    assert client.get("/review/day?hk=abc").status_code == 404
    assert "Choose a housekeeper" in client.get("/review/day").text
