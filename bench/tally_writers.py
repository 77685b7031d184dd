"""Writers of one community on PostgreSQL, with the chips' tally kept by its triggers
(fieldapp/models/overdue_tally.py): each writer a transaction of its own, as requests
are, putting its unit on dunning hold or taking it off, all of them counted under the
same tally row. Two ways of keeping the tally side by side, in turns, on the bench's
120,000-unit database:

  upsert  the triggers of migration 0013: each statement adds to the tally's row
  log     today's: each statement adds a row to the log, folded in apart

Scenarios: the writers alone; the writers while an import holds its transaction open
for --hold seconds after changing one unit of the community (imports are one
transaction); and two importers changing two units in opposite order (a deadlock for
one of them, or not). Figures: writes per second, p50/p99/max of one write's
transaction, and errors.

    .venv/bin/python bench/tally_writers.py [--writers 16] [--seconds 4] [--hold 2]
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from bench import pg  # noqa: E402
from bench.route_list import build  # noqa: E402
from fieldapp.models import overdue_tally  # noqa: E402

WORK_S = 0.002  # the rest of a request's transaction, between its write and its commit


def _functions_of_0013() -> list[str]:
    path = ROOT / "migrations" / "versions" / "0013_overdue_tally.py"
    spec = importlib.util.spec_from_file_location("overdue_tally_0013", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [s for s in module.POSTGRESQL if s.startswith("CREATE OR REPLACE FUNCTION")]


KEEPERS = {
    "upsert": _functions_of_0013(),
    "log": [s for s in overdue_tally.trigger_ddl("postgresql")
            if s.startswith("CREATE OR REPLACE FUNCTION")],
}


def connect(url: str) -> psycopg.Connection:
    return psycopg.connect(url.replace("postgresql+psycopg", "postgresql"))


def communities(url: str, n: int) -> list[list[int]]:
    """Units in arrears, not on hold, sharing a community and due date (a tally row):
    `n` + 1 of the commonest pair, then 2 of the next community's."""
    found = []
    with connect(url) as conn:
        pairs = conn.execute(
            "SELECT b.community_id, u.oldest_unpaid_due FROM unit u JOIN building b "
            "ON b.id = u.building_id WHERE u.arrears_fen > 0 AND NOT u.on_hold "
            "GROUP BY 1, 2 HAVING count(*) >= %s ORDER BY count(*) DESC", (n + 1,)).fetchall()
        for community, due in pairs:
            if found and community == found[0][0]:
                continue
            ids = [r[0] for r in conn.execute(
                "SELECT u.id FROM unit u JOIN building b ON b.id = u.building_id "
                "WHERE b.community_id = %s AND u.oldest_unpaid_due = %s "
                "AND u.arrears_fen > 0 AND NOT u.on_hold ORDER BY u.id LIMIT %s",
                (community, due, n + 1 if not found else 2))]
            found.append((community, ids))
            if len(found) == 2:
                return [ids for _, ids in found]
    raise SystemExit("the database has fewer than two communities with units in arrears")


def writers(url: str, units: list[int], seconds: float, during=None) -> dict:
    """Each writer toggles its unit's hold, a transaction a write, for `seconds`;
    `during` runs alongside (an importer)."""
    times, errors, stop = [], [], time.perf_counter() + seconds

    def write(unit_id: int) -> None:
        with connect(url) as conn:
            conn.execute("SET lock_timeout = '10s'")
            conn.commit()
            while time.perf_counter() < stop:
                t = time.perf_counter()
                try:
                    conn.execute("UPDATE unit SET on_hold = NOT on_hold WHERE id = %s",
                                 (unit_id,))
                    time.sleep(WORK_S)
                    conn.commit()
                    times.append(time.perf_counter() - t)
                except psycopg.Error as e:
                    conn.rollback()
                    errors.append(type(e).__name__)

    threads = [threading.Thread(target=write, args=(u,)) for u in units]
    if during:
        threads.append(threading.Thread(target=during))
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"elapsed": time.perf_counter() - started, "times": times, "errors": errors}


