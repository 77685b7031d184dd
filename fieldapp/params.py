"""Numbers from URLs, query strings and forms, bounded before they reach a query: an
id the database cannot hold is a 404, never an overflow inside the driver."""
from __future__ import annotations

from flask import abort
from werkzeug.routing import IntegerConverter

from .limits import MAX_ID, MAX_PAGE


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: 1 .. the largest id PostgreSQL's integer holds."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def id_param(raw: str | None) -> int | None:
    """An optional id from a query string or form: None when absent, 404 when it is
    not one that can exist."""
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10 or not 1 <= int(raw) <= MAX_ID:
        abort(404)
    return int(raw)


def page_param(raw: str | None) -> int:
    """A list page number: 1 when absent or not a number, 404 beyond any real list."""
    if not raw or not (raw.isascii() and raw.isdigit()):
        return 1
    if len(raw) > 6 or int(raw) > MAX_PAGE:
        abort(404)
    return max(int(raw), 1)
