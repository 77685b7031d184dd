"""Fixtures: the app on SQLite and on a throwaway PostgreSQL 15 server, clients,
signed-in users. Every test that takes `app` runs once per database."""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from datetime import date
from pathlib import Path

import pytest
from flask import g
from sqlalchemy import text

from fieldapp import create_app
from fieldapp.extensions import db

from . import factories

TODAY = date(2026, 11, 22)
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def ci_is_on(value: str | None) -> bool:
    """CI services set CI=true, some CI=1 or CI=True: any of them means strict."""
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


# In CI a missing PostgreSQL, Chromium or CJK font fails the run instead of skipping.
IN_CI = ci_is_on(os.environ.get("CI"))


def require(present: bool, missing: str) -> None:
    """Fail in CI, skip elsewhere, when something a test needs is not installed."""
    if not present:
        if IN_CI:
            pytest.fail(f"{missing} (CI is set: tests may not skip for it)")
        pytest.skip(missing)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgresql_url():
    """A throwaway PostgreSQL cluster for the session (as `postgres` when root)."""
    require((PG_BIN / "initdb").exists(), f"PostgreSQL server binaries not found in {PG_BIN}")
    root = Path(tempfile.mkdtemp(prefix="doorstep-pg-"))
    data = root / "data"
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    if as_root:
        shutil.chown(root, "postgres", "postgres")
    port = _free_port()

    def run(*cmd):
        subprocess.run([*prefix, *cmd], check=True, capture_output=True)

    run(str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
        "-E", "UTF8", "--no-locale")
    run(str(PG_BIN / "pg_ctl"), "-D", str(data), "-w", "-l", str(root / "log"), "-o",
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off", "start")
    run(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
        "doorstep_test")
    yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/doorstep_test"
    run(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory):
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


_SCHEMA_READY: set[str] = set()


def _fresh_g() -> None:
    for name in list(vars(g)):
        delattr(g, name)


def make_app(url: str, tmp_path: Path, **overrides):
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "FIXED_TODAY": TODAY,
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "LOGIN_FREE_ATTEMPTS": 5,
        # Import jobs run inside the request that starts them, not in a thread.
        "IMPORT_INLINE": True,
        "IMPORT_DIR": str(tmp_path / "imports"),
    }
    config.update(overrides)
    app = create_app(config)
    # Tests keep one app context open, so `g` outlives a request; in production each
    # request has its own. Forget the request's language, user and CSRF token as
    # production would, before anything else in the request looks.
    app.before_request_funcs.setdefault(None, []).insert(0, _fresh_g)
    with app.app_context():
        if url not in _SCHEMA_READY:
            db.drop_all()
            db.create_all()
            _SCHEMA_READY.add(url)
    return app


def _empty_tables(app) -> None:
    with app.app_context():
        db.session.remove()
        # The count of rule changes keeps its one row, as in production.
        tables = [t for t in reversed(db.metadata.sorted_tables) if t.name != "estate_version"]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                names = ", ".join(f'"{t.name}"' for t in tables)
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for t in tables:
                    conn.execute(t.delete())
                # Units deleted after it counted themselves out of the tally, below zero.
                conn.execute(text("DELETE FROM overdue_tally"))
        db.engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request):
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def app(db_url, tmp_path):
    app = make_app(db_url, tmp_path)
    with app.app_context():
        yield app
    _empty_tables(app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def login_as(client):
    """Sign a user in through the real login form."""

    def login(user, password: str = factories.PASSWORD):
        response = client.post("/login", data={"username": user.username, "password": password})
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        return client

    return login


@pytest.fixture(scope="session")
def _words_app():
    """An app for rendering words only: no database is touched."""
    return create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "test-secret",
                       "TESTING": True})


@pytest.fixture
def zh(_words_app):
    """A request in the default language (Simplified Chinese), for rendering words; not
    for tests that also send requests to their own `app`."""
    with _words_app.test_request_context():
        yield


@pytest.fixture
def in_chinese(zh):
    """Render a (lazy) message as the default Simplified Chinese UI would show it."""
    return str


def has_chinese(text: str) -> bool:
    """Text a Chinese reader can read: CJK ideographs and no English words (an
    untranslated message falls back to its English source)."""
    return any("\u4e00" <= ch <= "\u9fff" for ch in text) and \
        re.search(r"[A-Za-z]{3,}", text) is None


@pytest.fixture
def shanghai_clock(monkeypatch):
    """The server machine's own clock set to China Standard Time: times the app stores
    must still be UTC."""
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(autouse=True)
def _fresh_statement_caches():
    """The route list caches its built SQL per process; each test builds its own, so it
    runs the code it names (and mutation testing sees which tests reach the builders)."""
    from fieldapp.route import services
    services._STATEMENTS.clear()
    services._KEPT_EXPRESSIONS.clear()
