"""The review queue's first page on a database of 1,000,000 visits, and the near-duplicate
photo lookup as the photo store grows from 10,000 to 1,000,000 photos.

Builds once into bench/.data/: a 120,000-unit estate from the demo generator, 100
housekeepers, and a year of 1,000,000 visits (the last two weeks and a few older ones
waiting for review, about one in twenty flagged), each with a photo whose perceptual
hash is random. The queue is timed as in-process requests through Flask's test client;
the floor is the same page's queries run with raw sqlite3, its rows built with the same
functions and rendered with the same templates in bare Jinja. The near-duplicate lookup
is the app's own (fieldapp/photos/similar.py) against photo tables of 10k, 100k and 1M
rows, with hashes spread evenly and, harder, in look-alike groups (doors of one estate).

    .venv/bin/python bench/review_queue.py [--visits 1000000] [--units 120000] [--requests 200]
                                           [--lookup-only]
"""
from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import jinja2
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.floor import bare_environment  # noqa: E402

from fieldapp import create_app  # noqa: E402
from fieldapp.domain.photohash import bands, hamming, to_signed  # noqa: E402
from fieldapp.extensions import db  # noqa: E402
from fieldapp.models import Photo, Role, User, Visit  # noqa: E402
from fieldapp.photos.similar import similar_photos  # noqa: E402
from fieldapp.review.rows import queue_row  # noqa: E402
from fieldapp.review.services import QueuePage  # noqa: E402
from fieldapp.review.words import FLAG_KINDS  # noqa: E402

TODAY = date(2026, 11, 22)
END = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)
TZ = ZoneInfo("Asia/Shanghai")
DATA = ROOT / "bench" / ".data"
USERNAME, PASSWORD = "bench-supervisor", "bench-password-1"
HOUSEKEEPERS = 100
CHUNK = 50_000
OUTCOMES = ["nobody_home", "nobody_home", "met_owner", "met_occupant", "refused", "vacant"]
REASONS = {"met_owner": "hardship", "met_occupant": "forgot", "refused": "refusal"}
FLAGS = ["far", "no_position", "exif_missing", "exif_old", "late_sync", "near_duplicate"]


