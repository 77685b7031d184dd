"""The route list under load, against DESIGN.md §7: gunicorn with 2 workers on the
120,000-unit database (built by bench/route_list.py), 16 keep-alive connections.

    .venv/bin/python bench/route_load.py [--seconds 15] [--connections 16]
"""
from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.route_list import PASSWORD, TODAY, USERNAME, build  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sign_in(port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/login")
    response = conn.getresponse()
    cookie = response.getheader("Set-Cookie").split(";")[0]
    page = response.read().decode()
    token = page.split('name="csrf-token" content="')[1].split('"')[0]
    body = urllib.parse.urlencode({"username": USERNAME, "password": PASSWORD,
                                   "csrf_token": token})
    conn.request("POST", "/login", body, {"Cookie": cookie,
                                          "Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    response.read()
    assert response.status == 303, response.status
    return response.getheader("Set-Cookie").split(";")[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    _, path = build(120_000)
    port = free_port()
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{path}", SECRET_KEY="bench",
               FIELDAPP_TODAY=TODAY.isoformat(), FIELDAPP_ENV="demo")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", "wsgi:app"], cwd=ROOT, env=env)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        cookie = sign_in(port)
        latencies: list[float] = []
        errors = [0]
        stop = time.perf_counter() + args.seconds
        lock = threading.Lock()

        def worker():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            jar = cookie  # like a browser, keep the session cookie the server sends back
            mine = []
            while time.perf_counter() < stop:
                t = time.perf_counter()
                try:
                    conn.request("GET", "/route", headers={"Cookie": jar,
                                                           "Accept-Encoding": "gzip"})
                    response = conn.getresponse()
                    response.read()
                    jar = (response.getheader("Set-Cookie") or jar).split(";")[0]
                    ok = response.status == 200
                except (OSError, http.client.HTTPException):
                    ok = False
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                mine.append(time.perf_counter() - t)
                if not ok:
                    with lock:
                        errors[0] += 1
            with lock:
                latencies.extend(mine)

        # Warm both workers (imports, caches, first connections) before measuring.
        warm = http.client.HTTPConnection("127.0.0.1", port)
        for _ in range(20):
            warm.request("GET", "/route", headers={"Cookie": cookie})
            warm.getresponse().read()
        started = time.perf_counter()
        stop = started + args.seconds
        threads = [threading.Thread(target=worker) for _ in range(args.connections)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait()
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    print(f"Route list under load: gunicorn, 2 workers, {args.connections} connections, "
          f"{args.seconds:.0f} s, load generator on the same 2 cores")
    print(f"{'what':<40}{'measured':>10}   target")
    print(f"{'requests per second':<40}{len(latencies) / elapsed:>10.0f}   >= 300")
    print(f"{'median latency':<40}{statistics.median(latencies) * 1000:>7.1f} ms")
    print(f"{'p99 latency':<40}{p99:>7.1f} ms   <= 100 ms")
    print(f"{'errors':<40}{errors[0]:>10}   0")


if __name__ == "__main__":
    main()
