"""The one rule for "fragment or full page", for htmx 2 and 4 alike (OFFLINE.md §1.1)."""
from __future__ import annotations

from flask import Response, render_template, request

VARY = "HX-Request, HX-Boosted, HX-History-Restore-Request, HX-Request-Type"


def is_partial() -> bool:
    """A fragment only for a targeted htmx request: never for boosted navigation or a
    history restore, which must get the whole page."""
    h = request.headers
    return (h.get("HX-Request") == "true" and not h.get("HX-Boosted")
            and not h.get("HX-History-Restore-Request")
            and h.get("HX-Request-Type", "partial") == "partial")


def render_page_or_fragment(page: str, fragment: str, **context) -> Response:
    """Render the fragment template for htmx swaps, else the page that includes it."""
    html = render_template(fragment if is_partial() else page, **context)
    response = Response(html)
    response.headers["Vary"] = VARY
    return response


def wants_json() -> bool:
    """Outside tools and the offline queue ask for JSON with Accept."""
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes["application/json"] > \
        request.accept_mimetypes["text/html"]


def hx_redirect(url: str, status: int = 401) -> Response:
    response = Response("", status=status)
    response.headers["HX-Redirect"] = url
    return response
