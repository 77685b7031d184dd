"""Where to send the user next: only ever a path on this site."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import url_for


def safe_next(target: str | None, default_endpoint: str = "main.home", **values) -> str:
    # An open redirect would let a phishing link borrow our pages.
    if target and target.startswith("/") and not target.startswith("//") \
            and "\\" not in target and urlsplit(target).netloc == "":
        return target
    return url_for(default_endpoint, **values)
