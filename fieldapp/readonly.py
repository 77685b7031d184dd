"""Read-only requests end their PostgreSQL transaction with COMMIT, not ROLLBACK.

psycopg forgets the connection's prepared statements on every ROLLBACK, and the session
rolls back at the end of each request: so every request parsed and planned each of its
statements again (about a third of a route list's time in the database). A transaction
that ran nothing but SELECTs has nothing to undo, and committing it keeps them. Anything
else — a flush, a write, a savepoint, an error — still rolls back as before.
"""
from __future__ import annotations

from flask import Flask
from sqlalchemy import event

from .extensions import db

_WROTE = "doorstep_wrote"


def init_app(app: Flask) -> None:
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return  # sqlite3 keeps its statement cache across rollbacks
    with app.app_context():
        engine = db.engine
    event.listen(engine, "begin", lambda conn: conn.info.pop(_WROTE, None))
    event.listen(engine, "before_cursor_execute", _note_writes)

    # Registered after Flask-SQLAlchemy's, so it runs first (teardowns run in reverse).
    @app.teardown_appcontext
    def commit_reads(exc):
        # Never raise here: Flask would skip the session's removal that follows.
        try:
            session = db.session()
            if exc is not None or not session.in_transaction():
                return
            if session.new or session.dirty or session.deleted:
                return
            if session.connection().info.get(_WROTE):
                return
            session.commit()
        except Exception:  # noqa: BLE001 - a lost connection: the removal discards it
            return


def mark_written(connection) -> None:
    """Writes that bypass SQLAlchemy's cursor (COPY, a raw executemany) say so here."""
    connection.info[_WROTE] = True


def _note_writes(conn, _cursor, statement, _params, _context, _many):
    # Conservative: anything but a plain SELECT counts as a write (WITH … UPDATE, SAVEPOINT).
    if statement.lstrip()[:6].upper() != "SELECT":
        mark_written(conn)
