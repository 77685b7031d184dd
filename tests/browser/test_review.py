"""The review in a browser: a supervisor at a laptop approves and sends back with the
keyboard, approves two clean visits at once, and opens a flagged one before approving
it; the housekeeper on a phone sees the comment on Today and corrects with a note and a
photo. Screenshots of each new screen in both languages and at both phone sizes."""
import re
import uuid

import pytest
from playwright.sync_api import expect

from ..conftest import TODAY
from ..photos import make_jpeg
from .conftest import SHOTS, check_accessibility, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def laptop(browser, live_server):
    """A laptop-sized page (1280 x 800) that fails on console errors, as `page` does."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN",
                                  base_url=live_server)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" and
            "status of 4" not in m.text else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    yield page
    page.close()  # the page first, as conftest.phone_page does
    context.close()
    assert problems == [], problems


@pytest.fixture(scope="module")
def people(live_app):
    """An English-speaking supervisor and housekeeper (the demo users read Chinese); the
    housekeeper works one of housekeeper2's buildings."""
    from fieldapp.extensions import db
    from fieldapp.models import Role, User

    from ..factories import PASSWORD, make_user
    with live_app.app_context():
        hk2 = db.session.query(User).filter_by(username="housekeeper2").one()
        if db.session.query(User).filter_by(username="reviewer-en").first() is None:
            make_user(Role.SUPERVISOR, username="reviewer-en", display_name="Sam Lee",
                      locale="en")
            make_user(Role.HOUSEKEEPER, username="hk-en", display_name="Li Na", locale="en",
                      buildings=[hk2.assignments[0].building])
    return {"supervisor_en": ("reviewer-en", PASSWORD), "hk_en": ("hk-en", PASSWORD)}


def sent_back(live_app, username: str, comment: str) -> int:
    """A visit of this housekeeper with a photo, sent back by the supervisor. It is at a
    unit with nothing overdue, so the route lists of the other tests stay as they were."""
    from sqlalchemy import select

    from fieldapp.clock import company_tz
    from fieldapp.domain.visits import check_visit
    from fieldapp.extensions import db
    from fieldapp.models import Assignment, Decision, Role, Unit, User
    from fieldapp.photos.evidence import Upload
    from fieldapp.photos.storage import storage
    from fieldapp.review.services import decide
    from fieldapp.visits.services import record_visit

    with live_app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        boss = db.session.scalar(select(User).where(User.role == Role.SUPERVISOR)
                                 .order_by(User.id))
        patch = select(Assignment.building_id).where(Assignment.user_id == user.id)
        unit = db.session.scalar(select(Unit).where(Unit.building_id.in_(patch),
                                                    Unit.arrears_fen == 0)
                                 .order_by(Unit.id.desc()))
        form = {"client_uuid": str(uuid.uuid4()), "outcome": "nobody_home",
                "notice_type": "reminder", "delivery": "door",
                "lat": str(unit.building.lat), "lon": str(unit.building.lon)}
        data = check_visit(form, photo_count=1, arrears_fen=0, today=TODAY,
                           promise_horizon_days=30)
        visit, _ = record_visit(db.session, storage(), unit, user, data,
                                [Upload("door.jpg", make_jpeg(640, 480, color=(90, 60, 30)), {})],
                                today=TODAY, tz=company_tz())
        decide(db.session, visit, boss, Decision.SEND_BACK, comment)
        return visit.id


def review_status(live_app, visit_id: int) -> str:
    from fieldapp.extensions import db
    from fieldapp.models import Visit
    with live_app.app_context():
        db.session.expire_all()
        return db.session.get(Visit, visit_id).review_status


def user_id(live_app, username: str) -> int:
    from fieldapp.extensions import db
    from fieldapp.models import User
    with live_app.app_context():
        return db.session.query(User).filter_by(username=username).one().id


def item_ids(page) -> list[int]:
    return [int(x) for x in page.locator(".review-item").evaluate_all(
        "els => els.map(e => e.dataset.visitId)")]


