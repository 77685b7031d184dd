"""Rendered route list pages, reused while nothing they show has changed.

A page depends on who asks (patch, session, language), the query string, the day
(days overdue, bands, late fees), the policies and the units of the patch. Every
write to a unit moves `Unit.updated_at`, so one indexed query tells whether a page
is still true; a stale entry is never served. Entries also expire after a few
minutes, for the rare change that touches no unit (a renamed building)."""
from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..config import ROOT
from ..models import Policy, Unit


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


def patch_version(session: Session, building_ids: list[int] | None) -> tuple:
    """When any unit of the patch last changed, and how many units it has."""
    q = select(func.max(Unit.updated_at), func.count())
    if building_ids is not None:
        q = q.where(Unit.building_id.in_(building_ids))
    return tuple(session.connection().execute(q).one())


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


def page_etag(*, user_id: int, session_token: str, locale: str, path: str, partial: bool,
              today: date, building_ids: list[int] | None, version: tuple,
              policies: dict[int, Policy], settings: tuple = ()) -> str:
    rules = [(cid, p.bands, p.late_fee_grace_days, p.late_fee_daily_ppm, p.late_fee_cap_ppm,
              p.plan_pauses_late_fee) for cid, p in sorted(policies.items())]
    key = repr((build_id(), user_id, session_token, locale, path, partial, today,
                building_ids, version, rules, settings))
    return hashlib.sha256(key.encode()).hexdigest()[:32]
