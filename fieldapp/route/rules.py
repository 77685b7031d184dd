"""A patch's policies and buildings, kept by each app server while the estate's count of
rule changes stands (models/estate_version.py). The count comes with the signed-in
user, so a route list request that finds them here reads neither.

What is kept is shared by the server's threads: copies of the policies that belong to
no session, read only."""
from __future__ import annotations

import threading
from collections import OrderedDict

from flask import current_app, g
from sqlalchemy.orm import Session

from ..models import Policy
from .services import every_building, policies_and_buildings

_COLUMNS = [attr.key for attr in Policy.__mapper__.column_attrs]


class RulesCache:
    def __init__(self, size: int = 256):
        self.size = size
        self._lock = threading.Lock()
        self._kept: OrderedDict[tuple, tuple] = OrderedDict()

    def get(self, key: tuple) -> tuple | None:
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
            return found

    def put(self, key: tuple, value: tuple) -> None:
        """Counts only grow: what was kept under an older one is read by no one again."""
        with self._lock:
            for old in [k for k in self._kept if k[0] < key[0]]:
                del self._kept[old]
            self._kept[key] = value
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)


def patch_rules(session: Session, building_ids: list[int] | None
                ) -> tuple[dict[int, Policy], list | None]:
    """As `policies_and_buildings`, from memory when the count has not moved since; kept,
    every building comes too (for the filter of the all-buildings view)."""
    version = g.get("estate_version")
    if version is None:  # not read with a user, or the count's row is gone: no reuse
        return policies_and_buildings(session, building_ids)
    # Read after the count: what is kept is at least as new as the count it is kept under.
    key = (version, None if building_ids is None else tuple(sorted(building_ids)))
    cache = current_app.extensions["route_rules"]
    kept = cache.get(key)
    if kept is None:
        # Policies this request's session loaded before the count was read (the day's
        # check of policies in force) would keep their older values: read them afresh.
        policies, buildings = policies_and_buildings(session, building_ids, fresh=True)
        if buildings is None:  # every building: too many to read per request, not per count
            buildings = every_building(session)
        kept = ({cid: _detached(p) for cid, p in policies.items()}, tuple(buildings))
        cache.put(key, kept)
    policies, buildings = kept
    return dict(policies), list(buildings)


def _detached(policy: Policy) -> Policy:
    # A copy in no session: another request's session can neither expire nor refresh it.
    return Policy(**{name: getattr(policy, name) for name in _COLUMNS})