def test_approve_and_send_back_with_the_keyboard_at_a_laptop(laptop, live_app):
    """J focuses the first visit, A approves it (htmx swaps in a line saying so and the
    next visit takes the focus), S goes to the comment, Enter sends it back; X selects
    two more and one click approves both; a flagged visit opens on A and is approved
    from its page."""
    page = laptop
    sign_in(page, "supervisor")
    page.click(".bottom-nav .nav-review")
    expect(page).to_have_url(re.compile(r"/review$"))
    page.select_option("#review-flag", "none")  # htmx swaps the list in place
    expect(page).to_have_url(re.compile(r"flag=none"))
    expect(page.locator(".review-item.flagged")).to_have_count(0)
    first, second, third, fourth = item_ids(page)[:4]
    check_accessibility(page, "review-queue-zh-1280x800")

    page.keyboard.press("j")
    expect(page.locator(f"#visit-{first}")).to_be_focused()
    page.keyboard.press("a")
    expect(page.locator(f'#visit-{first}[data-decided="approved"]')).to_contain_text("已通过")
    expect(page.locator(f"#visit-{second}")).to_be_focused()
    page.keyboard.press("s")
    expect(page.locator(f"#comment-{second}")).to_be_focused()
    page.keyboard.type("门牌照片太模糊，请补拍")
    page.keyboard.press("Enter")
    expect(page.locator(f'#visit-{second}[data-decided="sent_back"]')).to_be_visible()
    expect(page.locator(f"#visit-{third}")).to_be_focused()
    assert (review_status(live_app, first), review_status(live_app, second)) == \
        ("approved", "sent_back")

    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(page.locator(f"#visit-{fourth} [data-select]")).to_be_checked()
    page.get_by_role("button", name="通过所选").click()
    expect(page.locator(".flash")).to_contain_text("已通过 2 条走访")
    assert {review_status(live_app, v) for v in (third, fourth)} == {"approved"}
    assert not {first, second, third, fourth} & set(item_ids(page))

    page.goto("/review?flag=any")
    flagged = item_ids(page)[0]
    expect(page.locator(f"#visit-{flagged} [data-approve]")).to_have_count(0)
    page.keyboard.press("j")
    page.keyboard.press("a")  # a flagged visit opens instead
    expect(page).to_have_url(re.compile(rf"/visits/{flagged}\?next="))
    expect(page.locator(".review-flags li").first).to_be_visible()
    check_accessibility(page, "review-visit-flagged-zh-1280x800")
    page.keyboard.press("a")
    expect(page).to_have_url(re.compile(r"/review\?flag=any"))
    expect(page.locator(".flash")).to_contain_text("已通过")
    assert review_status(live_app, flagged) == "approved"


def test_choosing_a_community_brings_its_buildings_to_the_filter(laptop, live_app):
    """The building list starts empty (an estate has thousands); choosing a community
    swaps its buildings in with htmx, and a building then narrows the queue to it."""
    from sqlalchemy import select

    from fieldapp.extensions import db
    from fieldapp.models import Building, Unit, Visit
    page = laptop
    sign_in(page, "supervisor")
    page.goto("/review")
    building = page.locator("#review-building option")
    expect(building).to_have_count(1)
    with live_app.app_context():
        building_id, community_id = db.session.execute(
            select(Building.id, Building.community_id).join(Unit, Unit.building_id == Building.id)
            .join(Visit, Visit.unit_id == Unit.id).where(Visit.review_status == "pending")
            .order_by(Building.id).limit(1)).one()
        names = list(db.session.scalars(select(Building.name).where(
            Building.community_id == community_id).order_by(Building.id)))
        db.session.remove()
    page.select_option("#review-community", str(community_id))
    expect(building).to_have_count(len(names) + 1)
    assert building.nth(1).inner_text() == names[0]
    page.select_option("#review-building", str(building_id))
    expect(page).to_have_url(re.compile(rf"building={building_id}"))
    expect(page.locator(".review-item").first).to_be_visible()
    with live_app.app_context():
        units = set(db.session.scalars(select(Unit.id).where(Unit.building_id == building_id)))
        shown = [db.session.get(Visit, v).unit_id for v in item_ids(page)]
        db.session.remove()
    assert shown and set(shown) <= units
    check_accessibility(page, "review-queue-one-building-zh-1280x800")


def test_a_refused_send_back_keeps_the_focus_in_the_comment(laptop, live_app):
    """S then Enter with nothing typed: the item comes back with the message next to the
    comment field, which has the focus again."""
    page = laptop
    sign_in(page, "supervisor")
    page.goto("/review?flag=none")
    target = item_ids(page)[0]
    page.keyboard.press("j")
    page.keyboard.press("s")
    page.keyboard.press("Enter")
    field = page.locator(f"#comment-{target}")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#err-comment-{target}")).to_contain_text("请说明管家需要补正什么")
    expect(field).to_be_focused()
    assert review_status(live_app, target) == "pending"


