"""Assembling the queue page: rows in words, the filters' choices, links that come back
to the same filtered page."""
from __future__ import annotations

from datetime import tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from flask import url_for

from ..models import Building, Community, Policy, Role, User, Visit
from ..templating import url_with
from .rows import queue_row
from .services import QueueFilters, queue_page
from .words import FLAG_KINDS, review_words


def thresholds(session: Session) -> dict[int, int]:
    """The GPS limit per community: a handful of rows."""
    return dict(session.execute(select(Policy.community_id, Policy.gps_threshold_m)).all())


def queue_context(session: Session, user: User, filters: QueueFilters, tz: tzinfo,
                  args) -> dict:
    page = queue_page(session, user, filters, tz)
    words = review_words()
    limits = thresholds(session)
    rows = [queue_row(v, limits.get(v.unit.building.community_id, 150), words, tz)
            for v in page.visits]
    back = url_with(before=filters.before_id)
    return dict(rows=rows, queue=page, filters=filters, words=words, back=back,
                links=row_links(back),
                args={k: v for k, v in args.items() if k != "before"},
                flag_kinds=FLAG_KINDS,
                housekeepers=session.execute(select(User.id, User.display_name, User.username)
                                             .where(User.role == Role.HOUSEKEEPER)
                                             .order_by(User.username)).all(),
                communities=session.execute(select(Community.id, Community.name)
                                            .order_by(Community.name, Community.id)).all(),
                buildings=community_buildings(session, filters.community_id))


def place_filter(session: Session, community_id: int | None,
                 building_id: int | None) -> tuple[int | None, int | None]:
    """The community and building to filter by: a building names its community; one of
    another community than the one chosen (left over from the last choice) is dropped."""
    if building_id is None:
        return community_id, None
    of = session.scalar(select(Building.community_id).where(Building.id == building_id))
    if of is None or (community_id is not None and of != community_id):
        return community_id, None
    return of, building_id


def community_buildings(session: Session, community_id: int | None) -> list:
    """A community's buildings, by name, for the building filter: an estate has
    thousands, so they are listed one community at a time."""
    if community_id is None:
        return []
    return session.execute(select(Building.id, Building.name)
                           .where(Building.community_id == community_id)
                           .order_by(Building.id)).all()


_ID, _N = 987654321, 987654322


def _pattern(endpoint: str, **args) -> str:
    """A URL with {id} and {n} where each row's values go: routing stays the one source
    of URLs, built once a page instead of eight times a row."""
    return url_for(endpoint, **args).replace(str(_ID), "{id}").replace(str(_N), "{n}")


def row_links(back: str) -> dict[str, str]:
    return {
        "visit": _pattern("visits.show", visit_id=_ID, next=back),
        "viewer": _pattern("photos.viewer", kind="visits", owner_id=_ID, n=_N, next=back),
        "cviewer": _pattern("photos.viewer", kind="corrections", owner_id=_ID, n=_N,
                            next=back),
        "thumb": _pattern("photos.photo", photo_id=_ID, variant="thumb"),
        "decision": _pattern("review.decision", visit_id=_ID, next=back),
        "day": url_for("review.day", hk="HK", date="DATE").replace("HK", "{hk}")
                                                          .replace("DATE", "{date}"),
    }


def row_context(session: Session, visit: Visit, tz: tzinfo, back: str | None = None) -> dict:
    """One queue item on its own (an htmx answer to a refused decision, a visit page)."""
    words = review_words()
    limits = thresholds(session)
    return dict(row=queue_row(visit, limits.get(visit.unit.building.community_id, 150),
                              words, tz), words=words,
                links=row_links(back or url_for("review.index")))
