"""The route list over every building of the estate, where a patch's statements would
read every overdue unit (300,000 of them at 1.2M units) for one page: the chips from the
tally (models/overdue_tally.py); the band order walked one severity at a time down the
units by amount (ix_unit_arrears); by distance, from the buildings nearest the phone out."""
from __future__ import annotations

import math
from dataclasses import replace
from datetime import date

from geopy.distance import geodesic
from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    select,
)
from sqlalchemy.orm import Session

from ..domain.stages import severity_rank
from ..models import Building, Policy, Unit
from ..models.idlist import in_ids, uses_arrays
from ..models.overdue_tally import CURRENT
from .services import (
    HIT_COLUMNS,
    NEAREST_FIRST,
    BandCount,
    PageHits,
    RouteFilters,
    Shape,
    band_exprs,
    base_query,
    cached_statement,
    community_bands,
    kept_expression,
    of_building,
    paging_statement,
    paused_last,
    shape_and_params,
    visited_since,
)


def tally_stage(policies: dict[int, Policy], today: date):
    """The stage of a tally row (models/overdue_tally.py), as `band_exprs` gives a
    unit's: from its community's bands and its due date."""
    return kept_expression("tally", policies, today, _build_tally_stage)


def _build_tally_stage(policies: dict[int, Policy], today: date):
    whens = []
    for community_id, policy in policies.items():
        for band in sorted(community_bands(policy), key=lambda b: -b.min_days):
            cond = CURRENT.c.due <= date.fromordinal(today.toordinal() - band.min_days)
            if len(policies) > 1:
                cond = and_(CURRENT.c.community_id == community_id, cond)
            whens.append((cond, literal(band.stage)))
    return case(*whens, else_=literal(""))


def tally_counts_query(stage_expr):
    """As `_counts_query` for every building, from the tally's few rows per community
    (and the changes not folded into them yet)."""
    return (select(stage_expr.label("band"), CURRENT.c.on_hold,
                   cast(func.sum(CURRENT.c.units), BigInteger).label("n"),
                   cast(func.sum(CURRENT.c.arrears_fen), BigInteger).label("total"))
            .where(CURRENT.c.due < bindparam("today", type_=Date))
            .group_by("band", CURRENT.c.on_hold))


# A page this many rows deep (reached by a typed URL: scrolling gets nowhere near) counts
# the segments first rather than walk the ones it skips.
DEEP_PAGE_ROWS = 3_000


def estate_hits(session: Session, filters: RouteFilters, today: date, page: int,
                page_size: int, policies: dict[int, Policy], chips: list[BandCount]
                ) -> PageHits:
    """The band order (paused last, most severe, largest arrears, id) over every
    building, as segments in turn: the units still to knock of each severity with units
    (the chips; stages of the same severity together, as the order has them), most
    severe first, then the paused ones of each. Within a segment the order is the
    amount's, which ix_unit_arrears gives, so a page reads about its own rows however
    large the estate; a segment a deep page skips whole is counted."""
    if filters.band is None:  # by severity, whatever the stage is called
        walked, listed = _walked(policies, today, "rank"), band_exprs(policies, today)[2]
        keys = sorted({severity_rank(c.band.stage) for c in chips if c.units}, reverse=True)
    else:  # the one stage the chip filters by
        walked, listed = _walked(policies, today, "stage"), band_exprs(policies, today)[1]
        keys = [c.band.key for c in chips if c.units and c.band.key == filters.band]
    shape, params = shape_and_params(session, replace(filters, band=None), today)
    params["visited_since"] = visited_since(filters)
    page_q = cached_statement(("segment", shape, id(walked)),
                              lambda: _segment_query(shape, walked))
    skip, hits = (page - 1) * page_size, []

    def sizes() -> dict:
        # Every row counted: each community's buildings listed once beats a lookup per row.
        q = cached_statement(("segment sizes", shape, id(listed)),
                             lambda: _segment_sizes_query(shape, listed))
        return {(paused, key): n for key, paused, n in session.connection().execute(q, params)}

    known = sizes() if skip > DEEP_PAGE_ROWS else None
    for segment in [(paused, key) for paused in (0, 1) for key in keys]:
        if known is not None and known.get(segment, 0) <= skip:
            skip -= known.get(segment, 0)
            continue
        want = page_size + 1 - len(hits)  # the page, and one more to say there is more
        rows = session.connection().execute(page_q, {
            **params, "paused": segment[0], "segment": segment[1], "limit": want,
            "offset": skip}).all()
        if not rows and skip:  # the page starts past this segment
            known = sizes() if known is None else known
            # Not below 0: the count's snapshot may be newer than the walk's.
            skip = max(0, skip - known.get(segment, 0))
            continue
        skip, hits = 0, hits + rows
        if len(hits) > page_size:
            break
    return PageHits(hits[:page_size], len(hits) > page_size, {})