def importer(url: str, unit_id: int, hold_s: float, errors: list):
    def run() -> None:
        time.sleep(0.2)  # the writers under way
        with connect(url) as conn:
            try:
                # (A payment of 0.01: arrears may not exceed what is unpaid.)
                conn.execute("UPDATE unit SET arrears_fen = arrears_fen - 1 WHERE id = %s",
                             (unit_id,))
                time.sleep(hold_s)  # the rest of the file
                conn.execute("UPDATE unit SET arrears_fen = arrears_fen + 1 WHERE id = %s",
                             (unit_id,))
                conn.commit()
            except psycopg.Error as e:
                errors.append(type(e).__name__)
    return run


def crossed_importers(url: str, east: list[int], west: list[int]) -> list[str]:
    """Two imports of two communities in opposite order, four units, none shared: one
    changes a unit of the east then one of the west, the other a unit of the west then
    one of the east. Sharing nothing, neither waits; sharing the tally's rows, each
    waits on the other (a deadlock: PostgreSQL aborts one)."""
    errors, ready = [], threading.Barrier(2, timeout=5)
    change = "UPDATE unit SET arrears_fen = arrears_fen + %s WHERE id = %s"

    def run(first: int, second: int) -> None:
        with connect(url) as conn:
            try:
                conn.execute("SET deadlock_timeout = '200ms'")
                conn.execute(change, (-1, first))
                ready.wait()
                conn.execute(change, (-1, second))
                conn.execute(change, (1, first))
                conn.execute(change, (1, second))
                conn.commit()
            except psycopg.Error as e:
                conn.rollback()
                errors.append(type(e).__name__)

    threads = [threading.Thread(target=run, args=(east[0], west[0])),
               threading.Thread(target=run, args=(west[1], east[1]))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def keep_with(url: str, keeper: str) -> None:
    with connect(url) as conn:
        for statement in KEEPERS[keeper]:
            conn.execute(statement)
        conn.execute(overdue_tally.FOLD.replace(":lock", "%s"), (overdue_tally._LOCK,))
        conn.commit()


def ms(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000 if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--hold", type=float, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    url = pg.start_for(120_000)
    build(120_000, url)  # seeded, with today's tables and triggers
    common, west = communities(url, args.writers)
    units, importing = common[:args.writers], common[args.writers]
    print(f"{args.writers} writers, each a transaction a write ({WORK_S * 1000:.0f} ms of "
          f"request work before its commit), units of one community and due date; "
          f"{args.rounds} rounds of {args.seconds:.0f} s per keeper, in turns")
    results = {(k, s): {"elapsed": 0.0, "times": [], "errors": []}
               for k in KEEPERS for s in ("alone", "import open")}
    crossed = {k: [] for k in KEEPERS}
    try:
        for _ in range(args.rounds):
            for keeper in KEEPERS:
                keep_with(url, keeper)
                held_errors: list[str] = []
                for scenario, during in (("alone", None), ("import open", importer(
                        url, importing, args.hold, held_errors))):
                    one = writers(url, units, args.seconds, during)
                    merged = results[(keeper, scenario)]
                    merged["elapsed"] += one["elapsed"]
                    merged["times"] += one["times"]
                    merged["errors"] += one["errors"] + held_errors
                crossed[keeper] += crossed_importers(url, [importing, units[0]], west)
    finally:
        keep_with(url, "log")
        with connect(url) as conn:  # the units as they were, the tally counted again
            conn.execute("UPDATE unit SET on_hold = false WHERE id = ANY(%s)", (units,))
            for statement in overdue_tally.REBUILD:
                conn.execute(statement)
            conn.commit()
    print(f"\n{'keeper':<8}{'scenario':<14}{'writes/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'max ms':>9}{'errors':>8}")
    for (keeper, scenario), r in results.items():
        print(f"{keeper:<8}{scenario:<14}{len(r['times']) / r['elapsed']:>10.0f}"
              f"{statistics.median(r['times']) * 1000:>9.1f}{ms(r['times'], 0.99):>9.1f}"
              f"{max(r['times']) * 1000:>9.1f}{len(r['errors']):>8}")
    print(f"\n{f'two imports crossing two communities, {args.rounds} times':<46}"
          "errors   target 0")
    for keeper, errors in crossed.items():
        print(f"  {keeper:<44}{len(errors):>6}  {', '.join(sorted(set(errors)))}")
    print(f"\ntarget: a write never waits for another transaction it shares no unit with "
          f"(max with an import open ≈ max alone, not +{args.hold:.0f} s); 0 errors")


if __name__ == "__main__":
    main()