def sql_time(moment: datetime) -> str:
    """A moment as SQLAlchemy stores it in SQLite: naive UTC with microseconds."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


def build(visits: int, units: int):
    """An app on a database with `visits` visits (kept between runs)."""
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"review-{visits}.sqlite3"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "bench",
                      "FIXED_TODAY": TODAY, "WTF_CSRF_ENABLED": False,
                      "UPLOAD_DIR": str(DATA / "review-uploads")})
    with app.app_context():
        if not path.exists() or not _complete(path, visits):
            path.unlink(missing_ok=True)
            db.create_all()
            from fieldapp.demo import seed_demo
            started = time.perf_counter()
            seed_demo(db.session, units=units, seed=1, today=TODAY, echo=lambda *a: None)
            supervisor = User(username=USERNAME, display_name="Bench", role=Role.SUPERVISOR)
            supervisor.set_password(PASSWORD)
            db.session.add(supervisor)
            db.session.commit()
            seeded = time.perf_counter() - started
            db.engine.dispose()
            _fill(path, visits)
            print(f"  built {units:,} units in {seeded:.0f} s and {visits:,} visits in "
                  f"{time.perf_counter() - started - seeded:.0f} s")
    return app, path


def _complete(path: Path, visits: int) -> bool:
    with sqlite3.connect(path) as conn:
        try:
            return conn.execute("SELECT count(*) FROM visit").fetchone()[0] >= visits
        except sqlite3.OperationalError:
            return False


def _fill(path: Path, n: int) -> None:
    """Housekeepers with patches, then a year of visits with a photo each, in time order,
    inserted with executemany."""
    rnd = random.Random(1)
    conn = sqlite3.connect(path)
    conn.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; "
                       "PRAGMA cache_size=-400000; PRAGMA temp_store=MEMORY;")
    password = conn.execute("SELECT password_hash FROM user WHERE username = ?",
                            (USERNAME,)).fetchone()[0]
    buildings = conn.execute("SELECT id, lat, lon FROM building ORDER BY id").fetchall()
    units_of = {}
    for unit_id, building_id in conn.execute("SELECT id, building_id FROM unit"):
        units_of.setdefault(building_id, []).append(unit_id)
    first_user = conn.execute("SELECT max(id) FROM user").fetchone()[0] + 1
    hks = list(range(first_user, first_user + HOUSEKEEPERS))
    conn.executemany("INSERT INTO user (id, username, display_name, password_hash, role, active, "
                     "visited_sink, must_change_password, created_at) "
                     "VALUES (?, ?, ?, ?, 'housekeeper', 1, 1, 0, ?)",
                     [(u, f"bench-hk-{i:03d}", f"管家{i:03d}", password, sql_time(END))
                      for i, u in enumerate(hks)])
    patch = {u: buildings[i::HOUSEKEEPERS] for i, u in enumerate(hks)}
    conn.executemany("INSERT INTO assignment (user_id, building_id) VALUES (?, ?)",
                     [(u, b[0]) for u in hks for b in patch[u]])
    visit_id = conn.execute("SELECT coalesce(max(id), 0) FROM visit").fetchone()[0] + 1
    photo_id = conn.execute("SELECT coalesce(max(id), 0) FROM photo").fetchone()[0] + 1
    start, span = END - timedelta(days=365), 365 * 86400
    rows = {"visit": [], "photo": [], "visit_photo": [], "visit_flag": []}
    for i in range(n):
        created = start + timedelta(seconds=span * i / n)
        hk = hks[rnd.randrange(HOUSEKEEPERS)]
        building_id, b_lat, b_lon = rnd.choice(patch[hk])
        unit_id = rnd.choice(units_of.get(building_id) or [1])
        outcome = rnd.choice(OUTCOMES)
        reason = REASONS.get(outcome)
        device = created - timedelta(seconds=rnd.randint(5, 600))
        lat, lon = b_lat + rnd.uniform(-3e-4, 3e-4), b_lon + rnd.uniform(-3e-4, 3e-4)
        distance = ((lat - b_lat) * 110_540) ** 2 + ((lon - b_lon) * 95_000) ** 2
        recent = created > END - timedelta(days=14)
        status = "pending" if recent or rnd.random() < 0.025 else \
            ("sent_back" if rnd.random() < 0.005 else "approved")
        rows["visit"].append((
            visit_id, f"00000000-0000-4000-8000-{visit_id:012d}", "0" * 64, unit_id, hk,
            sql_time(created), sql_time(device), outcome, reason, None, "",
            "none" if reason else "reminder", None if reason else "door", "",
            lat, lon, float(rnd.randint(5, 40)), "", round(distance ** 0.5, 1), 0, status))
        h = rnd.getrandbits(64)
        rows["photo"].append((photo_id, f"{photo_id:064x}", "JPEG", 250_000, 1600, 1200,
                              sql_time(device - timedelta(seconds=60)), None, None, hk,
                              sql_time(created), to_signed(h), *bands(h)))
        rows["visit_photo"].append((visit_id, photo_id, 0, "{}"))
        if rnd.random() < 0.05:
            kind = rnd.choice(FLAGS)
            detail = {"far": {"distance_m": 420, "threshold_m": 150},
                      "no_position": {"geo_error": "denied"}, "exif_missing": {"n": 1},
                      "exif_old": {"n": 1, "hours": 26.5, "taken_at": sql_time(device),
                                   "source": "exif"},
                      "late_sync": {"hours": 31.0},
                      "near_duplicate": {"n": 1, "bits": 3, "other_unit_id": 1,
                                         "other_unit": "1栋-101"}}[kind]
            rows["visit_flag"].append((visit_id, kind, json.dumps(detail), sql_time(created)))
        visit_id += 1
        photo_id += 1
        if len(rows["visit"]) >= CHUNK:
            _flush(conn, rows)
    _flush(conn, rows)
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()


def _flush(conn: sqlite3.Connection, rows: dict) -> None:
    conn.executemany(
        "INSERT INTO visit (id, client_uuid, payload_sha256, unit_id, user_id, created_at, "
        "device_time, outcome, reason, service_category, reason_detail, notice_type, delivery, "
        "notes, lat, lon, accuracy_m, geo_error, distance_m, far_from_building, review_status) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows["visit"])
    conn.executemany(
        "INSERT INTO photo (id, sha256, format, size_bytes, width, height, taken_at, exif_lat, "
        "exif_lon, uploaded_by, created_at, phash, phash_b0, phash_b1, phash_b2, phash_b3) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows["photo"])
    conn.executemany("INSERT INTO visit_photo (visit_id, photo_id, position, client_meta) "
                     "VALUES (?, ?, ?, ?)", rows["visit_photo"])
    conn.executemany("INSERT INTO visit_flag (visit_id, kind, detail, created_at) "
                     "VALUES (?, ?, ?, ?)", rows["visit_flag"])
    for batch in rows.values():
        batch.clear()


def timed(fn, n: int) -> float:
    """Median milliseconds over n calls, after a short warm-up."""
    for _ in range(10):
        fn()
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


def ok(response):
    assert response.status_code == 200, f"{response.status_code}: {response.data[:300]!r}"
    return response


# --- the floor: raw sqlite3, the same row functions, the same templates ---------------------

def _local(moment, fmt: str) -> str:
    if moment is None:
        return ""
    return moment.astimezone(TZ).strftime(fmt)


def floor_environment() -> jinja2.Environment:
    """The bare Jinja floor with the filters this page uses."""
    env = bare_environment("review.index", "supervisor")
    env.filters.update(local_time=lambda m: _local(m, "%Y-%m-%d %H:%M"),
                       local_day=lambda m: _local(m, "%Y-%m-%d"))
    return env


def _when(raw):
    return datetime.fromisoformat(raw).replace(tzinfo=timezone.utc) if raw else None


def _enum(value):
    return SimpleNamespace(value=value) if value is not None else None


def floor_page(conn: sqlite3.Connection, env: jinja2.Environment, context: dict) -> str:
    """The queue's first page: the same queries with raw sqlite3, rows built by the same
    function from plain objects, the same template."""
    found = conn.execute(
        "SELECT v.id, v.unit_id, v.user_id, v.created_at, v.device_time, v.outcome, v.reason, "
        "v.service_category, v.reason_detail, v.notice_type, v.delivery, v.notes, v.lat, "
        "v.lon, v.accuracy_m, v.distance_m, u.number, b.name, b.lat, b.lon, b.community_id, "
        "us.display_name, us.username FROM visit v JOIN unit u ON u.id = v.unit_id "
        "JOIN building b ON b.id = u.building_id JOIN user us ON us.id = v.user_id "
        "WHERE v.review_status = 'pending' ORDER BY v.created_at DESC, v.id DESC LIMIT 21"
    ).fetchall()
    page, more = found[:20], len(found) > 20
    ids = [r[0] for r in page]
    marks = ",".join("?" * len(ids))
    flags: dict[int, list] = {i: [] for i in ids}
    for flag_id, visit_id, kind, detail, other in conn.execute(
            f"SELECT id, visit_id, kind, detail, other_visit_id FROM visit_flag "
            f"WHERE visit_id IN ({marks}) ORDER BY id", ids):
        flags[visit_id].append(SimpleNamespace(id=flag_id, kind=kind, detail=json.loads(detail),
                                               other_visit_id=other))
    photos: dict[int, list] = {i: [] for i in ids}
    for visit_id, pid, meta, taken in conn.execute(
            f"SELECT vp.visit_id, vp.photo_id, vp.client_meta, p.taken_at FROM visit_photo vp "
            f"JOIN photo p ON p.id = vp.photo_id WHERE vp.visit_id IN ({marks}) "
            f"ORDER BY vp.position", ids):
        photos[visit_id].append(SimpleNamespace(photo_id=pid, client_meta=json.loads(meta),
                                                photo=SimpleNamespace(taken_at=_when(taken))))
    corrections: dict[int, list] = {i: [] for i in ids}
    for cid, visit_id, note, at in conn.execute(
            f"SELECT id, visit_id, note, created_at FROM visit_correction "
            f"WHERE visit_id IN ({marks}) ORDER BY id", ids):
        corrections[visit_id].append(SimpleNamespace(id=cid, note=note, created_at=_when(at),
                                                     photos=[]))
    decisions: dict[int, list] = {i: [] for i in ids}
    for visit_id, decision, comment in conn.execute(
            f"SELECT visit_id, decision, comment FROM review_decision "
            f"WHERE visit_id IN ({marks}) ORDER BY id", ids):
        decisions[visit_id].append(SimpleNamespace(decision=_enum(decision), comment=comment))
    waiting = conn.execute("SELECT count(*) FROM visit WHERE review_status = 'pending'"
                           ).fetchone()[0]
    limits = dict(conn.execute("SELECT community_id, gps_threshold_m FROM policy"))
    words = context["words"]
    rows = []
    for r in page:
        v = SimpleNamespace(
            id=r[0], unit_id=r[1], user_id=r[2], created_at=_when(r[3]), device_time=_when(r[4]),
            outcome=_enum(r[5]), reason=_enum(r[6]), service_category=_enum(r[7]),
            reason_detail=r[8], notice_type=_enum(r[9]), delivery=_enum(r[10]), notes=r[11],
            lat=r[12], lon=r[13], accuracy_m=r[14], distance_m=r[15],
            unit=SimpleNamespace(number=r[16], building=SimpleNamespace(
                name=r[17], lat=r[18], lon=r[19], community_id=r[20])),
            user=SimpleNamespace(display_name=r[21], username=r[22]),
            photos=photos[r[0]], flags=flags[r[0]], decisions=decisions[r[0]],
            corrections=corrections[r[0]])
        rows.append(queue_row(v, limits.get(r[20], 150), words, TZ))
    housekeepers = conn.execute("SELECT id, display_name, username FROM user "
                                "WHERE role = 'housekeeper' ORDER BY username").fetchall()
    communities = conn.execute("SELECT id, name FROM community ORDER BY name, id").fetchall()
    return env.get_template("review/index.html").render(
        rows=rows, queue=QueuePage([], rows[-1].visit_id if more else None, waiting),
        filters=context["filters"], words=words, back="/review", links=context["links"],
        args={}, flag_kinds=[(k, str(t)) for k, t in FLAG_KINDS], housekeepers=housekeepers,
        communities=communities, buildings=[])  # buildings: one community at a time


# --- near-duplicate lookup ------------------------------------------------------------------

PHOTO_COLUMNS = ("id, sha256, format, size_bytes, width, height, created_at, phash, "
                 "phash_b0, phash_b1, phash_b2, phash_b3")


def photo_rows(size: int, grouped: bool):
    """The photo rows of a table of `size`: random hashes, or (grouped) 1,000 look-alike
    groups, each photo 10-20 bits from its group's centre."""
    rnd = random.Random(size)
    centres = [rnd.getrandbits(64) for _ in range(1000)]
    for i in range(1, size + 1):
        h = rnd.getrandbits(64)
        if grouped:
            h = rnd.choice(centres)
            for bit in rnd.sample(range(64), rnd.randint(10, 20)):
                h ^= 1 << bit
        yield (i, f"{i:064x}", "JPEG", 1, 1, 1, "2026-01-01 00:00:00.000000",
               to_signed(h), *bands(h))


