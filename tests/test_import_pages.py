"""The import page and `flask import`: the same job, its progress and its report; the
upload stored outside the repo and bounded; the column names a community adds."""
from __future__ import annotations

import io
import time
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import func, select

from fieldapp.extensions import db
from fieldapp.imports.jobs import STALE_AFTER
from fieldapp.limits import DEFAULT
from fieldapp.models import (
    Bill,
    HeaderAlias,
    ImportJob,
    ImportKind,
    ImportStatus,
    OverdueTally,
    OverdueTallyChange,
    Role,
    Unit,
    utcnow,
)

from .conftest import _empty_tables, make_app
from .factories import PASSWORD, make_community, make_user
from .test_imports import BILLS, UNITS, write_csv

UNITS_CSV = "\n".join(",".join(r) for r in UNITS).encode("gb18030")
BILLS_CSV = "\n".join(",".join(f'"{c}"' for c in r) for r in BILLS).encode("utf-8-sig")


def upload(client, kind, content, name="file.csv", **form):
    return client.post("/imports", data={"kind": kind, "file": (io.BytesIO(content), name),
                                         **form}, content_type="multipart/form-data")


def test_an_admin_imports_units_then_bills_and_sees_the_counts(app, client, login_as):
    """Upload, 303 to the job, which says what it did; the units' arrears follow."""
    login_as(make_user(Role.ADMIN, locale="en"))
    r = upload(client, "units", UNITS_CSV, "units.csv")
    assert r.status_code == 303
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "3 rows imported." in page and "New buildings" in page
    r = upload(client, "bills", BILLS_CSV, "bills.csv")
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "4 rows imported." in page and 'hx-trigger="every' not in page
    assert db.session.scalar(select(func.sum(Unit.arrears_fen))) == 246900 + 8000 + 30000
    # The import's changes to the chips' tally are folded in when it ends (PostgreSQL).
    assert db.session.scalar(select(func.count()).select_from(OverdueTallyChange)) == 0
    assert db.session.scalar(select(func.sum(OverdueTally.arrears_fen))) == 246900 + 38000
    listing = client.get("/imports").get_data(as_text=True)
    assert "bills.csv" in listing and "units.csv" in listing


def test_bad_rows_are_shown_and_downloadable_as_csv(app, client, login_as):
    """A rejected file lists each bad row on the page and in a CSV with a BOM."""
    login_as(make_user(Role.SUPERVISOR, locale="en"))
    upload(client, "units", UNITS_CSV)
    bad = BILLS_CSV + "\n\"B-9\",\"9-9-909\",\"\",\"\",\"\",\"abc\",\"2025-02-30\"".encode()
    r = upload(client, "bills", bad, "bills.csv")
    job_url = r.headers["Location"]
    page = client.get(job_url).get_data(as_text=True)
    assert "1 bad row in 5: nothing was written." in page
    assert page.count('<li data-line="6">') == 3  # unit, amount and date of line 6
    report = client.get(f"{job_url}/problems.csv")
    assert report.headers["Content-Disposition"].startswith("attachment")
    text = report.get_data(as_text=True)
    assert text.startswith("\ufeffLine,Column,Value,Reason")
    assert "6,应收金额（元）,abc," in text
    assert db.session.scalar(select(func.count()).select_from(Bill)) == 0


def test_the_job_fragment_polls_while_running_and_stops_when_done(app, client, login_as):
    """htmx asks for the fragment every second while the job runs; a finished job's
    fragment has no trigger. Without htmx headers the whole page comes."""
    user = make_user(Role.ADMIN, locale="en")
    login_as(user)
    job = ImportJob(kind=ImportKind.BILLS, filename="big.csv", created_by=user.id,
                    status=ImportStatus.RUNNING, phase="checking", rows_done=2500,
                    rows_total=10000, heartbeat_at=utcnow(), errors=[], report={})
    db.session.add(job)
    db.session.commit()
    htmx = {"HX-Request": "true", "HX-Request-Type": "partial", "HX-Target": "section#import-job"}
    fragment = client.get(f"/imports/{job.id}", headers=htmx).get_data(as_text=True)
    assert "<html" not in fragment and 'hx-trigger="every 1s"' in fragment
    assert "2,500 of 10,000 rows" in fragment and 'value="2500"' in fragment
    assert "<html" in client.get(f"/imports/{job.id}").get_data(as_text=True)
    job.status = ImportStatus.DONE
    db.session.commit()
    assert "hx-trigger" not in client.get(f"/imports/{job.id}", headers=htmx).get_data(
        as_text=True)


def test_a_job_whose_process_died_is_shown_as_failed(app, client, login_as):
    """Running, but silent for longer than a job ever is: it died with its worker."""
    user = make_user(Role.ADMIN, locale="en")
    login_as(user)
    job = ImportJob(kind=ImportKind.BILLS, filename="big.csv", created_by=user.id,
                    status=ImportStatus.RUNNING, errors=[], report={},
                    heartbeat_at=utcnow() - STALE_AFTER - timedelta(minutes=1))
    db.session.add(job)
    db.session.commit()
    page = client.get(f"/imports/{job.id}").get_data(as_text=True)
    assert "its process ended before it finished" in page and "hx-trigger" not in page


