"""Rendered route list pages, reused while nothing they show has changed.

The body is shared by everyone who would see the same page (same patch and role,
query, language, day, rules and data): the session's CSRF token and the user's id
stand in it as placeholders, filled in per request. The key holds the identity of the
page's data, which the page's own sorting query returns anyway, so a write to a unit
the page does not show leaves the page reusable. Entries also expire after a few
minutes, for the rare change that touches no unit (a renamed building)."""
from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from datetime import date

from ..config import ROOT
from ..models import Policy


class PageCache:
    """A small per-process LRU: app servers stay stateless, each keeps its own."""

    def __init__(self, size: int = 256, ttl: float = 300.0):
        self.size, self.ttl = size, ttl
        self._pages: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    def get(self, etag: str) -> bytes | None:
        found = self._pages.get(etag)
        if found is None or time.monotonic() - found[0] > self.ttl:
            self._pages.pop(etag, None)
            return None
        self._pages.move_to_end(etag)
        return found[1]

    def put(self, etag: str, body: bytes) -> None:
        self._pages[etag] = (time.monotonic(), body)
        self._pages.move_to_end(etag)
        while len(self._pages) > self.size:
            self._pages.popitem(last=False)


_BUILD: list[str] = []


def build_id() -> str:
    """Changes with any deploy that changes the page's code, words or markup, so a
    phone never keeps an old page because the data did not move."""
    if not _BUILD:
        digest = hashlib.sha256()
        for folder, pattern in ((ROOT / "templates", "**/*.html"), (ROOT / "fieldapp", "**/*.py"),
                                (ROOT / "fieldapp", "**/*.mo")):
            for path in sorted(folder.glob(pattern)):
                digest.update(path.read_bytes())
        _BUILD.append(digest.hexdigest()[:12])
    return _BUILD[0]


# Per-session values stand in the shared body as these, and are put in per request.
SESSION_TOKEN = "__doorstep_csrf_token__"  # nosec B105 -- a placeholder, not a secret
USER_ID = "__doorstep_user_id__"


def page_key(*, scope: tuple, locale: str, args: tuple, partial: bool, today: date,
             policies: dict[int, Policy], settings: tuple, identity: tuple) -> str:
    """What the page shows, and nothing about who asks beyond what changes it: the
    patch and role (scope), the query, the language, the day, the rules, the user's
    list settings, and the identity of its data (each unit shown with its version, the
    chips, the units on hold). Another unit of the patch changing leaves it alone."""
    rules = [(cid, p.bands, p.late_fee_grace_days, p.late_fee_daily_ppm, p.late_fee_cap_ppm,
              p.plan_pauses_late_fee) for cid, p in sorted(policies.items())]
    key = repr((build_id(), scope, locale, args, partial, today, rules, settings, identity))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def client_etag(key: str, session_token: str, user_id: int) -> str:
    """The validator a phone keeps: the page and this session's token in it."""
    return hashlib.sha256(f"{key}:{session_token}:{user_id}".encode()).hexdigest()[:32]


def personalise(body: str, session_token: str, user_id: int) -> str:
    return body.replace(SESSION_TOKEN, session_token).replace(USER_ID, str(user_id))