def photo_table(size: int, grouped: bool) -> str:
    """The URL of a SQLite photo table of `size` rows with the app's schema and indexes
    (kept between runs)."""
    path = DATA / f"photos-{size}-{'grouped' if grouped else 'even'}.sqlite3"
    if path.exists():
        _same_indexes(path)
        return f"sqlite:///{path}"
    engine = create_engine(f"sqlite:///{path}")
    Photo.__table__.create(engine)
    engine.dispose()
    conn = sqlite3.connect(path)
    conn.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; "
                       "PRAGMA cache_size=-200000;")
    batch = []
    for row in photo_rows(size, grouped):
        batch.append(row)
        if len(batch) >= CHUNK or row[0] == size:
            conn.executemany(f"INSERT INTO photo ({PHOTO_COLUMNS}) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", batch)
            batch.clear()
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()
    return f"sqlite:///{path}"


def pg_photo_table(server: str, size: int, grouped: bool) -> str:
    """The same photo table in its own PostgreSQL database (the app's schema, loaded
    with COPY, kept between runs in the bench cluster)."""
    name = f"photos_{size}_{'grouped' if grouped else 'even'}"
    url = server.rsplit("/", 1)[0] + "/" + name
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.exec_driver_sql(
            f"SELECT 1 FROM pg_database WHERE datname = '{name}'").scalar()
        if exists:
            engine = create_engine(url)
            with engine.connect() as c:
                exists = c.exec_driver_sql("SELECT count(*) FROM photo").scalar() == size
            engine.dispose()
            if not exists:
                conn.exec_driver_sql(f"DROP DATABASE {name}")
            else:
                _vacuumed(url)
        if not exists:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    if exists:
        return url
    engine = create_engine(url)
    db.metadata.create_all(engine)
    raw = engine.raw_connection()
    with raw.driver_connection.cursor() as cur:
        with cur.copy(f"COPY photo ({PHOTO_COLUMNS}) FROM STDIN") as copy:
            for row in photo_rows(size, grouped):
                copy.write_row(row)
    raw.driver_connection.commit()
    raw.close()
    engine.dispose()
    _vacuumed(url)
    return url


