"""A PostgreSQL 15 server for the benchmarks: a cluster kept under bench/.data/ (so a
seeded database survives between runs), started on a free port for the run and
stopped at exit. As root it runs as the `postgres` user, as initdb requires."""
from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
from pathlib import Path

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
DATA = Path(__file__).resolve().parent / ".data" / "pg-cluster"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(database: str = "doorstep_bench") -> str:
    """The URL of a running server with `database` created; stopped at exit."""
    if not (PG_BIN / "initdb").exists():
        raise SystemExit(f"PostgreSQL server binaries not found in {PG_BIN}")
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []

    def run(*cmd, check=True):
        return subprocess.run([*prefix, *cmd], check=check, capture_output=True, text=True)

    DATA.parent.mkdir(parents=True, exist_ok=True)
    if as_root:
        shutil.chown(DATA.parent, "postgres", "postgres")
    if not (DATA / "PG_VERSION").exists():
        run(str(PG_BIN / "initdb"), "-D", str(DATA), "-A", "trust", "-U", "postgres",
            "-E", "UTF8", "--no-locale")
    port = _free_port()
    # Durability off: these are measurements of the app, not of the disk.
    run(str(PG_BIN / "pg_ctl"), "-D", str(DATA), "-w", "-l", str(DATA / "log"), "-o",
        f"-p {port} -k {DATA} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c shared_buffers=256MB", "start")
    atexit.register(lambda: run(str(PG_BIN / "pg_ctl"), "-D", str(DATA), "-m", "fast",
                                "stop", check=False))
    exists = run(str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
                 "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{database}'").stdout
    if not exists.strip():
        run(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
            database)
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/{database}"


def start_for(units: int) -> str:
    """As `start`, with a database per estate size (the 120,000-unit one as before), so
    a run at another size leaves the others seeded."""
    return start("doorstep_bench" if units == 120_000 else f"doorstep_bench_{units}")
