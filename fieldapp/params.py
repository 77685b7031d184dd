"""Numbers from URLs, query strings and forms, bounded before they reach a query: an
id the database cannot hold is a 404, never an overflow inside the driver."""
from __future__ import annotations

from flask import Request, abort
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
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


def _without_nul(value):
    return value.replace("\x00", "") if isinstance(value, str) else value


class CleanParams(ImmutableMultiDict):
    """Query and form values without NUL characters: no phone keyboard types one, and
    PostgreSQL cannot store one (a 500 on any text field, found by the form fuzzer)."""

    def __init__(self, mapping=None):
        if isinstance(mapping, MultiDict):
            mapping = mapping.items(multi=True)
        elif isinstance(mapping, dict):
            mapping = mapping.items()
        # A part with no usable name (a malformed multipart header) has no field to fill.
        super().__init__([(_without_nul(k), _without_nul(v)) for k, v in (mapping or ())
                          if isinstance(k, str)])


def with_clean_params(request_class: type[Request]) -> type[Request]:
    """The app's request class (htmx-flask's, say), reading parameters as CleanParams."""
    return type("DoorstepRequest", (request_class,), {"parameter_storage_class": CleanParams})