def _vacuumed(url: str) -> None:
    """Vacuumed until the visibility map covers the table, as autovacuum keeps an
    insert-only table in production: else each index entry costs a heap visit."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for _ in range(5):
            pages, visible = conn.exec_driver_sql(
                "SELECT relpages, relallvisible FROM pg_class WHERE relname = 'photo'").one()
            if pages and visible >= pages * 0.99:
                break
            conn.exec_driver_sql("VACUUM ANALYZE photo")
    engine.dispose()


def _same_indexes(path: Path) -> None:
    """The app's photo indexes on a table kept from an earlier run, rebuilt in place as
    the migration does when the model's differ."""
    conn = sqlite3.connect(path)
    for index in Photo.__table__.indexes:
        columns = [c.name for c in index.columns]
        have = [row[2] for row in conn.execute(f"PRAGMA index_info({index.name})")]
        if have != columns:
            conn.execute(f"DROP INDEX IF EXISTS {index.name}")
            conn.execute(f"CREATE INDEX {index.name} ON photo ({', '.join(columns)})")
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()


def _warm(url: str) -> None:
    """The photo table and its indexes read into memory first, as a server in use holds
    them: else the first lookups of the largest table time the disk, not the check."""
    if url.startswith("sqlite"):
        with open(url.removeprefix("sqlite:///"), "rb") as f:
            while f.read(1 << 24):
                pass
        return
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        for relation in ["photo"] + [f"ix_photo_phash_b{b}" for b in range(4)]:
            conn.exec_driver_sql(f"SELECT pg_prewarm('{relation}')")
    engine.dispose()


