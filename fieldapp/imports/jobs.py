"""Import jobs: the uploaded file kept under the instance folder, the job row that holds
state, progress and report (so any worker answers a poll and a reload shows where it
is), and the run itself, outside the request, in a thread of the long-lived worker.
A job whose heartbeat stopped (its process died) is shown as failed."""
from __future__ import annotations

import threading
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlalchemy.exc import OperationalError

from ..clock import today
from ..extensions import db
from ..models import ImportJob, ImportKind, ImportStatus, User, record_audit, utcnow
from ..models.overdue_tally import fold_apart
from .pipeline import Outcome, run_import

# A running job reports at least this often; silent for longer, it has died.
STALE_AFTER = timedelta(minutes=10)
REPORT_EVERY_S = 0.5
COPY_CHUNK = 1 << 20


class TooLarge(ValueError):
    """The upload is over the import limit."""


def import_dir(app: Flask | None = None) -> Path:
    app = app or current_app
    path = Path(app.config["IMPORT_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def store_upload(stream, limit: int) -> tuple[str, int]:
    """Copy an upload to the import folder; returns its name there and its size."""
    name = f"{uuid.uuid4().hex}.upload"
    target = import_dir() / name
    size = 0
    try:
        with target.open("wb") as out:
            while chunk := stream.read(COPY_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise TooLarge(name)
                out.write(chunk)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return name, size


def create_job(user: User | None, kind: ImportKind, filename: str, *, stored_as: str = "",
               size: int = 0, community_id: int | None = None, dry_run: bool = False,
               locale: str = "en") -> ImportJob:
    job = ImportJob(kind=kind, filename=filename[:255], stored_as=stored_as, size_bytes=size,
                    community_id=community_id, dry_run=dry_run,
                    created_by=user.id if user else None, locale=locale,
                    status=ImportStatus.QUEUED, errors=[], report={})
    db.session.add(job)
    db.session.flush()
    record_audit(user, "import.upload", "import_job", job.id, kind=kind.value,
                 file=job.filename, bytes=size, check_only=dry_run)
    return job


def start(app: Flask, job_id: int) -> None:
    """Run the job outside the request (inline when IMPORT_INLINE is set, for tests)."""
    if app.config.get("IMPORT_INLINE"):
        run_job(app, job_id)
        return
    threading.Thread(target=run_job, args=(app, job_id), name=f"import-{job_id}",
                     daemon=True).start()


def run_job(app: Flask, job_id: int) -> None:
    """The background side: its own app context, session and connection for progress."""
    with app.app_context():
        try:
            job = db.session.get(ImportJob, job_id)
            if job is None or job.status != ImportStatus.QUEUED:
                return
            execute(job, import_dir(app) / job.stored_as)
        finally:
            db.session.remove()


def execute(job: ImportJob, path: Path, progress=None) -> Outcome:
    """Run `job` on the file at `path` and record how it ended; the data and the job's
    final state are committed together."""
    session = db.session
    job.status, job.started_at, job.heartbeat_at = ImportStatus.RUNNING, utcnow(), utcnow()
    session.commit()
    reporter = Reporter(job.id, progress)
    user = session.get(User, job.created_by) if job.created_by else None
    try:
        outcome = run_import(session, job.kind, path, today=today(),
                             community_id=job.community_id, user=user, dry_run=job.dry_run,
                             progress=reporter, job_id=job.id, locale=job.locale)
    except Exception as e:  # the job must end, whatever broke
        session.rollback()
        current_app.logger.exception("import job %s failed", job.id)
        with force_locale(job.locale):
            outcome = Outcome(ImportStatus.FAILED, message=str(_l(
                "The import stopped on an error and wrote nothing: %(error)s",
                error=str(e)[:300])))
    finally:
        reporter.close()
    job = session.get(ImportJob, job.id)
    job.status = outcome.status
    job.rows_done = job.rows_total = outcome.rows
    job.errors = [p.as_list() for p in outcome.problems]
    job.error_count = outcome.problem_count
    job.report = outcome.report
    job.message = outcome.message[:500]
    job.phase = ""
    job.finished_at = job.heartbeat_at = utcnow()
    session.commit()
    # An import changes thousands of units: their changes to the chips' tally folded in.
    fold_apart(db.engine)
    return outcome


class Reporter:
    """Progress to the job row through a connection of its own, in short transactions,
    at most twice a second. On SQLite the import's write phase holds the write lock:
    a report that would wait is skipped rather than slowing the import."""

    def __init__(self, job_id: int, echo=None):
        self.job_id = job_id
        self.echo = echo
        self.last = 0.0
        self.phase = ""
        self.connection = None

    def __call__(self, phase: str, done: int, total: int) -> None:
        if self.echo is not None:
            self.echo(phase, done, total)
        now = time.monotonic()
        if phase == self.phase and now - self.last < REPORT_EVERY_S:
            return
        self.phase, self.last = phase, now
        try:
            if self.connection is None:
                self.connection = db.engine.connect()
                if self.connection.dialect.name == "sqlite":
                    self.connection.exec_driver_sql("PRAGMA busy_timeout = 50")
                    self.connection.commit()
            with self.connection.begin():
                self.connection.execute(update(ImportJob).where(ImportJob.id == self.job_id)
                                        .values(phase=phase, rows_done=done, rows_total=total,
                                                heartbeat_at=utcnow()))
        except OperationalError:
            pass

    def close(self) -> None:
        if self.connection is not None:
            if self.connection.dialect.name == "sqlite":
                self.connection.exec_driver_sql("PRAGMA busy_timeout = 5000")  # pysqlite's
                self.connection.commit()
            self.connection.close()


def effective_status(job: ImportJob, now: datetime | None = None) -> ImportStatus:
    """What the job is: a queued or running job whose process stopped reporting failed."""
    if job.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        return job.status
    last = job.heartbeat_at or job.created_at
    if (now or utcnow()) - last > STALE_AFTER:
        return ImportStatus.FAILED
    return job.status
