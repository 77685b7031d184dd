"""`in_ids`: one array parameter on PostgreSQL, an IN list on SQLite, the same rows."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql

from fieldapp.extensions import db
from fieldapp.models import Building
from fieldapp.models.idlist import in_ids, uses_arrays

from .factories import make_building


def test_the_same_rows_for_lists_and_named_parameters(app):
    ids = [make_building().id for _ in range(4)]
    db.session.commit()
    arrays = uses_arrays(db.session)
    assert arrays == (db.engine.dialect.name == "postgresql")
    for wanted in ([], [ids[0]], ids[1:3], ids + [10**9]):
        given = sorted(db.session.scalars(select(Building.id).where(
            in_ids(Building.id, wanted, arrays))))
        named = sorted(db.session.scalars(select(Building.id).where(
            in_ids(Building.id, "ids", arrays)), {"ids": wanted}))
        assert given == named == sorted(set(wanted) & set(ids))


def test_postgresql_statement_does_not_grow_with_the_list():
    dialect = postgresql.dialect()

    def sql(n):
        return str(select(Building.id).where(in_ids(Building.id, list(range(n)), True))
                   .compile(dialect=dialect))
    assert sql(2) == sql(80) and "ANY" in sql(2)
    # One id is an equality: a plan for every array guesses ten ids, and lost to a plan
    # for the one at every execution (bench/route_pg.py counts such statements).
    assert "ANY" not in sql(1) and sql(1) == str(select(Building.id).where(
        Building.id == 0).compile(dialect=dialect))
    named = str(select(Building.id).where(in_ids(Building.id, "patch", True))
                .compile(dialect=dialect))
    assert "%(patch)s" in named and "ANY" in named
