"""Operations: photo sweeping, crash safety of an upload, backup and restore."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, insert, make_url, select, text

from fieldapp import ops
from fieldapp.extensions import db
from fieldapp.models import AuditEvent, Photo, Promise, Role, ServiceCategory, Visit, \
    VisitPhoto, overdue_tally
from fieldapp.photos.evidence import Upload
from fieldapp.photos.pipeline import sha256_of
from fieldapp.photos.storage import LocalStorage, photo_keys, storage
from fieldapp.workorders.services import ComplaintInput, file_complaint

from .conftest import _empty_tables
from .crash_visit import SHANGHAI, visit_with_photo
from .factories import TODAY, make_bill, make_payment, make_unit, make_user
from .photos import make_jpeg

ROOT = Path(__file__).resolve().parent.parent
HOUR = 3600

@pytest.fixture
def door(app):
    unit = make_unit()
    make_bill(unit, 80_000, TODAY - timedelta(days=70))
    return unit, make_user(Role.HOUSEKEEPER, buildings=[unit.building])


def age(upload_dir: str, seconds: int) -> None:
    """Make every stored file look `seconds` older than now."""
    then = time.time() - seconds
    for path in Path(upload_dir).rglob("*"):
        if path.is_file():
            os.utime(path, (then, then))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def listed(output: str) -> set[str]:
    return {line.split()[2] for line in output.splitlines() if line.startswith("would remove")}


def test_a_process_killed_mid_upload_leaves_no_rows_and_the_sweep_takes_its_files(
        app, db_url, runner, door, request):
    """SIGKILL at commit: the visit is wholly absent; its photo files are orphans that
    photos-gc lists once past the grace period and removes, sparing a committed photo."""
    unit, hk = door
    kept = sha256_of(kept_jpeg := make_jpeg(color=(9, 9, 9)))
    visit_with_photo(db.session, storage(), unit, hk, kept_jpeg)
    lost_jpeg = make_jpeg(color=(1, 2, 3))
    proc = subprocess.run(
        [sys.executable, "-m", "tests.crash_visit", db_url, app.config["UPLOAD_DIR"],
         str(unit.id), str(hk.id)], input=lost_jpeg, cwd=ROOT, capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    assert b"flushed" in proc.stdout

    db.session.rollback()
    assert (count(Visit), count(VisitPhoto), count(Photo), count(Promise)) == (1, 1, 1, 1)
    lost = photo_keys(sha256_of(lost_jpeg))
    assert all(storage().exists(k) for k in lost.values())

    assert listed(runner.invoke(args=["photos-gc"]).output) == set()  # still in its grace
    age(app.config["UPLOAD_DIR"], 2 * HOUR)
    dry = runner.invoke(args=["photos-gc"])
    assert dry.exit_code == 0 and listed(dry.output) == set(lost.values())
    assert "3 files" in dry.output and all(storage().exists(k) for k in lost.values())

    swept = runner.invoke(args=["photos-gc", "--delete", "--older-than", "0"])
    assert swept.exit_code == 0 and "Removed 3 files" in swept.output
    assert not any(storage().exists(k) for k in lost.values())
    assert all(storage().exists(k) for k in photo_keys(kept).values())
    assert storage().get(photo_keys(kept)["original"]) == kept_jpeg


def test_sweep_takes_partial_writes_and_stray_names_but_never_a_photo_s_files(app, door):
    unit, hk = door
    kept = visit_with_photo(db.session, storage(), unit, hk, make_jpeg()).photos[0].photo.sha256
    root = Path(app.config["UPLOAD_DIR"])
    strays = [f"originals/{kept[:2]}/.tmp-a1b2", f"originals/zz/{kept}", "thumbs/ab/notes.txt",
              f"display/{kept[:2]}/{kept}"]
    for key in strays:
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(b"stray")
    (root / "notices").mkdir()
    (root / "notices" / "letter.pdf").write_bytes(b"not a photo file")
    age(str(root), 2 * HOUR)
    fresh = root / "originals" / "ab" / ".tmp-fresh"
    fresh.parent.mkdir(parents=True, exist_ok=True)
    fresh.write_bytes(b"still being written")

    orphans = ops.find_orphans(db.engine, storage(), timedelta(hours=1))
    assert sorted(o.key for o in orphans) == sorted(strays)
    assert [o.partial for o in orphans if o.key.endswith(".tmp-a1b2")] == [True]
    assert ops.remove(storage(), orphans) == 4
    assert all(storage().exists(k) for k in photo_keys(kept).values())
    assert fresh.exists() and (root / "notices" / "letter.pdf").exists()


def test_sweep_spares_a_photo_committed_while_it_listed(app, door, monkeypatch):
    """The candidates are checked against the database again just before the answer."""
    unit, hk = door
    jpeg = make_jpeg(color=(5, 6, 7))
    keys = photo_keys(sha256_of(jpeg))
    for key in keys.values():
        storage().put(key, b"bytes")
    age(app.config["UPLOAD_DIR"], 2 * HOUR)
    listing = storage().keys

    def list_then_commit(prefix=""):
        entries = list(listing(prefix))
        if prefix == "thumbs/":
            visit_with_photo(db.session, storage(), unit, hk, jpeg)
        return iter(entries)

    monkeypatch.setattr(storage(), "keys", list_then_commit)
    assert ops.find_orphans(db.engine, storage(), timedelta(hours=1)) == []


@pytest.fixture
def evidence(app, door):
    """An estate with bills, a payment, a visit with a photo and a complaint whose work
    order has its own photo."""
    unit, hk = door
    other = make_unit(unit.building, owner="李娜")
    make_bill(other, 45_000, TODAY - timedelta(days=20), period="2026-10")
    make_payment(other, 10_000, TODAY - timedelta(days=3))
    visit_with_photo(db.session, storage(), unit, hk, make_jpeg(color=(40, 80, 120)))
    file_complaint(db.session, storage(), unit, hk,
                   ComplaintInput(str(uuid.uuid4()), ServiceCategory.LEAK, "屋顶漏水"),
                   [Upload("leak.jpg", make_jpeg(color=(90, 10, 10)), {})], tz=SHANGHAI)
    return unit, hk


def rows() -> dict[str, list[tuple]]:
    """Every row of every table, all columns, by primary key; not the count of rule
    changes, which a restore moves on (test_a_restore_moves_the_count_of_rule_changes_on),
    and of the tally what it says (its rows and its log of changes, summed; a restore
    counts them again)."""
    db.session.remove()
    c = overdue_tally.CURRENT.c
    tally = select(c.community_id, c.due, c.on_hold, func.sum(c.units),
                   func.sum(c.arrears_fen)).group_by(c.community_id, c.due, c.on_hold) \
        .having(func.sum(c.units) != 0).order_by(c.community_id, c.due, c.on_hold)
    with db.engine.connect() as conn:
        found = {t.name: [tuple(r) for r in conn.execute(
            select(t).order_by(*t.primary_key.columns))] for t in db.metadata.sorted_tables
            if t.name != "estate_version" and t.name not in overdue_tally.TABLES}
        found["tally, summed"] = [tuple(r) for r in conn.execute(tally)]
        return found


def rule_count() -> int:
    db.session.remove()
    with db.engine.connect() as conn:
        return conn.scalar(text("SELECT n FROM estate_version WHERE id = 1"))


def stored_files(upload_dir: str) -> dict[str, str]:
    root = Path(upload_dir)
    return {p.relative_to(root).as_posix(): sha256_of(p.read_bytes())
            for p in root.rglob("*") if p.is_file()}


def wipe(app) -> None:
    _empty_tables(app)
    shutil.rmtree(app.config["UPLOAD_DIR"], ignore_errors=True)


def test_backup_then_restore_gives_back_every_row_and_photo_file(app, runner, evidence,
                                                                 tmp_path):
    before, files = rows(), stored_files(app.config["UPLOAD_DIR"])
    assert len(files) == 6 and all(before[t] for t in ("visit", "work_order", "photo"))
    dest = tmp_path / "backup"
    made = runner.invoke(args=["backup", str(dest)])
    assert made.exit_code == 0, made.output
    manifest = json.loads((dest / "manifest.json").read_text())
    assert manifest["dialect"] == db.engine.dialect.name
    assert manifest["alembic_revision"] is None  # the tests' schema comes from create_all()
    assert {t: len(r) for t, r in before.items() if t != "tally, summed"}.items() \
        <= manifest["tables"].items()
    assert manifest["photos"] == files

    wipe(app)
    assert rows() != before
    restored = runner.invoke(args=["restore", str(dest)])
    assert restored.exit_code == 0, restored.output
    assert "visit" in restored.output
    assert rows() == before
    assert stored_files(app.config["UPLOAD_DIR"]) == files
    make_unit()  # ids go on from where they were


def test_a_restore_moves_the_count_of_rule_changes_on(app, runner, evidence, tmp_path):
    """Servers that kept rules under a count seen before the restore read them again."""
    at_backup = rule_count()
    assert runner.invoke(args=["backup", str(tmp_path / "b")]).exit_code == 0
    make_unit()  # a change since: its count is one an app server may have kept rules under
    seen = rule_count()
    wipe(app)
    assert runner.invoke(args=["restore", str(tmp_path / "b")]).exit_code == 0
    assert rule_count() > seen > at_backup


def test_restore_refuses_a_database_with_rows_unless_forced(app, runner, evidence, tmp_path):
    before = rows()
    assert runner.invoke(args=["backup", str(tmp_path / "b")]).exit_code == 0
    extra = make_unit().id
    refused = runner.invoke(args=["restore", str(tmp_path / "b")])
    assert refused.exit_code != 0 and "not empty" in refused.output
    assert "--force" in refused.output
    assert extra in [r[0] for r in rows()["unit"]]
    forced = runner.invoke(args=["restore", str(tmp_path / "b"), "--force"])
    assert forced.exit_code == 0, forced.output
    assert rows() == before


def test_a_tampered_photo_in_the_backup_fails_the_restore_naming_it(app, runner, evidence,
                                                                    tmp_path):
    """The photos are checked before the database is touched: nothing is restored."""
    assert runner.invoke(args=["backup", str(tmp_path / "b")]).exit_code == 0
    original = next((tmp_path / "b" / "photos" / "originals").rglob("*"))
    while original.is_dir():
        original = next(original.iterdir())
    original.write_bytes(original.read_bytes()[:-1] + b"\x00")
    key = original.relative_to(tmp_path / "b" / "photos").as_posix()
    wipe(app)
    failed = runner.invoke(args=["restore", str(tmp_path / "b")])
    assert failed.exit_code != 0 and key in failed.output
    assert not any(rows().values())


def test_backup_refuses_a_folder_with_files_and_a_damaged_original(app, runner, evidence,
                                                                   tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "old.txt").write_text("x")
    r = runner.invoke(args=["backup", str(tmp_path / "full")])
    assert r.exit_code != 0 and "not an empty folder" in r.output
    sha = db.session.scalar(select(Photo.sha256).limit(1))
    Path(app.config["UPLOAD_DIR"], photo_keys(sha)["original"]).write_bytes(b"rotten")
    r = runner.invoke(args=["backup", str(tmp_path / "new")])
    assert r.exit_code != 0 and photo_keys(sha)["original"] in r.output
    assert not (tmp_path / "new" / "manifest.json").exists()
    assert "no manifest.json" in runner.invoke(args=["restore", str(tmp_path / "new")]).output


def test_alembic_revision_is_recorded_and_a_migrated_empty_database_counts_as_empty(
        app, runner, door, tmp_path):
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)"))
        conn.execute(text("INSERT INTO alembic_version VALUES ('abc123def456')"))
    try:
        before = rows()
        assert runner.invoke(args=["backup", str(tmp_path / "b")]).exit_code == 0
        manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
        assert manifest["alembic_revision"] == "abc123def456"
        _empty_tables(app)
        r = runner.invoke(args=["restore", str(tmp_path / "b")])
        assert r.exit_code == 0, r.output
        assert rows() == before
    finally:
        db.session.remove()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


def test_a_missing_client_tool_version_is_named():
    with pytest.raises(ops.OpsError, match="pg_dump for PostgreSQL 99 not found"):
        ops.find_pg_tool("pg_dump", 99)


def test_pg_dump_gets_the_password_from_the_environment_not_the_command_line(
        postgresql_url, tmp_path, monkeypatch):
    """Trust authentication ignores the password, so it can be any word for this test."""
    engine = create_engine(make_url(postgresql_url).set(password="s3cret-w0rd"))
    calls = []
    run = subprocess.run

    def spy(command, **kwargs):
        calls.append((command, kwargs.get("env") or {}))
        return run(command, **kwargs)

    monkeypatch.setattr(ops.subprocess, "run", spy)
    try:
        ops.backup(engine, LocalStorage(tmp_path / "uploads"), tmp_path / "b")
    finally:
        engine.dispose()
    (dump, env), = [c for c in calls if "--version" not in c[0]]
    assert Path(dump[0]).name == "pg_dump" and not any("s3cret" in arg for arg in dump)
    assert env["PGPASSWORD"] == "s3cret-w0rd"


def test_backup_taken_while_the_app_writes_restores_to_its_own_manifest(app, runner, door,
                                                                        tmp_path):
    """Counts and copy come from one snapshot, so rows written meanwhile are in both or
    neither, and the restore's count check passes."""
    stop, written, engine = threading.Event(), [], db.engine

    def write() -> None:
        while not stop.is_set():
            with engine.begin() as conn:
                conn.execute(insert(AuditEvent).values(action="test.tick", entity="unit",
                                                       detail={}))
            written.append(1)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while len(written) < 20 and writer.is_alive():
            time.sleep(0.01)
        made = runner.invoke(args=["backup", str(tmp_path / "b")])
    finally:
        stop.set()
        writer.join()
    assert made.exit_code == 0, made.output
    saved = json.loads((tmp_path / "b" / "manifest.json").read_text())["tables"]["audit_event"]
    assert 20 <= saved <= len(written)
    wipe(app)
    restored = runner.invoke(args=["restore", str(tmp_path / "b")])
    assert restored.exit_code == 0, restored.output
    assert count(AuditEvent) == saved
