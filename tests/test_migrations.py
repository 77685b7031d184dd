"""The Alembic migrations build exactly the schema the models describe."""
from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from fieldapp import create_app
from fieldapp.extensions import db


@pytest.fixture
def empty_database(db_url, tmp_path):
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    name = f"mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(db_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    yield db_url.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
    admin.dispose()


def test_upgrade_matches_models(empty_database):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database, "SECRET_KEY": "x"})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        db.engine.dispose()
    assert diff == []
