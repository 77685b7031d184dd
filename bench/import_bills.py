"""Import of bills from CSV against DESIGN.md §7: rows/s for 1,000,000 bill rows,
parsing included, through the same code the command line and the web page run, into
SQLite and PostgreSQL; the floor is raw `executemany` of the same rows, already parsed,
into the same table in the same run. PostgreSQL loads use COPY.

The CSV is generated once into bench/.data/ (Chinese headers, amounts with separators
and ¥, three date forms, unit numbers as 3-2-1502); each run starts from fresh databases
holding 100,000 units. PostgreSQL: DATABASE_URL, or a throwaway cluster started here.

    .venv/bin/python bench/import_bills.py [--rows 1000000] [--skip-postgresql]
"""
from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from fieldapp import create_app  # noqa: E402
from fieldapp.extensions import db  # noqa: E402
from fieldapp.imports.pipeline import run_import  # noqa: E402
from fieldapp.models import Bill, ImportKind, ImportStatus, Unit  # noqa: E402

TODAY = date(2026, 11, 22)
DATA = ROOT / "bench" / ".data"
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
BUILDINGS, ENTRANCES, FLOORS, PER_FLOOR = 50, 2, 25, 40  # 100,000 units
HEADER = ["单据号", "房号", "收费项目", "计费开始", "计费结束", "应收金额", "应缴日期"]


def unit_codes():
    for b in range(1, BUILDINGS + 1):
        for e in range(1, ENTRANCES + 1):
            for f in range(1, FLOORS + 1):
                for r in range(1, PER_FLOOR + 1):
                    yield b, e, f, f"{f}{r:02d}"