def test_an_upload_without_a_kind_or_file_is_answered_next_to_the_fields(app, client, login_as):
    """422 with the message beside each field, and nothing stored."""
    login_as(make_user(Role.ADMIN, locale="en"))
    r = client.post("/imports", data={"kind": "spreadsheets"},
                    content_type="multipart/form-data")
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert 'aria-describedby="err-kind"' in page and 'aria-describedby="err-file"' in page
    assert "Choose a CSV or Excel file." in page
    assert db.session.scalar(select(func.count()).select_from(ImportJob)) == 0


def test_an_upload_over_the_limit_is_refused_and_not_kept(db_url, tmp_path):
    """Over `import_bytes` the file is refused with the limit named, and no copy stays."""
    app = make_app(db_url, tmp_path, LIMITS=replace(DEFAULT, import_bytes=1000))
    with app.app_context():
        client = app.test_client()
        user = make_user(Role.ADMIN, locale="en")
        client.post("/login", data={"username": user.username, "password": PASSWORD})
        r = upload(client, "bills", b"x" * 2000)
        assert r.status_code == 422
        assert "The file is larger than 1 KB." in r.get_data(as_text=True)
        assert list((tmp_path / "imports").iterdir()) == []
        assert upload(client, "bills", b"x" * (100 * 1024)).status_code == 413
    _empty_tables(app)


def test_the_import_runs_outside_the_request(db_url, tmp_path):
    """Without IMPORT_INLINE the upload answers at once and a thread of the worker runs
    the job; polling the job page sees it finish."""
    app = make_app(db_url, tmp_path, IMPORT_INLINE=False)
    with app.app_context():
        client = app.test_client()
        user = make_user(Role.ADMIN, locale="en")
        client.post("/login", data={"username": user.username, "password": PASSWORD})
        r = upload(client, "units", UNITS_CSV)
        assert r.status_code == 303
        deadline = time.monotonic() + 30
        while True:
            page = client.get(r.headers["Location"]).get_data(as_text=True)
            if "rows imported" in page or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert "3 rows imported." in page
        db.session.expire_all()
        assert db.session.scalar(select(func.count()).select_from(Unit)) == 3
    _empty_tables(app)


def test_the_command_line_runs_the_same_job(app, runner, tmp_path):
    """`flask import` reports counts, lists bad rows and exits 1 on them, and --dry-run
    writes nothing; each run is a job the page lists."""
    units = write_csv(tmp_path / "units.csv", UNITS, "gb18030")
    done = runner.invoke(args=["import", "units", str(units)])
    assert done.exit_code == 0, done.output
    assert "Imported 3 rows of units: created 3" in done.output
    bills = write_csv(tmp_path / "bills.csv", BILLS)
    dry = runner.invoke(args=["import", "bills", str(bills), "--dry-run"])
    assert "Checked 4 rows" in dry.output and "nothing written" in dry.output
    assert db.session.scalar(select(func.count()).select_from(Bill)) == 0
    bad = write_csv(tmp_path / "bad.csv", [*BILLS, ["B-9", "3-2-1502", "", "", "", "x", "y"]])
    failed = runner.invoke(args=["import", "bills", str(bad)])
    assert failed.exit_code == 1
    assert "line 6, 应收金额（元）" in failed.output and "nothing was written" in failed.output
    assert runner.invoke(args=["import", "bills", str(bills), "--community", "999"]
                         ).exit_code == 1
    assert db.session.scalar(select(func.count()).select_from(ImportJob)) == 3


def test_a_community_adds_and_removes_column_names(app, client, login_as):
    """The column-name page adds an alias (a known one is refused beside the field)
    and removes it; both are audited."""
    community = make_community(name="阳光花园")
    login_as(make_user(Role.ADMIN, locale="en"))
    r = client.post("/imports/headers", data={"community": community.id, "kind": "bills",
                                              "field": "amount", "alias": "本期应收（元）"})
    assert r.status_code == 303
    alias = db.session.scalar(select(HeaderAlias))
    assert (alias.alias, alias.field) == ("本期应收", "amount")
    assert "本期应收" in client.get(r.headers["Location"]).get_data(as_text=True)
    again = client.post("/imports/headers", data={"community": community.id, "kind": "bills",
                                                  "field": "amount", "alias": "应收金额"})
    assert again.status_code == 422
    assert 'aria-describedby="err-alias-bills"' in again.get_data(as_text=True)
    assert client.post(f"/imports/headers/{alias.id}/delete").status_code == 303
    assert db.session.scalar(select(func.count()).select_from(HeaderAlias)) == 0
