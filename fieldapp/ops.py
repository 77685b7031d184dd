"""Operations on the database and the photo store: the nightly refresh, sweeping files
no photo owns, backup and restore. Plain functions; the click commands in cli.py only
parse and print."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess  # nosec B404 -- pg_dump/pg_restore by path with argument lists
import time
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, inspect, select, table, text
from sqlalchemy.engine import URL, Connection, Engine

from .models import Photo
from .models import overdue_tally
from .models.estate_version import trigger_ddl
from .photos.pipeline import sha256_of
from .photos.storage import Storage, StoredKey, photo_keys

PHOTO_PREFIXES = ("originals/", "display/", "thumbs/")
RECHECK_BATCH = 500
MANIFEST = "manifest.json"
PHOTOS_DIR = "photos"
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
PG_VERSIONED_BINS = Path("/usr/lib/postgresql")


class OpsError(Exception):
    """A check failed; the message tells the operator what and where."""


def photo_shas(engine: Engine) -> Iterator[str]:
    """Every Photo's sha256, streamed so a large table is not loaded at once."""
    with engine.connect() as conn:
        rows = conn.execution_options(yield_per=10_000).execute(select(Photo.sha256))
        yield from rows.scalars()


def owner_sha(key: str) -> str | None:
    """The sha256 a key would belong to, if it is exactly one of a photo's keys."""
    name = key.rsplit("/", 1)[-1].removesuffix(".jpg")
    if len(name) != 64:
        return None
    return name if key in photo_keys(name).values() else None


def find_orphans(engine: Engine, store: Storage, older_than: timedelta,
                 now: datetime | None = None) -> list[StoredKey]:
    """Files no Photo row points at, and partial writes, last touched before the grace
    period: an upload whose transaction still runs is younger than that."""
    cutoff = (now or datetime.now(timezone.utc)) - older_than
    known = set(photo_shas(engine))
    candidates = [entry for prefix in PHOTO_PREFIXES for entry in store.keys(prefix)
                  if entry.modified <= cutoff
                  and (entry.partial or owner_sha(entry.key) not in known)]
    return _drop_committed_since(engine, candidates)


def _drop_committed_since(engine: Engine, candidates: list[StoredKey]) -> list[StoredKey]:
    """Ask again for the candidates' photos: one may have been committed meanwhile."""
    shas = sorted({s for s in map(owner_sha, (c.key for c in candidates if not c.partial)) if s})
    committed: set[str] = set()
    with engine.connect() as conn:
        for i in range(0, len(shas), RECHECK_BATCH):
            batch = shas[i:i + RECHECK_BATCH]
            committed.update(conn.scalars(select(Photo.sha256).where(Photo.sha256.in_(batch))))
    return [c for c in candidates if c.partial or owner_sha(c.key) not in committed]


def remove(store: Storage, files: Iterable[StoredKey]) -> int:
    """Delete the files; returns how many."""
    n = 0
    for entry in files:
        store.delete(entry.key)
        n += 1
    return n


def backup(engine: Engine, store: Storage, dest: Path) -> dict:
    """Database first, then photos: a photo's files are stored before its row commits, so
    every photo the database copy names is in the photo copy. The manifest comes last."""
    dialect = _dialect(engine)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise OpsError(f"{dest} exists and is not an empty folder.")
    dest.mkdir(parents=True, exist_ok=True)
    db_file = dest / DATABASE_FILES[dialect]
    if dialect == "sqlite":
        counts, revision = _sqlite_backup(engine, db_file)
    else:
        counts, revision = _pg_backup(engine, db_file)
    manifest = {"created_at": datetime.now(timezone.utc).isoformat(), "dialect": dialect,
                "alembic_revision": revision, "tables": counts,
                "database": {"file": db_file.name, "sha256": _file_sha256(db_file)},
                "photos": _copy_photos_out(store, dest / PHOTOS_DIR)}
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return manifest


def restore(engine: Engine, store: Storage, src: Path, *, force: bool = False) -> dict[str, int]:
    """Photos first, verified, then the database: a bad backup is found before anything
    is replaced. Returns the row count per table, as the manifest says it must be."""
    manifest = read_manifest(src)
    db_file = _checked_database_file(engine, src, manifest)
    _check_target_empty(engine, force)
    _copy_photos_in(store, src / PHOTOS_DIR, manifest["photos"])
    engine.dispose()
    if engine.dialect.name == "sqlite":
        _sqlite_restore(engine, db_file)
    else:
        _pg_restore(engine, db_file)
    engine.dispose()
    _count_past_any_seen(engine)
    count_tally_again(engine)
    with engine.connect() as conn:
        counts = table_counts(conn)
    # The tally is counted again from the units, without the rows nobody is counted in.
    wrong = [f"{t} {counts.get(t)} instead of {n}" for t, n in manifest["tables"].items()
             if counts.get(t) != n and t not in overdue_tally.TABLES]
    if wrong:
        raise OpsError("Restored row counts differ from the manifest: " + ", ".join(wrong))
    return counts


