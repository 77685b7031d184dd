"""The Alembic migrations build exactly the schema the models describe."""
from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text

from fieldapp import create_app
from fieldapp.extensions import db
from fieldapp.models.estate import UNIT_VACUUM, compared_on
from fieldapp.models.estate_version import trigger_names

from .factories import make_community
from .test_estate_version import every_trigger, triggers_of


@pytest.fixture
def empty_database(db_url, tmp_path):
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    yield from _new_database(db_url)


@pytest.fixture
def empty_postgresql(postgresql_url):
    yield from _new_database(postgresql_url)


def _new_database(db_url):
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
            diff = compare_metadata(MigrationContext.configure(conn, opts={
                "include_object": compared_on(conn.dialect.name)}), db.metadata)
        db.engine.dispose()
    assert diff == []


def test_a_migrated_database_counts_rule_changes_as_a_created_one(empty_database):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database, "SECRET_KEY": "x"})
    with app.app_context():
        upgrade()
        with db.engine.begin() as conn:
            assert triggers_of(conn) == every_trigger(conn.dialect.name)
            before = conn.execute(text("SELECT n FROM estate_version WHERE id = 1")).scalar()
        make_community()  # with its policy
        after = db.session.scalar(text("SELECT n FROM estate_version WHERE id = 1"))
        db.session.remove()
        db.engine.dispose()
    assert after > before


def test_upgrading_again_over_a_restored_older_backup_keeps_the_count(empty_database):
    """pg_restore --clean of a backup from before the count leaves its table standing,
    the policy and building tables without triggers, and the stamp at the older
    revision: the upgrade completes and the triggers are back."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database, "SECRET_KEY": "x"})
    with app.app_context():
        upgrade()
        with db.engine.begin() as conn:
            dialect = conn.dialect.name
            for name in trigger_names(dialect):
                conn.execute(text(f"DROP TRIGGER {name}" if dialect == "sqlite" else
                                  f"DROP TRIGGER {name} ON {name.split('_')[2]}"))
            conn.execute(text("UPDATE alembic_version SET version_num = '0011_route_id'"))
        upgrade()
        with db.engine.connect() as conn:
            assert triggers_of(conn) == every_trigger(dialect)
            assert conn.execute(text("SELECT count(*) FROM estate_version")).scalar() == 1
        db.engine.dispose()


def unit_storage(conn) -> dict[str, str]:
    options = conn.execute(text(
        "SELECT reloptions FROM pg_class WHERE relname = 'unit'")).scalar() or []
    return dict(option.split("=", 1) for option in options)


def test_postgresql_vacuums_units_as_the_model_says_migrated_or_created(empty_postgresql):
    """Alembic compares no storage parameters: a migrated database and one made from
    the models vacuum the unit table alike, and a downgrade gives back the default."""
    wanted = {name: str(value) for name, value in UNIT_VACUUM.items()}
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_postgresql, "SECRET_KEY": "x"})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            assert unit_storage(conn) == wanted
        downgrade(revision="0018_search_prefix_indexes")
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() \
                == "0018_search_prefix_indexes"
            assert unit_storage(conn) == {}
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.create_all()
        with db.engine.connect() as conn:
            assert unit_storage(conn) == wanted
        db.engine.dispose()
