"""An admin imports a bills file on the web page: the job runs in the background, the
page shows its progress by polling and survives a reload, and a file with bad rows ends
in the bad-row report (so nothing is written to the shared demo database)."""
import csv
import re
import threading

import pytest
from playwright.sync_api import expect

from .conftest import SHOTS, check_accessibility, choose, sign_in

pytestmark = pytest.mark.browser
ROWS = 600_000
BAD_LINES = (1_001, 450_001, ROWS + 1)


@pytest.fixture(scope="module")
def big_bills(live_app, tmp_path_factory):
    """600,000 bills of the demo's units by their billing ids, three of them bad."""
    from sqlalchemy import select

    from fieldapp.extensions import db
    from fieldapp.models import Unit
    with live_app.app_context():
        units = list(db.session.scalars(select(Unit.external_id).where(
            Unit.external_id.is_not(None)).order_by(Unit.id)))
    path = tmp_path_factory.mktemp("import") / "应收账单-2026年12月.csv"
    with path.open("w", encoding="gb18030", newline="") as f:
        w = csv.writer(f)
        w.writerow(["单据号", "房屋编号", "收费项目", "应收金额（元）", "应缴日期"])
        for i in range(1, ROWS + 1):
            line = i + 1
            due = "2026年12月15日" if line not in BAD_LINES else "2026年2月30日"
            unit = units[i % len(units)] if line != BAD_LINES[1] else "不存在的房屋"
            w.writerow([f"BR-{i:07d}", unit, "物业管理费", f"{1000 + i % 900:,}.50", due])
    return path


@pytest.fixture(scope="module")
def english_admin(live_app):
    from fieldapp.extensions import db
    from fieldapp.models import Role, User

    from ..factories import PASSWORD, make_user
    with live_app.app_context():
        if db.session.query(User).filter_by(username="admin-en").first() is None:
            make_user(Role.ADMIN, username="admin-en", display_name="Ada Wu", locale="en")
    return "admin-en", PASSWORD


@pytest.fixture
def held_import(monkeypatch):
    """Holds the background job once it has reported checking a third of the rows,
    until the test releases it: the progress and reload checks must not race a fast
    machine (on CI the whole file was checked before the reload)."""
    from fieldapp.imports import jobs

    release = threading.Event()
    held = threading.Event()
    report = jobs.Reporter.__call__

    def holding(self, phase, done, total):
        report(self, phase, done, total)
        if phase == "checking" and done >= ROWS // 3 and not release.is_set():
            self.last = 0.0  # the next report after the hold is written, not skipped
            report(self, phase, done, total)
            held.set()
            release.wait(120)

    monkeypatch.setattr(jobs.Reporter, "__call__", holding)
    yield held, release
    release.set()


def test_an_admin_imports_a_file_sees_progress_and_the_bad_row_report(page, big_bills,
                                                                       held_import):
    """Choose the kind, the file, import: the job page polls its progress, a reload
    keeps it, and the end is the report with every bad row and its CSV."""
    held, release = held_import
    sign_in(page, "admin")
    page.click(".bottom-nav .nav-admin")
    page.click(".admin-hub a[href='/imports']")
    expect(page).to_have_url(re.compile(r"/imports$"))
    check_accessibility(page, "imports-zh-390x844")
    choose(page, "kind", "bills")
    page.set_input_files("#file", str(big_bills))
    page.get_by_role("button", name="上传并导入").click()
    expect(page).to_have_url(re.compile(r"/imports/\d+$"))
    job = page.locator("#import-job")
    expect(job).to_have_attribute("data-status", re.compile("queued|running"))
    expect(job.locator("progress")).to_be_visible()
    assert held.wait(60), "the import never reached a third of the rows"
    expect(job).to_contain_text(re.compile(r"正在检查.*行中的"), timeout=10_000)
    expect(job.locator("progress")).to_have_attribute(
        "value", re.compile(r"^[1-9]\d*$"), timeout=10_000)  # a poll has shown the rows done
    done = int(job.locator("progress").get_attribute("value"))
    page.screenshot(path=str(SHOTS / "import-progress-zh-390x844.png"))
    page.reload()
    expect(page.locator("#import-job progress")).to_be_visible()
    assert int(page.locator("#import-job progress").get_attribute("value") or 0) >= done
    check_accessibility(page, "import-progress-zh-after-reload")
    release.set()
    expect(page.locator("#import-job")).to_have_attribute("data-status", "rejected",
                                                          timeout=120_000)
    expect(page.locator("#import-job [role=alert]")).to_contain_text("3 行错误")
    rows = page.locator(".import-problems li")
    expect(rows).to_have_count(4)  # line 450,001 has a bad unit and a bad date
    assert [rows.nth(i).get_attribute("data-line") for i in range(4)] == \
        [str(BAD_LINES[0]), str(BAD_LINES[1]), str(BAD_LINES[1]), str(BAD_LINES[2])]
    expect(page.locator(".import-problems")).to_contain_text("不存在的房屋")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载错误行（CSV）").click()
    report = download.value.path().read_text(encoding="utf-8-sig")
    assert report.count("\n") == 5 and "应缴日期" in report
    check_accessibility(page, "import-report-zh-390x844")


def test_an_upload_without_a_file_says_so_next_to_the_field(page):
    """No file chosen: the page comes back with the choice kept and the message."""
    sign_in(page, "admin")
    page.goto("/imports")
    choose(page, "kind", "units")
    page.get_by_role("button", name="上传并导入").click()
    expect(page.locator("#err-file")).to_be_visible()
    expect(page.locator("#file")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("input[name=kind][value=units]")).to_be_checked()
    check_accessibility(page, "imports-refused")


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("width,height", [(390, 844), (360, 740)])
def test_import_screens_at_both_phone_sizes(page, english_admin, lang, width, height):
    """The import page, the last job's report and the column names, for people to look
    at: nothing wider than the phone."""
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, *english_admin) if lang == "en" else sign_in(page, "admin")
    page.goto("/imports")
    name = f"{lang}-{width}x{height}"
    check_accessibility(page, f"imports-{name}")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    last = page.locator(".import-jobs a").first
    if last.count():
        last.click()
        expect(page.locator("#import-job")).to_be_visible()
        check_accessibility(page, f"import-job-{name}")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.goto("/imports/headers")
    check_accessibility(page, f"import-headers-{name}")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