def _count_past_any_seen(engine: Engine) -> None:
    """App servers keep rules under the count of rule changes (models/estate_version.py);
    a restored count may be one they saw with other rules. It jumps past any count
    reached since (one per change: a jump of the microseconds since 1970 is far). The
    triggers are made again too: a PostgreSQL backup from before the count recreates
    the policy and building tables without them."""
    with engine.begin() as conn:
        if inspect(conn).has_table("estate_version"):
            for statement in trigger_ddl(conn.dialect.name):
                conn.execute(text(statement))
            conn.execute(text("UPDATE estate_version SET n = n + :jump"),
                         {"jump": time.time_ns() // 1000})


def nightly_refresh(session, day) -> tuple[int, int, int]:
    """The nightly job (`flask refresh-arrears`): the policy changes due put in force,
    arrears and promises brought up to `day`, the chips' tally counted again. One
    transaction, committed by the caller. (policies, units, promises) it changed."""
    from .admin.estate import apply_due_versions
    from .domain.summary import refresh_due_promises, refresh_stale
    policies = apply_due_versions(session, day)
    units = refresh_stale(session, day)
    promised = refresh_due_promises(session, day)
    overdue_tally.rebuild(session.connection())  # no drift outlasts a night
    return policies, units, promised


def count_tally_again(engine: Engine) -> None:
    """The chips' tally is derived from the units: counted again, with its triggers (a
    backup from before the tally leaves a newer database's rows standing and the unit
    table without them)."""
    with engine.begin() as conn:
        if inspect(conn).has_table("overdue_tally"):
            # A backup from before the log: its triggers write there.
            overdue_tally.OverdueTallyChange.__table__.create(conn, checkfirst=True)
            for statement in overdue_tally.trigger_ddl(conn.dialect.name):
                conn.execute(text(statement))
            overdue_tally.rebuild(conn)


def read_manifest(src: Path) -> dict:
    path = src / MANIFEST
    if not path.is_file():
        raise OpsError(f"{src} has no {MANIFEST}: not a backup, or one that did not finish.")
    try:
        return json.loads(path.read_text())
    except ValueError as e:
        raise OpsError(f"{path} is not valid JSON: {e}") from None


def table_counts(conn: Connection) -> dict[str, int]:
    """Rows per table, read in the connection's transaction."""
    return {name: conn.scalar(select(func.count()).select_from(table(name)))
            for name in sorted(inspect(conn).get_table_names())}


def alembic_revision(conn: Connection) -> str | None:
    """The migration the schema is at; None for a schema made by create_all()."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return ",".join(sorted(conn.scalars(text("SELECT version_num FROM alembic_version")))) \
        or None


def _checked_database_file(engine: Engine, src: Path, manifest: dict) -> Path:
    """The backup's database file, if it is of this kind of database and intact."""
    dialect = _dialect(engine)
    if manifest["dialect"] != dialect:
        raise OpsError(f"The backup is of a {manifest['dialect']} database; "
                       f"the configured database is {dialect}.")
    path = src / DATABASE_FILES[dialect]
    if not path.is_file() or _file_sha256(path) != manifest["database"]["sha256"]:
        raise OpsError(f"{path} is missing or does not match the manifest.")
    return path


def _check_target_empty(engine: Engine, force: bool) -> None:
    """A database with rows is replaced only on request; the migration stamp and the
    count of rule changes (one row in any new database) are no rows of data."""
    with engine.connect() as conn:
        present = [f"{t} {n}" for t, n in table_counts(conn).items()
                   if n and t not in ("alembic_version", "estate_version",
                                      *overdue_tally.TABLES)]
    if present and not force:
        raise OpsError(f"The database is not empty ({', '.join(present)}); "
                       "--force replaces it.")


def _dialect(engine: Engine) -> str:
    if engine.dialect.name not in DATABASE_FILES:
        raise OpsError(f"Backup and restore know SQLite and PostgreSQL, "
                       f"not {engine.dialect.name}.")
    return engine.dialect.name


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_photos_out(store: Storage, folder: Path) -> dict[str, str]:
    """Every stored photo file (partial writes left out) with its sha256; an original
    whose bytes do not hash to its name stops the backup."""
    hashes, damaged = {}, []
    for prefix in PHOTO_PREFIXES:
        for entry in store.keys(prefix):
            if entry.partial:
                continue
            data = store.get(entry.key)
            digest = sha256_of(data)
            if prefix == "originals/" and entry.key.rsplit("/", 1)[-1] != digest:
                damaged.append(entry.key)
                continue
            target = folder / entry.key
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            hashes[entry.key] = digest
    if damaged:
        raise OpsError("Originals whose bytes do not match their names (the backup is "
                       "incomplete): " + ", ".join(damaged))
    return hashes


def _copy_photos_in(store: Storage, folder: Path, hashes: dict[str, str]) -> None:
    """Store each file the manifest lists, checking the backup's bytes before and the
    stored bytes after; names every file that does not match."""
    bad = []
    for key, digest in sorted(hashes.items()):
        path = folder / key
        if not key.startswith(PHOTO_PREFIXES) or ".." in key.split("/") or (
                key.startswith("originals/") and key.rsplit("/", 1)[-1] != digest):
            bad.append(f"{key} (not a photo key, or an original not named by its hash)")
            continue
        if not path.is_file() or sha256_of(data := path.read_bytes()) != digest:
            bad.append(f"{key} (in the backup)")
            continue
        store.put(key, data)
        if sha256_of(store.get(key)) != digest:
            bad.append(f"{key} (in the photo store)")
    if bad:
        raise OpsError("Photo files missing or not matching the manifest; the database was "
                       "not restored: " + ", ".join(bad))


def _sqlite_backup(engine: Engine, path: Path) -> tuple[dict[str, int], str | None]:
    """SQLite's online backup: a consistent copy while the app goes on writing."""
    raw = engine.raw_connection()
    copy = sqlite3.connect(path)
    try:
        raw.driver_connection.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        return _sqlite_facts(copy)
    finally:
        copy.close()
        raw.close()


def _sqlite_facts(conn: sqlite3.Connection) -> tuple[dict[str, int], str | None]:
    """Row counts and revision of the copy itself, so they describe what was saved."""
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                        "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    quote = lambda name: '"' + name.replace('"', '""') + '"'  # noqa: E731
    # Names from the backup's own sqlite_master, quoted as identifiers.
    counts = {n: conn.execute(f"SELECT count(*) FROM {quote(n)}").fetchone()[0]  # nosec B608
              for n in names}
    revision = None
    if "alembic_version" in counts:
        revision = ",".join(sorted(r[0] for r in conn.execute(
            "SELECT version_num FROM alembic_version"))) or None
    return counts, revision


def _sqlite_restore(engine: Engine, path: Path) -> None:
    """The online backup in reverse: the copy's pages replace the whole database."""
    copy = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    raw = engine.raw_connection()
    try:
        copy.backup(raw.driver_connection)
    finally:
        raw.close()
        copy.close()


def _pg_backup(engine: Engine, path: Path) -> tuple[dict[str, int], str | None]:
    """pg_dump reads the snapshot the counts were taken in, so manifest and dump agree."""
    pg_dump = find_pg_tool("pg_dump", _server_major(engine))
    with engine.connect() as conn:
        conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot = conn.scalar(text("SELECT pg_export_snapshot()"))
            counts, revision = table_counts(conn), alembic_revision(conn)
            _run_pg(engine, pg_dump, "--format=custom", f"--snapshot={snapshot}",
                    f"--file={path}")
    return counts, revision


def _pg_restore(engine: Engine, path: Path) -> None:
    pg_restore = find_pg_tool("pg_restore", _server_major(engine))
    _run_pg(engine, pg_restore, "--clean", "--if-exists", "--no-owner", "--single-transaction",
            str(path))


def _server_major(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(text("SHOW server_version_num"))) // 10_000


def find_pg_tool(name: str, major: int) -> Path:
    """The client tool of the server's major version: on PATH, else in Debian's
    per-version folders. A newer pg_restore writes SQL an older server refuses."""
    on_path = shutil.which(name)
    candidates = ([Path(on_path)] if on_path else []) + \
        sorted(PG_VERSIONED_BINS.glob(f"*/bin/{name}"))
    seen = []
    for path in candidates:
        version = _tool_major(path)
        if version == major:
            return path
        seen.append(f"{path} ({version or 'unknown version'})")
    raise OpsError(f"{name} for PostgreSQL {major} not found on PATH or in "
                   f"{PG_VERSIONED_BINS}/*/bin" + (f"; found {', '.join(seen)}" if seen else "")
                   + f". Install the PostgreSQL {major} client (postgresql-client-{major}).")


def _tool_major(path: Path) -> int | None:
    try:
        out = subprocess.run([str(path), "--version"], capture_output=True,  # nosec B603
                             text=True, timeout=30).stdout  # a found tool, no shell
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"\)\s+(\d+)", out)
    return int(match.group(1)) if match else None


def _run_pg(engine: Engine, tool: Path, *args: str) -> None:
    """Run a client tool against the app's database; the password goes by PGPASSWORD,
    never on the command line, where any user's `ps` would show it."""
    url = engine.url
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    dsn = URL.create("postgresql", username=url.username, host=url.host, port=url.port,
                     database=url.database, query=url.query).render_as_string()
    # A found tool with an argument list, no shell; the password travels in env only.
    done = subprocess.run([str(tool), f"--dbname={dsn}", "--no-password", *args],  # nosec B603
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise OpsError(f"{tool.name} failed: {done.stderr.strip()}")
