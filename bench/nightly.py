"""The nightly arrears refresh for one new day (DESIGN.md §7: "set-based SQL, a few
seconds"; the hardening issue: ≥ 10× faster than the query-per-unit loop it replaced,
both printed), on copies of the 120,000-unit bench database, SQLite and PostgreSQL.
Also: the whole job as `flask refresh-arrears` runs it (policies, promises, the chips'
tally counted again), and the most a route-list request spends catching up when the
job has not run.

    .venv/bin/python bench/nightly.py [--units 120000] [--days 1] [--skip-postgres]
                                      [--no-loop]
"""
from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select  # noqa: E402

from bench import pg  # noqa: E402
from bench.route_list import DATA, PASSWORD, TODAY, USERNAME, build  # noqa: E402
from fieldapp import create_app  # noqa: E402
from fieldapp.domain.summary import refresh_stale, stale_filter, write_summary  # noqa: E402
from fieldapp.extensions import db  # noqa: E402
from fieldapp.models import Bill, Unit  # noqa: E402
from fieldapp.ops import nightly_refresh  # noqa: E402


def loop_refresh(session, today) -> int:
    """What the job did before: a query and an update per stale unit."""
    ids = list(session.scalars(select(Unit.id).where(stale_filter(today))))
    for unit_id in ids:
        bills = list(session.execute(select(Bill.amount_fen, Bill.paid_fen, Bill.due_date)
                                     .where(Bill.unit_id == unit_id)).all())
        write_summary(session, unit_id, bills, today)
    return len(ids)


def run_on(url: str, day, fn) -> tuple[int, float]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                      "FIXED_TODAY": day})
    with app.app_context():
        started = time.perf_counter()
        n = fn(db.session, day)
        db.session.commit()
        seconds = time.perf_counter() - started
        db.engine.dispose()
    return n, seconds


def catch_up_ms(url: str, day) -> tuple[float, float, float]:
    """The first route list request of a day the job missed, for the bench's patch: the
    milliseconds it spent catching up (the two refresh calls, timed inside the request),
    the whole request, and the next request."""
    from fieldapp import catch_up as module  # where the route list's catch-up calls them
    spent = [0.0]

    def timed(fn):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[0] += (time.perf_counter() - started) * 1000
        return wrapper

    originals = module.refresh_stale, module.refresh_due_promises
    module.refresh_stale, module.refresh_due_promises = map(timed, originals)
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                          "FIXED_TODAY": day, "WTF_CSRF_ENABLED": False, "ROUTE_CACHE": False})
        client = app.test_client()
        assert client.post("/login", data={"username": USERNAME, "password": PASSWORD}
                           ).status_code == 303
        started = time.perf_counter()
        assert client.get("/route").status_code == 200
        first = (time.perf_counter() - started) * 1000
        catch_up, spent[0] = spent[0], 0.0
        started = time.perf_counter()
        client.get("/route")
        with app.app_context():
            db.engine.dispose()
        return catch_up, first, (time.perf_counter() - started) * 1000
    finally:
        module.refresh_stale, module.refresh_due_promises = originals


COPIES = ("loop", "set", "request", "job")


def sqlite_copies(units: int) -> list[str]:
    build(units)
    source = DATA / f"route-{units}.sqlite3"
    urls = []
    for name in COPIES:
        target = DATA / f"nightly-{name}.sqlite3"
        target.unlink(missing_ok=True)
        # The backup API, not a file copy: the latest commits may still be in the WAL.
        with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        urls.append(f"sqlite:///{target}")
    return urls


def postgres_copies(units: int) -> list[str]:
    base = pg.start_for(units)
    app, _ = build(units, base)
    with app.app_context():  # a template database must have no connections
        db.session.remove()
        db.engine.dispose()
    urls = []
    psql = [str(pg.PG_BIN / "psql")]
    host, port = base.split("@")[1].split("/")[0].split(":")
    template = base.rsplit("/", 1)[1]
    for name in COPIES:
        db_name = f"nightly_{name}"
        sql = (f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE); "
               f"CREATE DATABASE {db_name} TEMPLATE {template}")
        for statement in sql.split("; "):
            subprocess.run(["runuser", "-u", "postgres", "--", *psql, "-h", host, "-p", port,
                            "-U", "postgres", "-c", statement], check=True,
                           capture_output=True)
        urls.append(base.rsplit("/", 1)[0] + "/" + db_name)
    return urls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=120_000)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--catch-up-only", action="store_true",
                        help="only the catch-up of a route request (no loop, no job)")
    parser.add_argument("--no-loop", action="store_true",
                        help="the set-based refresh without the old loop (minutes at 1.2M)")
    args = parser.parse_args()
    day = TODAY + timedelta(days=args.days)
    print(f"Nightly refresh, {args.units:,} units, {args.days} new day(s)\n")
    print(f"{'database':<12}{'stale units':>12}{'loop':>10}{'set-based':>11}{'speed-up':>10}"
          f"   target{'whole job':>11}   catch-up in the first request (target <= 100 ms); "
          "request; next")
    kinds = [("SQLite", sqlite_copies)] + ([] if args.skip_postgres else
                                            [("PostgreSQL", postgres_copies)])
    for label, copies in kinds:
        loop_url, set_url, request_url, job_url = copies(args.units)
        catch_up, first, after = catch_up_ms(request_url, day)
        if args.catch_up_only:
            print(f"{label:<12}{catch_up:.0f} ms of catch-up in a {first:.0f} ms first request;"
                  f" next {after:.0f} ms", flush=True)
            continue
        m, set_s = run_on(set_url, day, refresh_stale)
        # The job as `flask refresh-arrears` runs it: policies, promises, the tally counted.
        _, job_s = run_on(job_url, day, lambda session, d: nightly_refresh(session, d)[1])
        if args.no_loop:
            print(f"{label:<12}{m:>12,}{'-':>10}{set_s:>10.2f}s{'-':>10}{'':>9}{job_s:>10.2f}s"
                  f"   {catch_up:.0f} ms; {first:.0f} ms; {after:.0f} ms", flush=True)
            continue
        n, loop_s = run_on(loop_url, day, loop_refresh)
        assert n == m, (n, m)
        print(f"{label:<12}{n:>12,}{loop_s:>9.2f}s{set_s:>10.2f}s{loop_s / set_s:>9.1f}x"
              f"   >= 10x{job_s:>10.2f}s   {catch_up:.0f} ms; {first:.0f} ms; {after:.0f} ms",
              flush=True)


if __name__ == "__main__":
    main()
