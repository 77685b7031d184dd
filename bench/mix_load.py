"""The app while people work (DESIGN.md §7 and the performance issue): gunicorn on the
120,000-unit bench database, 20 housekeepers with patches of ~1,200 overdue units each
reloading their route list and opening cards, supervisors on the all-patches view, and a
stream of visits (5 a second in all) posted by the housekeepers into their own patches.

Each scenario runs for --seconds on keep-alive connections (one per person, closed loop,
no think time, so the figures are the server's capacity), in --rounds short turns with
the other database's server, so that the machine's drift falls on both. The same run measures the
server's floor, `/healthz` (a bare Flask answer through the same gunicorn and the same
load generator), and each scenario with and without the write stream, on SQLite and on
PostgreSQL. The load generator shares the machine's cores with the server.

    .venv/bin/python bench/mix_load.py [--seconds 15] [--rounds 5] [--patches 20]
                                       [--db sqlite,postgres]
"""
from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bench import pg  # noqa: E402
from bench.route_list import TODAY, build  # noqa: E402
from bench.route_load import free_port  # noqa: E402
from fieldapp.extensions import db  # noqa: E402
from fieldapp.models import Assignment, Role, Unit, User  # noqa: E402

PASSWORD = "bench-password-1"
PER_PATCH = 1_200
WRITES_PER_S = 5.0
SUPERVISORS = 2
TOKEN = re.compile(r'name="csrf-token" content="([^"]+)"')


def make_patches(app, patches: int) -> dict[str, list[int]]:
    """Housekeepers mix-hk-NN, each with buildings holding ~1,200 overdue units, and
    supervisors; kept in the bench database between runs. Returns each housekeeper's
    overdue unit ids."""
    with app.app_context():
        names = [f"mix-hk-{i:02d}" for i in range(patches)]
        have = set(db.session.scalars(select(User.username).where(User.username.in_(names))))
        if len(have) < patches:
            # Disjoint from each other; the demo's own housekeepers cover the same
            # buildings too, as colleagues' patches overlap.
            taken = set(db.session.scalars(select(Assignment.building_id).join(User).where(
                User.username.like("mix-hk-%"))))
            overdue = (select(Unit.building_id, func.count())
                       .where(Unit.arrears_fen > 0, Unit.oldest_unpaid_due < TODAY)
                       .group_by(Unit.building_id).order_by(Unit.building_id))
            free = [(b, n) for b, n in db.session.execute(overdue) if b not in taken]
            for name in names:
                if name in have:
                    continue
                user = User(username=name, display_name=name, role=Role.HOUSEKEEPER)
                user.set_password(PASSWORD)
                total = 0
                while free and total < PER_PATCH:
                    building_id, n = free.pop(0)
                    user.assignments.append(Assignment(building_id=building_id))
                    total += n
                if total < PER_PATCH * 0.8:
                    raise SystemExit(f"not enough overdue units left for {name}")
                db.session.add(user)
            for i in range(SUPERVISORS):
                if not db.session.scalar(select(User.id).where(
                        User.username == f"mix-sv-{i}")):
                    sv = User(username=f"mix-sv-{i}", display_name="sv", role=Role.SUPERVISOR)
                    sv.set_password(PASSWORD)
                    db.session.add(sv)
            db.session.commit()
        units = {}
        for name in names:
            user = db.session.scalar(select(User).where(User.username == name))
            units[name] = list(db.session.scalars(
                select(Unit.id).join(Assignment, Assignment.building_id == Unit.building_id)
                .where(Assignment.user_id == user.id, Unit.arrears_fen > 0,
                       Unit.oldest_unpaid_due < TODAY)))
        db.session.remove()
        db.engine.dispose()
        return units


