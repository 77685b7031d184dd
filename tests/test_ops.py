"""Operations: photo sweeping, crash safety of an upload, backup and restore."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from fieldapp import ops
from fieldapp.extensions import db
from fieldapp.models import Photo, Promise, Role, Visit, VisitPhoto
from fieldapp.photos.pipeline import sha256_of
from fieldapp.photos.storage import photo_keys, storage

from .crash_visit import visit_with_photo
from .factories import TODAY, make_bill, make_unit, make_user
from .photos import make_jpeg

ROOT = Path(__file__).resolve().parent.parent
HOUR = 3600
# pysqlite opens no transaction before a SELECT, so store_photos' SAVEPOINT becomes the
# outer transaction and its RELEASE commits the Photo row before the visit exists.
SQLITE_SAVEPOINT_COMMITS = ("on SQLite the Photo row of a killed upload survives: "
                            "begin_nested() in photos/evidence.py commits it on release")


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
    if db.engine.dialect.name == "sqlite":
        request.node.add_marker(pytest.mark.xfail(strict=True, reason=SQLITE_SAVEPOINT_COMMITS))
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
