"""Route list and unit card server time against DESIGN.md §7.

Builds (or reuses) SQLite databases of 120,000 and 12,000 units with the demo
generator, gives one housekeeper a patch holding 1,200 overdue units, and times
in-process requests through Flask's test client. The floor is the same page's
queries run with raw sqlite3 and its rows rendered with a bare Jinja template.

    .venv/bin/python bench/route_list.py [--units 120000] [--small 12000] [--requests 300]
"""
from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import jinja2
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.floor import bare_environment  # noqa: E402

from fieldapp import create_app  # noqa: E402
from fieldapp.extensions import db  # noqa: E402
from fieldapp.domain.allocation import BillDue  # noqa: E402
from fieldapp.domain.latefee import DatedPayment, unit_late_fee  # noqa: E402
from fieldapp.models import Assignment, Role, Unit, User  # noqa: E402

TODAY = date(2026, 11, 22)
DATA = ROOT / "bench" / ".data"
PATCH_OVERDUE = 1200
USERNAME = "bench-housekeeper"
PASSWORD = "bench-password-1"


def build(units: int, url: str | None = None):
    """An app on a seeded database with a 1,200-overdue-unit patch (kept between runs):
    the SQLite file for `units`, or the PostgreSQL database at `url`."""
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"route-{units}.sqlite3"
    # The page cache is off: these figures are the work of building the page.
    app = create_app({"SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{path}",
                      "SECRET_KEY": "bench", "FIXED_TODAY": TODAY, "WTF_CSRF_ENABLED": False,
                      "ROUTE_CACHE": False})
    with app.app_context():
        if url or path.exists():
            _add_missing(db.engine)
        if _needs_seeding(path, url, units):
            db.session.remove()
            if url:
                db.drop_all()
            else:
                db.engine.dispose()  # no connection may keep the old file open
                for stale in (path, path.with_name(path.name + "-wal"),
                              path.with_name(path.name + "-shm")):
                    stale.unlink(missing_ok=True)
            db.create_all()
            from fieldapp.demo import seed_demo
            started = time.perf_counter()
            seed_demo(db.session, units=units, seed=1, today=TODAY, echo=lambda *a: None)
            db.session.commit()
            print(f"  seeded {units:,} units in {time.perf_counter() - started:.1f} s"
                  f" ({db.engine.dialect.name})")
            _make_patch()
            # The planners' statistics, as a production database keeps them.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE" if url else "ANALYZE")
        db.session.remove()
        if url:
            visibility_kept(db.engine)
    return app, path


def _add_missing(engine) -> None:
    """Tables and indexes added since the database was seeded, made on it (with what the
    models make on create: triggers, the tally counted), instead of seeding again."""
    from sqlalchemy import inspect

    from fieldapp.models.estate import made_for
    db.create_all()
    with engine.begin() as conn:
        have = {t: {i["name"] for i in inspect(conn).get_indexes(t)}
                for t in inspect(conn).get_table_names()}
        made = [index for table in db.metadata.sorted_tables for index in table.indexes
                if index.name not in have.get(table.name, ())
                and made_for(index, conn.dialect.name)]
        for index in made:
            index.create(conn)
        if conn.dialect.name == "postgresql":  # storage parameters, as the models give them
            for table in db.metadata.sorted_tables:
                given = table.dialect_options["postgresql"]["with"]
                if given:
                    conn.exec_driver_sql(
                        f"ALTER TABLE {conn.dialect.identifier_preparer.quote(table.name)} "
                        f"SET ({', '.join(f'{k} = {v}' for k, v in given.items())})")
            # A run of route_pg.py stopped in its measurement after writes.
            conn.exec_driver_sql("ALTER TABLE unit RESET (autovacuum_enabled)")
        if made:  # the planners' statistics of the new indexes
            conn.exec_driver_sql("ANALYZE")