class Person:
    """One browser: a keep-alive connection, its cookie and its CSRF token."""

    def __init__(self, port: int, username: str):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}
        page = self.request("GET", "/login")[1]
        body = urllib.parse.urlencode({"username": username, "password": PASSWORD,
                                       "csrf_token": TOKEN.search(page).group(1)})
        status, _ = self.request("POST", "/login", body)
        assert status == 303, (username, status)
        status, page = self.request("GET", "/route")
        assert status == 200 and TOKEN.search(page), (username, status, page[:300])
        self.token = TOKEN.search(page).group(1)

    def request(self, method: str, url: str, body: str | None = None) -> tuple[int, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
                   "Accept-Encoding": "identity"}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, url, body, headers)
            response = self.conn.getresponse()
            text = response.read().decode()
        except (OSError, http.client.HTTPException):
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            return 0, ""
        for cookie in response.msg.get_all("Set-Cookie") or ():
            name, _, value = cookie.split(";")[0].partition("=")
            self.cookies[name.strip()] = value
        return response.status, text

    def post_visit(self, unit_id: int) -> int:
        body = urllib.parse.urlencode({"csrf_token": self.token, "outcome": "nobody_home",
                                       "client_uuid": str(uuid.uuid4())})
        return self.request("POST", f"/units/{unit_id}/visits", body)[0]


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)

    def add(self, kind: str, seconds: float, ok: bool):
        with self.lock:
            self.times[kind].append(seconds)
            if not ok:
                self.errors[kind] += 1


def run(port: int, people: dict, units: dict, scenario: str, seconds: float) -> dict:
    """Closed-loop readers for `seconds`, with the write stream when the scenario has it."""
    tally = Tally()
    stop = time.perf_counter() + seconds
    writes = scenario.endswith("+ writes")
    mix = scenario.startswith("mix")
    hello = scenario.startswith("hello")

    def reader(person: Person, mine: list[int], kind: str):
        rnd = random.Random(kind + str(id(person)))
        n = 0
        while time.perf_counter() < stop:
            if hello:
                url, what = "/healthz", "hello"
            elif mix and kind == "hk" and n % 2:
                url, what = f"/units/{rnd.choice(mine)}", "card"
            else:
                url, what = "/route", "route" if kind == "hk" else "all patches"
            t = time.perf_counter()
            status, _ = person.request("GET", url)
            tally.add(what, time.perf_counter() - t, status == 200)
            n += 1

    def writer(person: Person, mine: list[int], offset: float, every: float):
        # The same housekeeper's browser writes on a connection of its own (the phone's
        # outbox), so the reader's loop stays closed.
        rnd = random.Random(offset)
        due = time.perf_counter() + offset
        while due < stop:
            time.sleep(max(0.0, due - time.perf_counter()))
            t = time.perf_counter()
            status = person.post_visit(rnd.choice(mine))
            tally.add("visit", time.perf_counter() - t, status == 303)
            due += every

    threads = []
    for name, person in people["hk"].items():
        threads.append(threading.Thread(target=reader, args=(person, units[name], "hk")))
    if mix or hello:
        for person in people["sv"]:
            threads.append(threading.Thread(target=reader, args=(person, [], "sv")))
    if writes:
        every = len(people["out"]) / WRITES_PER_S
        for i, (name, person) in enumerate(people["out"].items()):
            threads.append(threading.Thread(
                target=writer, args=(person, units[name], i * every / len(people["out"]),
                                     every)))
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return {"elapsed": elapsed, "times": tally.times, "errors": tally.errors}


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * p) - 1)] * 1000


def serve(url: str, workers: int):
    port = free_port()
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="bench", FIELDAPP_ENV="demo",
               FIELDAPP_TODAY=TODAY.isoformat())
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind",
         f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"], cwd=ROOT, env=env)
    for _ in range(200):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/healthz")
            return server, port
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not start")


SCENARIOS = ("hello", "route list", "route list + writes", "mix", "mix + writes")


def sign_in_everyone(port: int, units: dict) -> dict:
    people = {"hk": {name: Person(port, name) for name in units},
              "sv": [Person(port, f"mix-sv-{i}") for i in range(SUPERVISORS)]}
    people["out"] = {name: Person(port, name) for name in units}
    for person in [*people["hk"].values(), *people["sv"]]:  # warm every worker's caches
        for _ in range(3):
            person.request("GET", "/route")
    return people


def taking_turns(servers: dict, args) -> dict[str, dict]:
    """Each scenario on each database in turn, in --rounds short runs, so that a slower
    minute of the machine falls on both: label -> scenario -> merged result."""
    results = {label: {s: {"elapsed": 0.0, "times": defaultdict(list),
                           "errors": defaultdict(int)} for s in SCENARIOS}
               for label in servers}
    for _ in range(args.rounds):
        for scenario in SCENARIOS:
            for label, (port, people, units) in servers.items():
                one = run(port, people, units, scenario, args.seconds / args.rounds)
                merged = results[label][scenario]
                merged["elapsed"] += one["elapsed"]
                for what, times in one["times"].items():
                    merged["times"][what] += times
                for what, n in one["errors"].items():
                    merged["errors"][what] += n
    return results


