"""On PostgreSQL a transaction begins at the first write, not at the first read.

Most requests only read, and each statement already sees its own snapshot under READ
COMMITTED, so wrapping their SELECTs in BEGIN … COMMIT bought nothing but two round
trips a request. The pooled connection therefore runs in autocommit, and the first
statement that may write (anything but a plain SELECT, or a SELECT … FOR UPDATE/SHARE)
or streams its result (a server-side cursor) is preceded by a BEGIN: from there until
the session commits or rolls back, the request's writes are one transaction as before. A read-only request ends with nothing to roll back,
so psycopg keeps its prepared statements (it forgets them on every ROLLBACK).

A connection given an explicit isolation level (a backup's REPEATABLE READ snapshot, an
AUTOCOMMIT block for VACUUM) is left to that setting.

The pool checks a connection it hands out without a round trip: an idle connection has
nothing to read, so a readable socket means the server has closed it (restart, idle
timeout, a terminated backend) and the pool takes a fresh one.
"""
from __future__ import annotations

import re
import select

from flask import Flask
from psycopg import ServerCursor
from psycopg.pq import TransactionStatus
from sqlalchemy import event, exc

from .extensions import db

_LOCKING_READ = re.compile(r"\bFOR\s+(?:NO\s+KEY\s+UPDATE|UPDATE|KEY\s+SHARE|SHARE)\b", re.I)


def init_app(app: Flask) -> None:
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return  # SQLite: pysqlite already begins its transactions at the first write
    with app.app_context():
        engine = db.engine
    event.listen(engine, "checkout", _checkout)
    event.listen(engine, "before_cursor_execute", _before_statement)


def may_write(statement: str) -> bool:
    """Conservative: a statement that could change data or take a lock (WITH … UPDATE,
    SAVEPOINT, SET, SELECT … FOR UPDATE) counts as a write."""
    if statement.lstrip()[:6].upper() != "SELECT":
        return True
    return _LOCKING_READ.search(statement) is not None


def begin_writing(connection) -> None:
    """Writes that bypass SQLAlchemy's cursor (COPY, a raw executemany) call this first,
    so they run inside the session's transaction."""
    if connection.dialect.name == "postgresql" \
            and "isolation_level" not in connection.get_execution_options():
        _begin(connection.connection.dbapi_connection)


def _begin(raw) -> None:
    if raw.autocommit and raw.pgconn.transaction_status == TransactionStatus.IDLE:
        raw.execute("BEGIN")


def _before_statement(conn, cursor, statement, _params, _context, _many):
    # A streamed result is a server-side cursor, which lives only inside a transaction.
    if (may_write(statement) or isinstance(cursor, ServerCursor)) \
            and "isolation_level" not in conn.get_execution_options():
        _begin(conn.connection.dbapi_connection)


def _checkout(raw, _record, _proxy):
    if not is_alive(raw):
        raise exc.DisconnectionError("the server closed this connection")
    if not raw.autocommit and raw.pgconn.transaction_status == TransactionStatus.IDLE:
        raw.autocommit = True  # reset to the transactional default when last returned


def is_alive(raw) -> bool:
    """False when the server has closed the connection, found without a round trip."""
    if raw.closed or raw.broken:
        return False
    poller = select.poll()
    poller.register(raw.pgconn.socket, select.POLLIN | select.POLLERR | select.POLLHUP)
    return not poller.poll(0)
