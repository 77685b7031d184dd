"""Read-only requests end with COMMIT on PostgreSQL (so the connection keeps its prepared
statements); anything that wrote and did not commit is still rolled back.

These tests run requests without the suite's long-lived app context, so each request
ends its own and the session's teardown runs as in production."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from fieldapp.extensions import db
from fieldapp.models import AuditEvent, Role, Unit
from fieldapp.models.bulk import update_rows

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

    for view in (flushed_only, raw_update, read_then_fail, bulk_update, connection_lost):
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
        assert prepared >= 3  # user, patch, policies, the list's own queries


def test_a_lost_connection_at_the_end_of_a_request_is_discarded(bare_app):
    app = bare_app
    client = app.test_client()
    _sign_in(app, client)
    assert client.get("/_test/connection_lost").status_code == 200
    with app.app_context():
        assert dict(db.session.registry.registry) == {}  # the session was removed
    assert client.get("/route").status_code == 200  # and the next request is served
