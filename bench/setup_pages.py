"""Server time of the set-up pages on a 120,000-unit estate (about 1,200 buildings).

DESIGN.md §7 sets no target for set-up pages; the supervisor dashboard's (≤ 300 ms for
the whole page over 120,000 units) is the yardstick printed beside them. Builds (or
reuses) a seeded SQLite database in bench/.data/ and times in-process requests through
Flask's test client, medians of --requests runs each.

    .venv/bin/python bench/setup_pages.py [--units 120000] [--requests 30]
"""
from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import time
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fieldapp import create_app  # noqa: E402
from fieldapp.extensions import db  # noqa: E402
from fieldapp.models import Building, Community, Role, User  # noqa: E402

TODAY = date(2026, 11, 22)
DATA = ROOT / "bench" / ".data"
PASSWORD = "bench-password-1"
YARDSTICK_MS = 300


def build(units: int):
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"setup-{units}.sqlite3"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "bench",
                      "FIXED_TODAY": TODAY, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        if not path.exists() or _stale(path):
            path.unlink(missing_ok=True)
            db.create_all()
            from fieldapp.demo import seed_demo
            started = time.perf_counter()
            seed_demo(db.session, units=units, seed=1, today=TODAY, echo=lambda *a: None)
            admin = User(username="bench-admin", display_name="Bench", role=Role.ADMIN)
            admin.set_password(PASSWORD)
            db.session.add(admin)
            db.session.commit()
            print(f"  seeded {units:,} units in {time.perf_counter() - started:.1f} s")
    return app


def _stale(path: Path) -> bool:
    """A database from before the latest schema is built again."""
    with sqlite3.connect(path) as conn:
        for table in db.metadata.sorted_tables:
            columns = {row[1] for row in conn.execute(f'PRAGMA table_info("{table.name}")')}
            if not {c.name for c in table.columns} <= columns:
                return True
    return False


def median_ms(client, method: str, url: str, n: int, data=None) -> float:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        r = client.open(url, method=method, data=data)
        times.append((time.perf_counter() - started) * 1000)
        assert r.status_code in (200, 303), (url, r.status_code)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=120_000)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    app = build(args.units)
    with app.app_context():
        buildings = db.session.scalar(select(func.count()).select_from(Building))
        housekeeper = db.session.scalar(select(User).where(User.role == Role.HOUSEKEEPER)
                                        .order_by(User.id))
        patch = [str(i) for i in housekeeper.building_ids()]
        community = db.session.scalar(select(Community.id).order_by(Community.id))
        client = app.test_client()
        assert client.post("/login", data={"username": "bench-admin",
                                           "password": PASSWORD}).status_code == 303
        pages = [
            ("coverage", "GET", "/admin/coverage", None),
            ("a housekeeper's page", "GET", f"/admin/users/{housekeeper.id}", None),
            ("users list", "GET", "/admin/users", None),
            ("policy page", "GET", f"/admin/communities/{community}/policy", None),
            ("save a patch", "POST", f"/admin/users/{housekeeper.id}/buildings",
             {"building": patch}),
        ]
        print(f"{args.units:,} units, {buildings:,} buildings; median of {args.requests}")
        for name, method, url, data in pages:
            ms = median_ms(client, method, url, args.requests, data)
            verdict = "ok" if ms <= YARDSTICK_MS else "over"
            print(f"  {name:<22} {ms:7.1f} ms   (yardstick ≤ {YARDSTICK_MS} ms: {verdict})")


if __name__ == "__main__":
    main()