class Lookup:
    """The app's lookup on one photo table: half the queries near a stored photo (3 bits
    off), half anywhere."""

    def __init__(self, url: str, size: int, n: int):
        self.engine, self.size = create_engine(url), size
        self.session = Session(self.engine)
        rnd = random.Random(7)
        stored = [h for (h,) in self.session.execute(select(Photo.phash).where(
            Photo.id.in_([rnd.randint(1, size) for _ in range(n)])))]
        self.queries = []
        for i in range(n):
            h = rnd.getrandbits(64) if i % 2 else stored[i % len(stored)]
            for bit in rnd.sample(range(64), 3):
                h ^= 1 << bit
            self.queries.append(h)
        self.next = iter(self.queries * 1000).__next__
        self.samples: list[float] = []

    def run(self, k: int, keep: bool = True) -> None:
        for _ in range(k):
            t = time.perf_counter()
            similar_photos(self.session, self.next())
            if keep:
                self.samples.append((time.perf_counter() - t) * 1000)

    def figures(self) -> dict[str, float]:
        """Median ms; the candidates the bands give the database's Hamming check and
        the photos it returns (means of 40 queries); a full scan for contrast."""
        from sqlalchemy import or_

        from fieldapp.domain.photohash import band_probes
        from fieldapp.photos.similar import BAND_COLUMNS
        session, queries = self.session, self.queries
        candidates = statistics.mean(session.scalar(select(func.count()).select_from(Photo).where(
            or_(*[c.in_(band_probes(v)) for c, v in zip(BAND_COLUMNS, bands(h))])))
            for h in queries[:40])
        found = statistics.mean(len(similar_photos(session, h)) for h in queries[:40])

        def scan():
            q = queries[0]
            return [pid for pid, h in session.execute(select(Photo.id, Photo.phash))
                    if hamming(q, h) <= 7]
        scan_ms = timed(scan, 3) if self.size <= 100_000 else \
            statistics.median([_once(scan) for _ in range(2)])
        self.session.close()
        self.engine.dispose()
        return {"ms": statistics.median(self.samples), "candidates": candidates,
                "found": found, "scan": scan_ms}