def visibility_kept(engine) -> None:
    """PostgreSQL's visibility map covering the tables, as autovacuum keeps it: without
    it each index-only scan of the route list visits the table for most of its rows
    (a VACUUM run while this process still held a transaction open left the unit table
    3 % visible, and the pages timed heap fetches, not the app). Vacuumed first: the
    counts of pages read below are the last vacuum's, and an earlier run's writes to
    the patch since (1 % of the table) left them at 100 % while the patch's own pages
    were not."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for _ in range(3):
            # Statistics kept as seeded; the indexes cleaned however few rows are dead,
            # else PostgreSQL leaves their pages not all-visible for a later vacuum.
            conn.exec_driver_sql(f"VACUUM (INDEX_CLEANUP ON) {', '.join(VISIBLE)}")
            stale = conn.exec_driver_sql(
                "SELECT count(*) FROM pg_class WHERE relname = ANY(%(tables)s) "
                "AND relallvisible < relpages * 0.99", {"tables": list(VISIBLE)}).scalar()
            if not stale:
                return


VISIBLE = ("unit", "bill", "payment", "contact", "building")


def _needs_seeding(path: Path, url: str | None, units: int) -> bool:
    """A database missing, built before the latest model change, of another size, or
    without the bench's patch is built again."""
    from sqlalchemy import inspect

    from fieldapp.models.estate import made_for
    if url is None and not path.exists():
        return True
    inspector = inspect(db.engine)
    for table in db.metadata.sorted_tables:
        if not inspector.has_table(table.name) or not {c.name for c in table.columns} <= {
                c["name"] for c in inspector.get_columns(table.name)}:
            return True
        have = {i["name"]: i["column_names"] for i in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if made_for(index, db.engine.dialect.name) and \
                    have.get(index.name) != [c.name for c in index.columns]:
                return True
    return db.session.scalar(select(func.count()).select_from(Unit)) != units or \
        not db.session.scalar(select(func.count()).select_from(User)
                              .where(User.username == USERNAME))


def _make_patch() -> None:
    overdue = (select(Unit.building_id, func.count()).where(Unit.arrears_fen > 0,
               Unit.oldest_unpaid_due < TODAY).group_by(Unit.building_id)
               .order_by(Unit.building_id))
    user = User(username=USERNAME, display_name="Bench", role=Role.HOUSEKEEPER)
    user.set_password(PASSWORD)
    total = 0
    for building_id, n in db.session.execute(overdue):
        if total >= PATCH_OVERDUE:
            break
        user.assignments.append(Assignment(building_id=building_id))
        total += n
    db.session.add(user)
    db.session.commit()


def ok(response):
    assert response.status_code == 200, f"{response.status_code}: {response.data[:300]!r}"
    return response


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


BANDS = [("legal", 181), ("demand", 61), ("visit", 31), ("contact", 16), ("reminder", 1)]


def floor_environment() -> jinja2.Environment:
    """The bare Jinja floor with the filters this page uses."""
    env = bare_environment("route.index", "housekeeper")
    env.filters.update(yuan=lambda fen: f"{fen / 100:,.2f}",
                       mask_phone=lambda p: f"{p[:3]}****{p[-4:]}" if len(p) >= 11 else p,
                       local_date=lambda d: str(d)[5:10])
    return env


def floor_page(conn: sqlite3.Connection, env: jinja2.Environment, building_ids: list[int],
               words: dict) -> str:
    """The route list's first page with raw sqlite3 and Jinja: the same queries, the
    same templates and words; only Flask, SQLAlchemy and Flask-Babel are missing."""
    from fieldapp.domain.arrears import Band
    from fieldapp.route.services import BandCount, RoutePage, RouteRow
    marks = ",".join("?" * len(building_ids))
    cut = [(k, date.fromordinal(TODAY.toordinal() - d).isoformat()) for k, d in BANDS]
    band_sql = "CASE " + " ".join(f"WHEN u.oldest_unpaid_due <= '{c}' THEN '{k}'"
                                  for k, c in cut) + " ELSE '' END"
    rank_sql = "CASE " + " ".join(f"WHEN u.oldest_unpaid_due <= '{c}' THEN {5 - i}"
                                  for i, (k, c) in enumerate(cut)) + " ELSE 0 END"
    where = ("u.arrears_fen > 0 AND u.oldest_unpaid_due < ? AND u.on_hold = 0 "
             f"AND u.building_id IN ({marks})")
    args = [TODAY.isoformat(), *building_ids]
    found = {k: (n, t) for k, n, t in conn.execute(
        f"SELECT {band_sql} AS band, count(*), sum(u.arrears_fen) FROM unit u "
        f"JOIN building b ON b.id = u.building_id WHERE {where} GROUP BY band", args)}
    bands = {k: Band(k, d, k) for k, d in BANDS}
    counts = [BandCount(bands[k], *found.get(k, (0, 0))) for k, _ in BANDS]
    units = conn.execute(
        f"SELECT u.id, u.number, u.floor, u.building_id, u.arrears_fen, u.oldest_unpaid_due, "
        f"u.late_fee_waived_fen, b.name FROM unit u JOIN building b ON b.id = u.building_id "
        f"WHERE {where} ORDER BY {rank_sql} DESC, u.arrears_fen DESC, u.id LIMIT 31",
        args).fetchall()[:30]
    ids = [u[0] for u in units]
    idm = ",".join("?" * len(ids))
    owners = {r[0]: r[1:] for r in conn.execute(
        f"SELECT unit_id, surname, phone FROM contact WHERE unit_id IN ({idm}) "
        f"AND kind IN ('owner', 'finance') ORDER BY id DESC", ids)}
    # The late fee as accrued, from the unit's whole history: the same rule the app
    # applies (a pure function), fed by raw queries.
    bills: dict[int, list] = {i: [] for i in ids}
    for bill_id, unit_id, amount, due in conn.execute(
            f"SELECT id, unit_id, amount_fen, due_date FROM bill WHERE unit_id IN ({idm})", ids):
        bills[unit_id].append(BillDue(bill_id, amount, date.fromisoformat(due)))
    paid: dict[int, list] = {i: [] for i in ids}
    for pay_id, unit_id, amount, on, bill_id, rev in conn.execute(
            f"SELECT id, unit_id, amount_fen, paid_on, bill_id, reverses_id FROM payment "
            f"WHERE unit_id IN ({idm})", ids):
        paid[unit_id].append(DatedPayment(pay_id, amount, date.fromisoformat(on), bill_id, rev))
    fees = {i: unit_late_fee(bills[i], paid[i], TODAY, grace_days=15,
                             daily_ppm=300).outstanding_fen for i in ids}
    held_where = where.replace("on_hold = 0", "on_hold = 1")
    held = conn.execute(f"SELECT u.id FROM unit u WHERE {held_where}", args).fetchall()
    buildings = [type("B", (), {"id": i, "name": f"{i}"})() for i in building_ids]
    rows = []
    for u in units:
        days = (TODAY - date.fromisoformat(u[5])).days
        surname, phone = owners.get(u[0], ("", ""))
        rows.append(RouteRow(unit_id=u[0], label=f"{u[7]}-{u[1]}", building_id=u[3], floor=u[2],
                             arrears_fen=u[4], days_overdue=days,
                             band=bands[next(k for k, d in BANDS if days >= d)],
                             late_fee_fen=fees.get(u[0], 0), owner_surname=surname,
                             owner_phone=phone))
    template = env.get_template("route/index.html")
    filters = type("F", (), {"q": "", "band": None, "building_id": None, "sort": "band",
                             "lat": None})()
    return template.render(result=RoutePage(rows, 1, True, {}), filters=filters, args={},
                           counts=counts, buildings=buildings, held=held, words=words,
                           links={"card": "/units/{id}?next=/route",
                                  "visit": "/units/{id}/visits/new?next=/route"})


def measure(units: int, n: int) -> dict[str, float]:
    app, path = build(units)
    client = app.test_client()
    r = client.post("/login", data={"username": USERNAME, "password": PASSWORD})
    assert r.status_code == 303, r.status_code
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == USERNAME))
        building_ids = user.building_ids()
        unit_ids = list(db.session.scalars(select(Unit.id).where(
            Unit.building_id.in_(building_ids), Unit.arrears_fen > 0)))
        db.session.remove()
    first = client.get("/route")
    assert first.status_code == 200 and first.data.count(b"data-unit-id") == 30
    rnd = random.Random(1)
    conn = sqlite3.connect(path)
    env = floor_environment()
    with app.test_request_context():
        from fieldapp.route.words import route_words
        words = route_words()
    from fieldapp.route.services import FEES
    result = {
        "route": timed(lambda: ok(client.get("/route")), n),
        # Every row's fee computed again: what a page costs right after its units changed.
        "cold": timed(lambda: (FEES._fees.clear(), ok(client.get("/route"))), n),
        "card": timed(lambda: ok(client.get(f"/units/{rnd.choice(unit_ids)}")), n),
        "floor": timed(lambda: floor_page(conn, env, building_ids, words), n),
        "overdue": len(unit_ids),
        "hit": _cached_timing(app, client, n),
        "html_kb": len(first.data) / 1024,
    }
    conn.close()
    return result