def make_csv(rows: int) -> Path:
    """Bills of the 100,000 units, month by month (kept between runs)."""
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"bills-{rows}.csv"
    if path.exists():
        return path
    rnd = random.Random(1)  # nosec B311 -- repeatable bench data
    codes = [f"{b}-{e}-{room}" for b, e, _f, room in unit_codes()]
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for i in range(rows):
            month = i // len(codes)
            start = date(2025 + month // 12, month % 12 + 1, 1)
            end = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
            due = start + timedelta(days=14)
            amount = rnd.randint(8_000, 600_000)
            yuan = f"{amount // 100:,}.{amount % 100:02d}"
            form = i % 3
            w.writerow([f"B{i:08d}", codes[i % len(codes)],
                        ("物业管理费", "水费", "停车费")[i % 3],
                        start.isoformat(), end.isoformat(),
                        yuan if form else f"¥{yuan}",
                        (due.isoformat(), f"{due.year}/{due.month}/{due.day}",
                         f"{due.year}年{due.month}月{due.day}日")[form]])
    tmp.rename(path)
    return path


def fresh_database(url: str) -> None:
    """The schema and 100,000 units, nothing else."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                      "FIXED_TODAY": TODAY})
    with app.app_context():
        db.drop_all()
        db.create_all()
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO community (id, name, kind, timezone) "
                              "VALUES (1, '阳光花园', 'residential', 'Asia/Shanghai')"))
            conn.execute(text("INSERT INTO policy (community_id, bands, late_fee_grace_days, "
                              "late_fee_daily_ppm, gps_threshold_m, promise_horizon_days, "
                              "promise_grace_days, max_installments, plan_pauses_late_fee, "
                              "broken_promise_steps) VALUES (1, '[]', 15, 300, 150, 30, 3, "
                              "12, true, 1)"))
            conn.execute(Unit.__table__.metadata.tables["building"].insert(), [
                {"id": b, "community_id": 1, "name": f"{b}栋", "address": "", "floors": FLOORS}
                for b in range(1, BUILDINGS + 1)])
            now = datetime(2026, 11, 22, tzinfo=timezone.utc)
            conn.execute(Unit.__table__.insert(), [
                {"building_id": b, "number": f"{e}-{room}", "floor": f, "entrance": str(e),
                 "area_m2": 89.5, "use": "residence", "occupancy": "owner",
                 "late_fee_waived_fen": 0, "unpaid_fen": 0, "arrears_fen": 0,
                 "broken_promises_in_row": 0, "on_hold": False, "updated_at": now}
                for b, e, f, room in unit_codes()])
        db.engine.dispose()


def timed_import(url: str, path: Path) -> tuple[float, int, int]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                      "FIXED_TODAY": TODAY})
    with app.app_context():
        marks = {}

        def progress(phase, done, total):
            marks.setdefault(phase, time.perf_counter())
        started = time.perf_counter()
        outcome = run_import(db.session, ImportKind.BILLS, path, today=TODAY, progress=progress)
        db.session.commit()
        elapsed = time.perf_counter() - started
        print(f"  reading and checking {marks['writing'] - started:.1f} s, writing "
              f"{marks['summaries'] - marks['writing']:.1f} s, unit summaries "
              f"{time.perf_counter() - marks['summaries']:.1f} s")
        assert outcome.status == ImportStatus.DONE, (outcome.problems[:5], outcome.message)
        stored = db.session.scalar(select(func.count()).select_from(Bill))
        overdue = db.session.scalar(select(func.count()).select_from(Unit)
                                    .where(Unit.arrears_fen > 0))
        db.engine.dispose()
    return elapsed, stored, overdue


def parsed_rows(path: Path, url: str) -> list[tuple]:
    """The file's rows as the floor inserts them: parsed before the clock starts."""
    engine = create_engine(url)
    with engine.connect() as conn:
        ids = {(b, n): i for i, b, n in conn.execute(text(
            "SELECT unit.id, building.name, unit.number FROM unit JOIN building "
            "ON building.id = unit.building_id"))}
    engine.dispose()
    rows = []
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        for ext, code, fee, start, _end, _amount, _due in reader:
            b, e, room = code.split("-")
            rows.append((ids[(f"{b}栋", f"{e}-{room}")], fee, start[:7], 10_000, 0,
                         date.fromisoformat(start) + timedelta(days=14), ext))
    return rows


def floor_sqlite(db_path: Path, rows: list[tuple]) -> float:
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    as_text = [(*r[:5], r[5].isoformat(), r[6]) for r in rows]
    started = time.perf_counter()
    conn.executemany("INSERT INTO bill (unit_id, fee_type, period, amount_fen, paid_fen, "
                     "due_date, external_id) VALUES (?, ?, ?, ?, ?, ?, ?)", as_text)
    conn.commit()
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def floor_postgresql(url: str, rows: list[tuple]) -> float:
    import psycopg
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        started = time.perf_counter()
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO bill (unit_id, fee_type, period, amount_fen, "
                            "paid_fen, due_date, external_id) VALUES (%s, %s, %s, %s, %s, %s, "
                            "%s)", rows)
        conn.commit()
        return time.perf_counter() - started


@contextmanager
def postgresql():
    """DATABASE_URL, or a throwaway cluster the way tests/conftest.py starts one."""
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://")
        return
    root = Path(tempfile.mkdtemp(prefix="doorstep-bench-pg-"))
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    if as_root:
        shutil.chown(root, "postgres", "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    def run(*cmd):
        subprocess.run([*prefix, *cmd], check=True, capture_output=True)  # nosec B603

    run(str(PG_BIN / "initdb"), "-D", str(root / "data"), "-A", "trust", "-U", "postgres",
        "-E", "UTF8", "--no-locale")
    run(str(PG_BIN / "pg_ctl"), "-D", str(root / "data"), "-w", "-l", str(root / "log"), "-o",
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off", "start")
    run(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "bench")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/bench"
    finally:
        run(str(PG_BIN / "pg_ctl"), "-D", str(root / "data"), "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


def report(name: str, n: int, elapsed: float, floor: float, overdue: int, target: str) -> None:
    rate, floor_rate = n / elapsed, n / floor
    print(f"{name}: {n:,} rows in {elapsed:.1f} s = {rate:,.0f} rows/s "
          f"(raw executemany floor {floor_rate:,.0f} rows/s; {rate / floor_rate:.0%} of it); "
          f"{overdue:,} units now overdue   target: {target}, >= 25 % of the floor")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--skip-postgresql", action="store_true")
    args = parser.parse_args()
    path = make_csv(args.rows)
    print(f"{path.name}: {path.stat().st_size / 1e6:.0f} MB")
    db_path = DATA / "import-bench.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{db_path}"
    fresh_database(url)
    rows = parsed_rows(path, url)
    elapsed, stored, overdue = timed_import(url, path)
    assert stored == args.rows
    # The floor starts where the import started: a fresh file with the units and no
    # bills (inserting after a DELETE reuses free pages, which the import did not have).
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    fresh_database(url)
    floor = floor_sqlite(db_path, rows)
    report("SQLite", args.rows, elapsed, floor, overdue, ">= 50,000 rows/s")
    if args.skip_postgresql or (not os.environ.get("DATABASE_URL") and
                                not (PG_BIN / "initdb").exists()):
        return
    with postgresql() as pg_url:
        fresh_database(pg_url)
        elapsed, stored, overdue = timed_import(pg_url, path)
        assert stored == args.rows
        fresh_database(pg_url)
        floor = floor_postgresql(pg_url, rows)
        report("PostgreSQL (COPY)", args.rows, elapsed, floor, overdue, "no figure in §7")


if __name__ == "__main__":
    main()