def report(label: str, results: dict, args) -> tuple:
    print(f"\n{label}: gunicorn {args.workers} workers, {args.seconds:.0f} s per scenario in "
          f"{args.rounds} turns with the other database, load generator on the same cores")
    print(f"{'scenario':<22}{'what':<14}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    per_s = {}
    for scenario, result in results.items():
        total = sum(len(v) for v in result["times"].values())
        for what, times in sorted(result["times"].items()):
            rate = len(times) / result["elapsed"]
            per_s[(scenario, what)] = (rate, pct(times, 0.99))
            print(f"{scenario:<22}{what:<14}{rate:>8.1f}{statistics.median(times) * 1000:>9.1f}"
                  f"{pct(times, 0.99):>9.1f}{result['errors'].get(what, 0):>8}")
        per_s[(scenario, "all")] = (total / result["elapsed"], 0.0)
        print(f"{scenario:<22}{'all':<14}{total / result['elapsed']:>8.1f}")
    alone, loaded = per_s[("route list", "route")], per_s[("route list + writes", "route")]
    mix_alone, mix_loaded = per_s[("mix", "route")], per_s[("mix + writes", "route")]
    hello = per_s[("hello", "hello")][0]
    writes = per_s.get(("route list + writes", "visit"), (0, 0))
    print(f"\n{'figure':<58}{'measured':>10}   target")
    print(f"{'floor: /healthz req/s, same server and generator':<58}{hello:>10.0f}")
    print(f"{'route list req/s with writes / without':<58}"
          f"{loaded[0] / alone[0]:>9.0%}    >= 80 %")
    print(f"{'route list p99 with writes (ms)':<58}{loaded[1]:>10.1f}   <= 100")
    print(f"{'mix: route list req/s with writes / without':<58}"
          f"{mix_loaded[0] / mix_alone[0]:>9.0%}    >= 80 %")
    # §7's p99 is for the route list under its own load; the mix is a closed loop of
    # more connections than workers, so its p99 is their queue, shown but not judged.
    print(f"{'mix: route list p99 with writes (ms)':<58}{mix_loaded[1]:>10.1f}   (none in §7)")
    print(f"{'mix req/s with writes / hello':<58}"
          f"{per_s[('mix + writes', 'all')][0] / hello:>9.1%}    >= 10 %")
    print(f"{'writes achieved per second (asked 5)':<58}{writes[0]:>10.1f}   5")
    print(f"{'visit post p99 (ms)':<58}{writes[1]:>10.1f}")
    return (label, alone[0], loaded[0], loaded[1], mix_loaded[0], mix_loaded[1], hello)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--patches", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--units", type=int, default=120_000)
    parser.add_argument("--db", default="sqlite,postgres")
    args = parser.parse_args()
    servers, processes = {}, []
    try:
        for which in args.db.split(","):
            url = pg.start_for(args.units) if which == "postgres" else None
            app, path = build(args.units, url)
            units = make_patches(app, args.patches)
            sizes = [len(v) for v in units.values()]
            print(f"{which}: {len(units)} patches, {min(sizes)}–{max(sizes)} overdue units each")
            server, port = serve(url or f"sqlite:///{path}", args.workers)
            processes.append(server)
            servers[which] = (port, sign_in_everyone(port, units), units)
        results = taking_turns(servers, args)
    finally:
        for server in processes:
            server.terminate()
            server.wait()
    rows = [report(label, result, args) for label, result in results.items()]
    if len(rows) == 2:
        (_, s_alone, s_loaded, *_), (_, p_alone, p_loaded, *_) = rows
        print(f"\n{'PostgreSQL / SQLite route list req/s, no writes':<58}"
              f"{p_alone / s_alone:>9.2f}×   >= 1.0×")
        print(f"{'PostgreSQL / SQLite route list req/s, with writes':<58}"
              f"{p_loaded / s_loaded:>9.2f}×   >= 1.0×")


if __name__ == "__main__":
    main()
