"""`column IN (ids)` whose SQL does not grow with the list.

An IN list is one bound parameter per id: a patch of 80 buildings made each route
statement 80 parameters longer, so on PostgreSQL SQLAlchemy rendered them, psycopg
re-split the long text (it caches only short queries) and the server parsed and planned
a new statement for every patch size. There the ids travel as one array instead
(`= ANY(:ids)`), one statement text for every patch. SQLite has no arrays and keeps IN.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ARRAY, Integer, any_, bindparam
from sqlalchemy.orm import Session

_ID_ARRAY = ARRAY(Integer)


def uses_arrays(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def in_ids(column, ids: str | Iterable[int], arrays: bool):
    """`column` is one of `ids`: a list, or the name of a parameter given at execution."""
    if not isinstance(ids, str):
        ids = list(ids)
        if len(ids) == 1:
            # PostgreSQL's plan for every array guesses ten ids: for one (a unit card) it
            # looked worse than a plan for that id, so the statement was planned again
            # at every execution. An equality is planned once.
            return column == ids[0]
    if arrays:
        param = bindparam(ids, type_=_ID_ARRAY) if isinstance(ids, str) \
            else bindparam(None, ids, type_=_ID_ARRAY)
        return column == any_(param)
    if isinstance(ids, str):
        return column.in_(bindparam(ids, expanding=True))
    return column.in_(ids)