def _walked(policies: dict[int, Policy], today: date, what: str):
    """A unit's stage or severity rank as `band_exprs` gives it, for a walk that reads a
    few rows: the community looked up per row, not each community's buildings listed
    for every WHEN (10 lists of 8,000 buildings cost 9 ms a statement at 1.2M units)."""
    if len(policies) == 1:
        return band_exprs(policies, today)[1 if what == "stage" else 2]
    return kept_expression(f"walked {what}", policies, today,
                           lambda p, t: _build_walked(p, t, what))


def _build_walked(policies: dict[int, Policy], today: date, what: str):
    by_community, none = {}, literal("" if what == "stage" else 0)
    for community_id, policy in policies.items():
        bands = sorted(community_bands(policy), key=lambda b: -b.min_days)
        by_community[community_id] = case(*(
            (Unit.oldest_unpaid_due <= date.fromordinal(today.toordinal() - b.min_days),
             literal(b.stage if what == "stage" else severity_rank(b.stage)))
            for b in bands), else_=none)
    return case(by_community, value=of_building(Building.community_id), else_=none)


def _segment_query(shape: Shape, walked):
    return (base_query(shape, by_amount=True).add_columns(*HIT_COLUMNS)
            .where(walked == bindparam("segment"),
                   paused_last() == bindparam("paused", type_=Integer))
            .order_by(Unit.arrears_fen.desc(), Unit.id)
            .limit(bindparam("limit", type_=Integer))
            .offset(bindparam("offset", type_=Integer)))


def _segment_sizes_query(shape: Shape, listed):
    """Units per segment, for a deep page (one pass over the estate's overdue units)."""
    key, paused = listed.label("segment"), paused_last().label("paused")
    return base_query(shape).with_only_columns(key, paused, func.count()) \
        .group_by(key, paused)


def nearest_buildings(session: Session, lat: float, lon: float, limit: int,
                      only: list[int] | None = None) -> tuple[dict[int, float], bool]:
    """Up to `limit` placed buildings nearest the phone, metres by geodesic, and whether
    any placed building was left out. They are ranked in SQL with a flat-earth distance
    (arithmetic both databases have; within a city it ranks as the geodesic does), so
    only the ones kept are measured."""
    flat = (Building.lat - lat) * (Building.lat - lat) + \
        (Building.lon - lon) * (Building.lon - lon) * math.cos(math.radians(lat)) ** 2
    q = (select(Building.id, Building.lat, Building.lon)
         .where(Building.lat.is_not(None), Building.lon.is_not(None))
         .order_by(flat, Building.id).limit(limit + 1))
    if only is not None:
        q = q.where(in_ids(Building.id, only, uses_arrays(session)))
    rows = session.execute(q).all()
    return ({bid: geodesic((lat, lon), (blat, blon)).meters for bid, blat, blon in
             rows[:limit]}, len(rows) > limit)


def nearest_hits(session: Session, filters: RouteFilters, today: date, page: int,
                 page_size: int, policies: dict[int, Policy]) -> PageHits:
    """Every building's units by distance from the phone, then floor and number: the
    page read from the nearest buildings, four times as many each time they hold too
    few of its units. Their units come before any farther building's, so once they hold
    the page and one more unit, the page is the one the whole estate would give."""
    only = [filters.building_id] if filters.building_id is not None else None
    limit = NEAREST_FIRST
    while True:
        distances, more = nearest_buildings(session, filters.lat, filters.lon, limit, only)
        # Every placed building measured: the view's own statement (unplaced ones last).
        near = replace(filters, building_ids=sorted(distances)) if more else filters
        q, params, _ = paging_statement(session, near, today, page, page_size, policies,
                                        with_counts=False, distances=distances)
        hits = session.connection().execute(q, params).all()
        if not more or len(hits) > page_size:
            return PageHits(hits[:page_size], len(hits) > page_size, distances)
        limit *= 4
