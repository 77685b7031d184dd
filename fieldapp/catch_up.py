"""The day's catch-up inside a user request, should the nightly job not have run.

Bills fall due and promises lapse overnight: the first page of the day that shows
arrears or promises brings the patch's summaries up to date, a bounded slice per request
(CATCH_UP_UNITS, CATCH_UP_PROMISES), until a request finds nothing left; the session
then remembers the day and the patch, and later pages of that patch skip the check."""
from __future__ import annotations

import zlib
from datetime import date

from flask import current_app, session

from .domain.summary import refresh_due_promises, refresh_stale
from .extensions import db


def catch_up(day: date, building_ids: list[int] | None) -> None:
    """`building_ids`: the patch shown, None for every building."""
    done = session.get("arrears_checked")
    # A bare day is from before patches were told apart: it may stand for one patch only.
    done = done if isinstance(done, list) else []
    scope = _scope(day, building_ids)
    if day.isoformat() in done or scope in done:  # every building covers any patch
        return
    most_units = current_app.config["CATCH_UP_UNITS"]
    most_promises = current_app.config["CATCH_UP_PROMISES"]
    units = refresh_stale(db.session, day, building_ids, limit=most_units)
    promised = refresh_due_promises(db.session, day, building_ids, limit=most_promises)
    if units or promised:
        db.session.commit()
    if units < most_units and promised < most_promises:
        # Today's patches only, a few: a supervisor looks at one housekeeper's, then all.
        session["arrears_checked"] = [k for k in done if k.startswith(day.isoformat())
                                      ][-7:] + [scope]


def _scope(day: date, building_ids: list[int] | None) -> str:
    if building_ids is None:
        return day.isoformat()
    patch = ",".join(map(str, sorted(building_ids))).encode()
    return f"{day.isoformat()}:{zlib.crc32(patch):08x}"
