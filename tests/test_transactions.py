"""On PostgreSQL a request's transaction begins at its first write (fieldapp/transactions.py):
reads run without BEGIN/COMMIT and the connection keeps its prepared statements; anything
that wrote and did not commit is still rolled back, all of it.

These tests run requests without the suite's long-lived app context, so each request
ends its own and the session's teardown runs as in production."""
from __future__ import annotations

import time

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.pool import NullPool

from fieldapp.extensions import db
from fieldapp.models import AuditEvent, Role, Unit
from fieldapp.models.bulk import update_rows
from fieldapp.transactions import is_alive, may_write

from .conftest import _empty_tables, make_app
from .factories import PASSWORD, make_building, make_unit, make_user


@pytest.fixture
def bare_app(db_url, tmp_path):
    """An app whose requests each push and end their own app context."""
    app = make_app(db_url, tmp_path)

    def flushed_only():  # writes, flushes, forgets to commit
        db.session.add(AuditEvent(action="test", entity="unit"))
        db.session.flush()
        return "flushed"

    def raw_update():  # a write the ORM does not see
        db.session.execute(text("UPDATE unit SET floor = floor + 1"))
        return "updated"

    def read_then_fail():
        db.session.add(AuditEvent(action="test", entity="unit"))
        db.session.flush()
        raise RuntimeError("after the flush")

    def bulk_update():  # through the driver (COPY / executemany), SQLAlchemy unaware
        unit_id = db.session.scalar(select(Unit.id))
        update_rows(db.session, Unit.__table__, ["floor"], [(unit_id, 99)])
        return "bulk"

    def connection_lost():  # a read, then the connection is lost and the error caught
        db.session.execute(text("SELECT 1"))
        db.session.connection().invalidate()
        return "lost"

    def write_twice_then_fail():  # two writes in separate statements, then an error
        db.session.execute(text("UPDATE unit SET floor = floor + 1"))
        db.session.execute(text("UPDATE unit SET floor = floor + 1"))
        raise RuntimeError("after two writes")

    for view in (flushed_only, raw_update, read_then_fail, bulk_update, connection_lost,
                 write_twice_then_fail):
        app.add_url_rule(f"/_test/{view.__name__}", view.__name__, view)
    yield app
    _empty_tables(app)


def _sign_in(app, client):
    with app.app_context():
        hk = make_user(Role.HOUSEKEEPER, buildings=[b := make_building()])
        floor = make_unit(b).floor
        db.session.commit()
        username = hk.username
        db.session.remove()
    assert client.post("/login", data={"username": username, "password": PASSWORD}
                       ).status_code == 303
    return floor


def test_a_request_that_wrote_and_did_not_commit_is_rolled_back(bare_app):
    app = bare_app
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    floor = _sign_in(app, client)
    assert client.get("/_test/flushed_only").status_code == 200
    assert client.get("/_test/raw_update").status_code == 200
    assert client.get("/_test/read_then_fail").status_code == 500
    assert client.get("/_test/bulk_update").status_code == 200
    assert client.get("/_test/write_twice_then_fail").status_code == 500
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "test")) == 0
        assert db.session.scalar(text("SELECT floor FROM unit")) == floor


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_read_only_requests_keep_their_prepared_statements(bare_app):
    """psycopg forgets its prepared statements on ROLLBACK; a route list read ten times
    (psycopg prepares a statement once it has run it five times) leaves them on the
    connection."""
    app = bare_app
    client = app.test_client()
    _sign_in(app, client)
    for _ in range(10):
        assert client.get("/route").status_code == 200
    with app.app_context():
        assert db.engine.pool.checkedout() == 0
        prepared = db.session.scalar(text("SELECT count(*) FROM pg_prepared_statements"))
        assert prepared >= 2  # the user, the list's units (its rules are kept in memory)


def test_a_lost_connection_at_the_end_of_a_request_is_discarded(bare_app):
    app = bare_app
    client = app.test_client()
    _sign_in(app, client)
    assert client.get("/_test/connection_lost").status_code == 200
    with app.app_context():
        assert dict(db.session.registry.registry) == {}  # the session was removed
    assert client.get("/route").status_code == 200  # and the next request is served


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_reads_run_outside_a_transaction_and_writes_inside_one(bare_app):
    """A route list sends no BEGIN (each SELECT finds the connection idle afterwards);
    a request that writes holds one transaction from its first write to its commit."""
    app = bare_app
    client = app.test_client()
    _sign_in(app, client)
    assert client.get("/route").status_code == 200  # the day's catch-up wrote, once
    seen = []

    def status(conn, _cursor, statement, *_):
        raw = conn.connection.dbapi_connection
        seen.append((statement.split()[0].upper(), TransactionStatus(raw.pgconn.transaction_status).name))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "after_cursor_execute", status)
    try:
        assert client.get("/route").status_code == 200
        assert seen and {state for _, state in seen} == {"IDLE"}
        seen.clear()
        assert client.get("/_test/write_twice_then_fail").status_code == 500
    finally:
        event.remove(engine, "after_cursor_execute", status)
    # the sign-in's read before the first write, then both writes in one transaction;
    # the error page reads again after the rollback
    assert seen[:3] == [("SELECT", "IDLE"), ("UPDATE", "INTRANS"), ("UPDATE", "INTRANS")]
    assert {verb for verb, _ in seen[3:]} <= {"SELECT"}


@pytest.mark.parametrize("statement, writes", [
    ("SELECT unit.id FROM unit", False),
    ("  select 1", False),
    ("SELECT unit.for_update FROM unit", False),
    ("SELECT unit.id FROM unit WHERE unit.id = 1 FOR UPDATE", True),
    ("SELECT id FROM unit FOR NO KEY UPDATE SKIP LOCKED", True),
    ("SELECT id FROM counter\nFOR SHARE", True),
    ("WITH moved AS (UPDATE unit SET floor = 2 RETURNING id) SELECT id FROM moved", True),
    ("INSERT INTO audit_event (action) VALUES ('x')", True),
    ("SAVEPOINT sa_savepoint_1", True),
    ("SET LOCAL statement_timeout = 1000", True),
])
def test_what_counts_as_a_write(statement, writes):
    assert may_write(statement) is writes


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_connection_the_server_closed_is_replaced_before_a_request_uses_it(bare_app):
    """No ping per request: a terminated backend leaves a readable socket, which the pool
    notices when it hands the connection out."""
    app = bare_app
    client = app.test_client()
    _sign_in(app, client)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()  # the pool is empty: the next connection is the one killed
        raw = db.engine.raw_connection()
        pid = raw.driver_connection.info.backend_pid
        assert is_alive(raw.driver_connection)
        killer = create_engine(db.engine.url, poolclass=NullPool)
        with killer.connect() as other:
            assert other.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        killer.dispose()
        deadline = time.monotonic() + 5
        while is_alive(raw.driver_connection) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not is_alive(raw.driver_connection)
        raw.close()  # back to the pool, which holds nothing else
    for _ in range(3):
        assert client.get("/route").status_code == 200
    with app.app_context():
        assert db.session.scalar(text("SELECT pg_backend_pid()")) != pid


def test_postgresql_gets_production_pool_settings_when_the_url_is_given_as_an_override(
        tmp_path):
    from fieldapp import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://u@127.0.0.1:1/x",
                      "SECRET_KEY": "x"})
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_recycle"] == 1800
    assert options["connect_args"]["keepalives"] == 1