def _cached_timing(app, client, n: int) -> float:
    """The same page while the patch is unchanged: served from the page cache."""
    app.config["ROUTE_CACHE"] = True
    try:
        return timed(lambda: ok(client.get("/route")), n)
    finally:
        app.config["ROUTE_CACHE"] = False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=120_000)
    parser.add_argument("--small", type=int, default=12_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    print(f"Route list bench: patch of ~{PATCH_OVERDUE:,} overdue units, median of "
          f"{args.requests} in-process requests")
    big = measure(args.units, args.requests)
    small = measure(args.small, args.requests)
    print(f"\n{'what':<46}{'measured':>12}   target")
    print(f"{'overdue units in the patch (large db)':<46}{big['overdue']:>12,}   ~1,200")
    print(f"{'route list page 1, ' + format(args.units, ',') + ' units':<46}"
          f"{big['route']:>9.2f} ms   <= 10 ms")
    print(f"{'  the same, every late fee computed again':<46}{big['cold']:>9.2f} ms")
    print(f"{'floor: raw sqlite3 + same templates in Jinja':<46}{big['floor']:>9.2f} ms")
    print(f"{'ratio app / floor':<46}{big['route'] / big['floor']:>11.2f}x   <= 2x")
    print(f"{'ratio app, fees computed again / floor':<46}{big['cold'] / big['floor']:>11.2f}x")
    print(f"{'route list page 1, ' + format(args.small, ',') + ' units':<46}"
          f"{small['route']:>9.2f} ms")
    print(f"{'growth ' + format(args.small, ',') + ' -> ' + format(args.units, ',') + ' units':<46}"
          f"{big['route'] / small['route']:>11.2f}x   <= 1.3x")
    print(f"{'unit card, ' + format(args.units, ',') + ' units':<46}{big['card']:>9.2f} ms")
    print(f"{'route list, patch unchanged (page cache hit)':<46}{big['hit']:>9.2f} ms")
    print(f"{'route list page 1 HTML':<46}{big['html_kb']:>9.1f} KB")


if __name__ == "__main__":
    main()