def _once(fn) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--units", type=int, default=120_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--lookup-only", action="store_true",
                        help="only the near-duplicate lookup, not the queue")
    args = parser.parse_args()
    if args.lookup_only:
        near_duplicates(args.requests)
        return
    print(f"Review queue bench: {args.visits:,} visits, median of {args.requests} "
          f"in-process requests")
    app, path = build(args.visits, args.units)
    client = app.test_client()
    r = client.post("/login", data={"username": USERNAME, "password": PASSWORD})
    assert r.status_code == 303, r.status_code
    first = ok(client.get("/review"))
    assert first.data.count(b'class="card review-item') == 20, "a full first page"
    conn = sqlite3.connect(path)
    env = floor_environment()
    with app.test_request_context():  # the words in the default language, Chinese
        from fieldapp.review.page import row_links
        from fieldapp.review.services import QueueFilters
        from fieldapp.review.words import review_words
        context = {"words": review_words(), "links": row_links("/review"),
                   "filters": QueueFilters()}
    floor_html = floor_page(conn, env, context)
    assert floor_html.count('class="card review-item') == 20
    with app.app_context():
        hk = db.session.scalar(select(User.id).where(User.username == "bench-hk-007"))
        total = db.session.scalar(select(func.count()).select_from(Visit))
        waiting = db.session.scalar(select(func.count()).select_from(Visit).where(
            Visit.review_status == "pending"))
        db.session.remove()
    queue = timed(lambda: ok(client.get("/review")), args.requests)
    floor = timed(lambda: floor_page(conn, env, context), args.requests)
    by_flag = timed(lambda: ok(client.get("/review?flag=any")), args.requests // 2)
    by_kind = timed(lambda: ok(client.get("/review?flag=late_sync")), args.requests // 2)
    by_hk = timed(lambda: ok(client.get(f"/review?hk={hk}&flag=none")), args.requests // 2)
    older = timed(lambda: ok(client.get("/review?before=900000")), args.requests // 2)
    conn.close()
    print(f"\n{'what':<52}{'measured':>12}   target")
    print(f"{'visits in the database / waiting for review':<52}{total:>12,}   "
          f"{waiting:,} waiting")
    print(f"{'queue page 1 (20 visits), app':<52}{queue:>9.2f} ms   no figure in §7")
    print(f"{'floor: raw sqlite3 + same rows and templates':<52}{floor:>9.2f} ms")
    print(f"{'ratio app / floor':<52}{queue / floor:>11.2f}x   (the route list's <= 2x)")
    print(f"{'  filtered: any flag':<52}{by_flag:>9.2f} ms")
    print(f"{'  filtered: one kind of flag (synced late)':<52}{by_kind:>9.2f} ms")
    print(f"{'  filtered: one housekeeper, no flag':<52}{by_hk:>9.2f} ms")
    print(f"{'  a page deep in the queue (before=900000)':<52}{older:>9.2f} ms")
    print(f"{'queue page 1 HTML':<52}{len(first.data) / 1024:>9.1f} KB")
    near_duplicates(args.requests)


def near_duplicates(requests: int) -> None:
    print("\nNear-duplicate lookup (fieldapp/photos/similar.py), median of "
          f"{requests} lookups; candidates = band matches the database checks, "
          "found = photos it returns")
    print(f"{'database':<11}{'photos':>10} {'hashes':>8} {'lookup':>10} {'candidates':>11} "
          f"{'found':>6} {'full scan':>11}")
    from bench import pg
    server = pg.start()
    results = {}
    sizes = (10_000, 100_000, 1_000_000)
    for database in ("sqlite", "postgresql"):
        for grouped in (False, True):
            urls = [photo_table(size, grouped) if database == "sqlite" else
                    pg_photo_table(server, size, grouped) for size in sizes]
            for url in urls:
                _warm(url)
            lookups = [Lookup(url, size, requests) for url, size in zip(urls, sizes)]
            for each in lookups:
                each.run(20, keep=False)
            # The sizes take turns, so that a slower moment of the machine falls on all.
            for _ in range(10):
                for each in lookups:
                    each.run(max(1, requests // 10))
            for size, each in zip(sizes, lookups):
                res = results[(database, size, grouped)] = each.figures()
                print(f"{database:<11}{size:>10,} {'grouped' if grouped else 'even':>8} "
                      f"{res['ms']:>7.3f} ms {res['candidates']:>11.1f} {res['found']:>6.2f} "
                      f"{res['scan']:>8.0f} ms", flush=True)
    for database in ("sqlite", "postgresql"):
        for grouped in (False, True):
            growth = (results[(database, 1_000_000, grouped)]["ms"]
                      / results[(database, 10_000, grouped)]["ms"])
            label = f"growth 10k -> 1M photos, {database}, {'grouped' if grouped else 'even'}"
            print(f"{label:<52}{growth:>11.2f}x   flat (a scan grows 100x)")


if __name__ == "__main__":
    main()