def test_the_housekeeper_sees_the_comment_on_today_and_corrects_on_a_phone(page, live_app):
    """Today shows the send-back with the supervisor's words; the visit page takes a note
    and a photo; the visit goes back to the queue, the original untouched."""
    visit_id = sent_back(live_app, "housekeeper2", "请补拍一张能看清门牌号的照片")
    sign_in(page, "housekeeper2")
    page.click(".bottom-nav .nav-today")
    section = page.locator(".today-sent-back")
    expect(section).to_contain_text("请补拍一张能看清门牌号的照片")
    check_accessibility(page, "today-sent-back-zh-390x844")
    section.locator(f'[data-visit-id="{visit_id}"] a.button').tap()
    expect(page).to_have_url(re.compile(rf"/visits/{visit_id}\?next=/today#correct-h$"))
    expect(page.locator(".sent-back-banner .lead")).to_have_text("请补拍一张能看清门牌号的照片")
    check_accessibility(page, "visit-correct-zh-390x844")
    page.fill("#correction-note", "已补拍门牌，号码清楚")
    page.set_input_files("#correction-photos", files=[{
        "name": "plate.jpg", "mimeType": "image/jpeg",
        "buffer": make_jpeg(800, 600, color=(200, 180, 40), taken="2026:11:22 10:00:00")}])
    expect(page.locator("#correction-chosen")).to_have_text("plate.jpg")
    page.get_by_role("button", name="提交补正").tap()
    expect(page).to_have_url(re.compile(r"/today$"))
    expect(page.locator(".flash")).to_contain_text("补正已提交")
    expect(page.locator(f'.today-sent-back [data-visit-id="{visit_id}"]')).to_have_count(0)
    assert review_status(live_app, visit_id) == "pending"
    from fieldapp.extensions import db
    from fieldapp.models import Visit
    with live_app.app_context():
        visit = db.session.get(Visit, visit_id)
        [correction] = visit.corrections
        assert correction.note == "已补拍门牌，号码清楚" and len(correction.photos) == 1
        assert len(visit.photos) == 1  # the visit as logged


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("width,height", [(390, 844), (360, 740)])
def test_review_screens_on_phones(page, live_app, people, lang, width, height):
    """Every new screen at both phone sizes in both languages, with axe, and nothing wider
    than the phone: the queue, a visit page, a housekeeper's day, Today with a send-back
    and the correction form."""
    page.set_viewport_size({"width": width, "height": height})
    supervisor = people["supervisor_en"] if lang == "en" else ("supervisor", "doorstep-demo")
    housekeeper = people["hk_en"] if lang == "en" else ("housekeeper2", "doorstep-demo")
    visit_id = sent_back(live_app, housekeeper[0], "Photo of the door number, please"
                         if lang == "en" else "请补拍门牌号")
    sign_in(page, *supervisor)
    hk_id = user_id(live_app, "housekeeper1")
    shots = [("review-queue", "/review"), ("review-visit", "/review?flag=any"),
             ("review-day", f"/review/day?hk={hk_id}&date=2026-11-20")]
    for name, url in shots:
        page.goto(url)
        if name == "review-visit":
            page.locator(".review-item [data-open]").first.click()
            expect(page).to_have_url(re.compile(r"/visits/\d+"))
        check_accessibility(page, f"{name}-{lang}-{width}x{height}")
        assert page.evaluate("document.documentElement.scrollWidth") <= width, name
    page.context.clear_cookies()
    sign_in(page, *housekeeper)
    page.goto("/today")
    expect(page.locator(".today-sent-back")).to_be_visible()
    check_accessibility(page, f"today-sent-back-{lang}-{width}x{height}")
    page.goto(f"/visits/{visit_id}")
    expect(page.locator("#correction-note")).to_be_visible()
    check_accessibility(page, f"visit-correct-{lang}-{width}x{height}")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"visit-correct-{lang}-{width}x{height}-full.png"),
                    full_page=True)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_review_screens_at_a_laptop(laptop, live_app, people, lang):
    """The queue, a flagged visit and a day at 1280 x 800, with axe."""
    page = laptop
    sign_in(page, *(people["supervisor_en"] if lang == "en" else ("supervisor", "doorstep-demo")))
    page.goto("/review")
    check_accessibility(page, f"review-queue-{lang}-1280x800")
    page.goto("/review?flag=any")
    page.locator(".review-item [data-open]").first.click()
    check_accessibility(page, f"review-visit-{lang}-1280x800")
    page.goto(f"/review/day?hk={user_id(live_app, 'housekeeper1')}&date=2026-11-20")
    check_accessibility(page, f"review-day-{lang}-1280x800")
