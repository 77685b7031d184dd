"""Route list queries: overdue units of a patch, banded and sorted in SQL.

The band of a unit follows from its oldest unpaid due date and today's date, so it
is computed at query time from the per-unit summary (never stored: it changes every
day without new data). Each community may have its own bands."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from typing import NamedTuple

from geopy.distance import geodesic
from sqlalchemy import (
    Date,
    Integer,
    String,
    and_,
    bindparam,
    case,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    union,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from ..domain.arrears import Band, bands_from_policy, days_overdue, overdue_band, with_earliest_band
from ..domain.stages import severity_rank
from ..models import Building, Community, Contact, ContactKind, Policy, Unit
from ..models.base import UTCDateTime
from ..models.idlist import in_ids, uses_arrays
from ..units.fees import FeeCache, cached_late_fees

SORTS = ("band", "walk", "distance", "promise")
# Buildings a page by distance over the whole estate starts from (route/estate.py).
NEAREST_FIRST = 32


@dataclass(frozen=True)
class RouteFilters:
    building_ids: list[int] | None  # the patch; None = every building
    band: str | None = None
    building_id: int | None = None
    q: str = ""
    sort: str = "band"
    lat: float | None = None
    lon: float | None = None
    day_start: datetime | None = None  # the start of today in the company's time zone
    sink_visited: bool = True  # units visited today go below those still to knock


@dataclass
class RouteRow:
    unit_id: int
    label: str
    building_id: int
    floor: int
    arrears_fen: int
    days_overdue: int
    band: Band
    late_fee_fen: int = 0
    late_fee_waived_fen: int = 0
    owner_surname: str = ""
    owner_phone: str = ""
    distance_m: float | None = None
    last_visit_at: datetime | None = None
    last_visit_outcome: str | None = None
    next_promise_date: date | None = None
    promise_status: str | None = None  # of the promise shown: open, kept, broken
    plan_status: str | None = None
    visited_today: bool = False
    paused: bool = False  # promised, on a plan, or visited today: sorted after the rest
    badges: list[str] = field(default_factory=list)


class BuildingChoice(NamedTuple):
    """A building as the filter offers it."""
    id: int
    name: str


@dataclass(frozen=True)
class BandCount:
    band: Band
    units: int
    arrears_fen: int


@dataclass
class RoutePage:
    rows: list[RouteRow]
    page: int
    has_more: bool
    policies: dict[int, Policy]


def policies_for(session: Session, building_ids: list[int] | None, *,
                 fresh: bool = False) -> dict[int, Policy]:
    """community id -> policy, for the communities the patch touches. `fresh`: the
    values as read, not those of policies the session holds already."""
    q = select(Policy).execution_options(populate_existing=fresh)
    if building_ids is not None:
        q = q.where(Policy.community_id.in_(select(Building.community_id).where(
            in_ids(Building.id, building_ids, uses_arrays(session)))))
    return {p.community_id: p for p in session.scalars(q)}


def every_building(session: Session) -> list[BuildingChoice]:
    """Every building of the estate, for the all-buildings view's filter."""
    return [BuildingChoice(*row) for row in session.connection().execute(
        select(Building.id, Building.name).order_by(Building.id))]


class BuildingMatch(NamedTuple):
    """A building found by name, with its community: names repeat across communities."""
    id: int
    name: str
    community: str


def find_buildings(session: Session, building_ids: list[int] | None, text: str,
                   limit: int = 20) -> list[BuildingMatch]:
    """Buildings of the view whose name starts with `text`, in any letter case (as
    SQLite's LIKE, not PostgreSQL's), shortest names first (so "3" offers 3栋 before
    30栋), for a view with too many buildings to list."""
    text = text.strip()
    if not text:
        return []
    q = (select(Building.id, Building.name, Community.name)
         .join(Community, Community.id == Building.community_id)
         .where(func.lower(Building.name).startswith(text.lower(), autoescape=True))
         .order_by(func.length(Building.name), Building.name, Community.name, Building.id)
         .limit(limit))
    if building_ids is not None:
        q = q.where(in_ids(Building.id, building_ids, uses_arrays(session)))
    return [BuildingMatch(*row) for row in session.execute(q)]


def building_named(session: Session, building_id: int) -> BuildingMatch | None:
    row = session.execute(select(Building.id, Building.name, Community.name)
                          .join(Community, Community.id == Building.community_id)
                          .where(Building.id == building_id)).first()
    return BuildingMatch(*row) if row else None


def policies_and_buildings(session: Session, building_ids: list[int] | None, *,
                           fresh: bool = False) -> tuple[dict[int, Policy], list | None]:
    """The patch's policies (as `policies_for`) and its buildings, (id, name) in id
    order for the building filter, in one query: a round trip less on PostgreSQL. Every
    building of the estate (no patch) is too many rows to read on every request: then
    the buildings are None, for the page to read when it shows the filter."""
    if building_ids is None:
        return policies_for(session, None, fresh=fresh), None
    rows = session.execute(
        select(Building.id, Building.name, Policy)
        .outerjoin(Policy, Policy.community_id == Building.community_id)
        .where(in_ids(Building.id, building_ids, uses_arrays(session)))
        .order_by(Building.id).execution_options(populate_existing=fresh)).all()
    policies = {policy.community_id: policy for _, _, policy in rows if policy is not None}
    return policies, [BuildingChoice(building_id, name) for building_id, name, _ in rows]


def band_exprs(policies: dict[int, Policy], today: date):
    """SQL CASE expressions for (band key, stage, severity rank) from each community's
    bands."""
    return kept_expression("units", policies, today, _build_band_exprs)


def kept_expression(kind: str, policies: dict[int, Policy], today: date, build):
    """`build(policies, today)`, built once per day and band set, not on every request
    (expressions are immutable)."""
    signature = (kind, today, tuple((cid, repr(p.bands)) for cid, p in sorted(policies.items())))
    found = _KEPT_EXPRESSIONS.get(signature)
    if found is None:
        if len(_KEPT_EXPRESSIONS) > 64:
            _KEPT_EXPRESSIONS.clear()
        found = _KEPT_EXPRESSIONS[signature] = build(policies, today)
    return found


_KEPT_EXPRESSIONS: dict[tuple, object] = {}


def community_bands(policy: Policy) -> list[Band]:
    """A community's bands, covering every overdue day (the earliest stage below its
    first band), so no overdue unit is listed without one."""
    return with_earliest_band(bands_from_policy(policy.bands))


def _build_band_exprs(policies: dict[int, Policy], today: date):
    """(band key, stage, severity) as CASE expressions over the oldest unpaid due date.
    Severity is the stage alone: across communities with other day thresholds, units
    rank by stage, then arrears."""
    key_whens, stage_whens, rank_whens = [], [], []
    single = len(policies) == 1
    for community_id, policy in policies.items():
        # Most severe first: the first WHEN that matches wins.
        for band in sorted(community_bands(policy), key=lambda b: -b.min_days):
            cutoff = date.fromordinal(today.toordinal() - band.min_days)
            cond = Unit.oldest_unpaid_due <= cutoff
            if not single:  # an uncorrelated subquery: evaluated once, no join
                cond = and_(Unit.building_id.in_(
                    select(Building.id).where(Building.community_id == community_id)
                    .scalar_subquery()), cond)
            key_whens.append((cond, literal(band.key)))
            stage_whens.append((cond, literal(band.stage)))
            rank_whens.append((cond, literal(severity_rank(band.stage))))
    return (case(*key_whens, else_=literal("")), case(*stage_whens, else_=literal("")),
            case(*rank_whens, else_=literal(0)))


@dataclass(frozen=True)
class Shape:
    """What decides a query's SQL text; the values travel as bound parameters."""
    patch: bool
    building: bool
    search: str  # "", "plain" or "dash"
    band: bool
    arrays: bool  # id lists as one array parameter (PostgreSQL)

    @property
    def estate(self) -> bool:
        """Every overdue unit of the estate: its chips come from the tally."""
        return not (self.patch or self.building or self.search)

    @property
    def search_off_indexes(self) -> bool:
        """A search over the whole estate on SQLite (arrays are PostgreSQL's): what it
        finds is read off its indexes (`units_found`) instead of checking each unit.
        Checking each overdue unit took SQLite 64 ms at 120k units; PostgreSQL checks
        each against the contacts' matches hashed once, faster than it joins a broad
        match ("10": 28 ms against 51) and within a few ms of it for a narrow one."""
        return bool(self.search) and not (self.patch or self.building or self.arrays)


def shape_and_params(session: Session, filters: RouteFilters,
                      today: date) -> tuple[Shape, dict]:
    params: dict = {"today": today}
    if filters.building_ids is not None:
        params["patch"] = list(filters.building_ids)
    if filters.building_id is not None:
        params["building"] = filters.building_id
    search = ""
    text = filters.q.strip().replace("\\", "").replace("%", "").replace("_", "")
    if text:
        search, params["q"], params["q_prefix"] = "plain", text, text + "%"
        if "-" in text:  # "3栋-1203" as shown on the rows
            search = "dash"
            params["qb"], _, number = text.rpartition("-")
            params["qn_prefix"] = number + "%"
    if filters.band:
        params["band"] = filters.band
    return Shape(filters.building_ids is not None, filters.building_id is not None, search,
                  bool(filters.band), uses_arrays(session)), params


# Built statements, by shape: constructing SQLAlchemy expressions on every request
# cost more than running them (bench/route_list.py).
_STATEMENTS: dict[tuple, object] = {}


def cached_statement(key: tuple, build):
    stmt = _STATEMENTS.get(key)
    if stmt is None:
        if len(_STATEMENTS) > 512:
            _STATEMENTS.clear()
        stmt = _STATEMENTS[key] = build()
    return stmt


def base_query(shape: Shape, on_hold: bool | None = False, by_amount: bool = False):
    """Overdue units of the patch; those on dunning hold are listed on their own.
    `by_amount`: walked down ix_unit_arrears (`estate_hits`). Any other statement reads
    ix_unit_route, and its condition written as `arrears_fen + 0 > 0` keeps the planners
    off the other index, which it would fit too: a patch's units by building, not by
    amount; and every overdue unit of the estate read by amount, their buildings in no
    order, took SQLite 310 ms where by building takes 190 (1.2M units)."""
    # Written as the index's own condition: PostgreSQL plans a prepared statement for
    # any value, and for "arrears_fen > $1" it could not use the partial index.
    in_arrears = Unit.arrears_fen > literal_column("0") if by_amount \
        else Unit.arrears_fen + 0 > 0
    q = select(Unit.id).where(in_arrears, Unit.oldest_unpaid_due < bindparam("today", type_=Date))
    if on_hold is not None:
        q = q.where(Unit.on_hold.is_(on_hold))
    if shape.patch:
        q = q.where(in_ids(Unit.building_id, "patch", shape.arrays))
    if shape.building:
        q = q.where(Unit.building_id == bindparam("building"))
    if shape.search_off_indexes:
        q = q.where(Unit.id.in_(units_found(shape)))
    elif shape.search:
        text = bindparam("q", type_=String)
        conds = [Unit.number.like(bindparam("q_prefix", type_=String)),
                 select(Contact.id).where(Contact.unit_id == Unit.id,
                                          or_(Contact.surname == text,
                                              Contact.name.like(bindparam("q_prefix")))
                                          ).exists()]
        if shape.search == "dash":
            conds.append(and_(Unit.building_id.in_(_named_buildings()),
                              Unit.number.like(bindparam("qn_prefix", type_=String))))
        q = q.where(or_(*conds))
    return q


def _named_buildings():
    return select(Building.id).where(Building.name == bindparam("qb", type_=String)) \
        .scalar_subquery()


def units_found(shape: Shape):
    """The units a search over the whole estate finds, off their indexes (SQLite's:
    models/estate.py): number or contact's name starting with what was typed, the
    contact's surname, or for "3栋-1203" the building's units by number. The patterns
    are parameters of their own ("12%"): SQLite reads no index for "LIKE ? || '%'"."""
    found = Unit.__table__.alias("found")
    reads = [select(found.c.id).where(found.c.number.like(bindparam("q_prefix", type_=String))),
             select(Contact.unit_id).where(Contact.surname == bindparam("q", type_=String)),
             select(Contact.unit_id).where(Contact.name.like(bindparam("q_prefix")))]
    if shape.search == "dash":
        reads.append(select(found.c.id).where(
            found.c.building_id.in_(_named_buildings()),
            found.c.number.like(bindparam("qn_prefix", type_=String))))
    return union(*reads)


def _counts_query(shape: Shape, stage_expr):
    """Units and arrears per band and dunning hold (never filtered by band)."""
    return (base_query(shape, on_hold=None)
            .with_only_columns(stage_expr.label("band"), Unit.on_hold,
                               func.count().label("n"), func.sum(Unit.arrears_fen).label("total"))
            .group_by("band", Unit.on_hold))


def _chips(policies: dict[int, Policy], found_rows) -> tuple[list[BandCount], int]:
    """One chip per stage, whatever each community calls its bands, and how many
    overdue units are on dunning hold, from the rows of `_counts_query`."""
    found: dict[str, tuple[int, int]] = {}
    held = 0
    for key, on_hold, n, total in found_rows:
        if on_hold:
            held += n
        else:
            found[key] = (n, total)
    stages = {band.stage for policy in policies.values() for band in community_bands(policy)}
    # Stages of one severity (a community's own stage names) by name: the same chips in
    # the same order in every process.
    ordered = sorted(stages, key=lambda stage: (-severity_rank(stage), stage))
    return [BandCount(Band(stage, 0, stage), *found.get(stage, (0, 0))) for stage in ordered], \
        held


def band_counts(session: Session, filters: RouteFilters, today: date,
                policies: dict[int, Policy]) -> tuple[list[BandCount], int]:
    """Units and arrears per band for the chips (ignoring the band filter itself), and
    how many overdue units are on dunning hold, in one query (a page reads them with its
    units: `page_hits_and_counts`)."""
    if not policies:
        return [], 0
    shape, params = shape_and_params(session, replace(filters, band=None), today)
    q = _chips_query(shape, policies, today)
    return _chips(policies, session.connection().execute(q, params))


def _chips_query(shape: Shape, policies: dict[int, Policy], today: date):
    if shape.estate:
        from .estate import tally_counts_query, tally_stage
        stage_expr = tally_stage(policies, today)
        return cached_statement(("tally", id(stage_expr)),
                                lambda: tally_counts_query(stage_expr))
    _, stage_expr, _ = band_exprs(policies, today)
    shape = replace(shape, band=False)
    return cached_statement(("counts", shape, id(stage_expr)),
                            lambda: _counts_query(shape, stage_expr))


def building_distances(session: Session, building_ids: list[int] | None, lat: float,
                       lon: float) -> dict[int, float]:
    """One geodesic per building (not per unit): metres from the phone."""
    q = select(Building.id, Building.lat, Building.lon).where(Building.lat.is_not(None),
                                                              Building.lon.is_not(None))
    if building_ids is not None:
        q = q.where(in_ids(Building.id, building_ids, uses_arrays(session)))
    return {bid: geodesic((lat, lon), (blat, blon)).meters
            for bid, blat, blon in session.execute(q)}


def paused_last():
    """Units whose household promised (a date still ahead, or a plan on track) need no
    knock today, nor those already visited today: they sort after the rest."""
    today = bindparam("today", type_=Date)
    return case((or_(and_(Unit.promise_status == "open", Unit.next_promise_date > today),
                     Unit.plan_status == "on_track",
                     Unit.last_visit_at >= bindparam("visited_since", type_=UTCDateTime)), 1),
                else_=0)


@dataclass
class PageHits:
    """One page's units in order, as the sorting query returns them: what the page
    shows is decided by these rows (their `updated_at` says when any of them changed)."""
    hits: list
    has_more: bool
    distances: dict[int, float]

    def identity(self) -> tuple:
        return tuple((h.id, h.updated_at) for h in self.hits), self.has_more


def route_page(session: Session, filters: RouteFilters, today: date, page: int,
               page_size: int, policies: dict[int, Policy] | None = None,
               hits: PageHits | None = None) -> RoutePage:
    policies = policies if policies is not None else policies_for(session, filters.building_ids)
    hits = hits or page_hits(session, filters, today, page, page_size, policies)
    rows = _load_rows(session, hits.hits, today, policies, hits.distances, filters.day_start)
    return RoutePage(rows, page, hits.has_more, policies)


def page_hits(session: Session, filters: RouteFilters, today: date, page: int,
              page_size: int, policies: dict[int, Policy]) -> PageHits:
    """The sorting and paging query: one indexed query, rows read straight from Core."""
    if not policies:
        return PageHits([], False, {})
    estate = _over_the_estate(session, filters, today, page, page_size, policies, False)
    if estate is not None:
        return estate[0]
    q, params, distances = paging_statement(session, filters, today, page, page_size,
                                            policies, with_counts=False)
    hits = session.connection().execute(q, params).all()
    return PageHits(hits[:page_size], len(hits) > page_size, distances)


def page_hits_and_counts(session: Session, filters: RouteFilters, today: date, page: int,
                         page_size: int, policies: dict[int, Policy]
                         ) -> tuple[PageHits, list[BandCount], int]:
    """`page_hits` and `band_counts` in one statement: a round trip less for every
    first page, reused or not, on PostgreSQL."""
    if not policies:
        return PageHits([], False, {}), [], 0
    estate = _over_the_estate(session, filters, today, page, page_size, policies, True)
    if estate is not None:
        return estate
    q, params, distances = paging_statement(session, filters, today, page, page_size,
                                            policies, with_counts=True)
    hits, counted = [], []
    for row in session.connection().execute(q, params):
        (counted if row.part else hits).append(row)
    chips, held = _chips(policies, ((r.band, r.on_hold, r.n, r.total) for r in counted))
    return PageHits(hits[:page_size], len(hits) > page_size, distances), chips, held


def _over_the_estate(session: Session, filters: RouteFilters, today: date, page: int,
                     page_size: int, policies: dict[int, Policy], with_counts: bool
                     ) -> tuple[PageHits, list[BandCount], int] | None:
    """Every building in band or distance order, read as route/estate.py reads them
    (the page, and with the counts, its chips and units on hold); None for any other
    view, which one statement serves."""
    walked = _by_stage(session, filters)
    if not (walked or _nearest_over_estate(filters)):
        return None
    # route/estate.py builds on this module's statements: imported where used.
    from .estate import estate_hits, nearest_hits
    # The walk needs the chips: they say which severities have units.
    chips, held = band_counts(session, filters, today, policies) \
        if walked or with_counts else ([], 0)
    hits = estate_hits(session, filters, today, page, page_size, policies, chips) \
        if walked else nearest_hits(session, filters, today, page, page_size, policies)
    return hits, chips, held


def lists_the_whole_estate(session: Session, filters: RouteFilters) -> bool:
    """Every overdue unit of the estate: its chips come from the tally."""
    return shape_and_params(session, filters, date.min)[0].estate


def _by_stage(session: Session, filters: RouteFilters) -> bool:
    """The band order over every building is walked stage by stage: one statement that
    sorts every overdue unit of the estate costs 150 ms at 1.2M units (300,000 of them)."""
    return filters.sort == "band" and lists_the_whole_estate(session, filters)


def _nearest_over_estate(filters: RouteFilters) -> bool:
    """By distance over every building: from the nearest buildings out, not a geodesic
    to each of the estate's (16,103 at 1.2M units took 14 s)."""
    return filters.sort == "distance" and filters.lat is not None \
        and filters.lon is not None and filters.building_ids is None


def visited_since(filters: RouteFilters) -> datetime:
    # With the setting off nothing was "visited since" the end of time.
    return filters.day_start if filters.sink_visited and filters.day_start \
        else datetime.max.replace(tzinfo=timezone.utc)


def paging_statement(session: Session, filters: RouteFilters, today: date, page: int,
                     page_size: int, policies: dict[int, Policy], with_counts: bool,
                     distances: dict[int, float] | None = None) -> tuple[object, dict, dict]:
    """The paging statement, its parameters, and the distances it sorted by (those
    given, or each building's of the view)."""
    _, stage_expr, rank_expr = band_exprs(policies, today)
    shape, params = shape_and_params(session, filters, today)
    params.update(limit=page_size + 1, offset=(page - 1) * page_size)
    params["visited_since"] = visited_since(filters)
    if filters.sort == "distance" and filters.lat is not None and filters.lon is not None:
        if distances is None:
            distances = building_distances(session, filters.building_ids, filters.lat,
                                           filters.lon)
        ranked = sorted(distances, key=distances.get)
        dist_rank = case({bid: i for i, bid in enumerate(ranked)}, value=Unit.building_id,
                         else_=len(ranked)) if ranked else literal(0)
        order = (dist_rank, Unit.floor, Unit.number, Unit.id)
        chips = _chips_query(shape, policies, today) if with_counts else None
        return _paging_query(shape, order, stage_expr, chips), params, distances
    sort = "walk" if filters.sort == "distance" else filters.sort
    orders = {
        # Units with a promise first, soonest date first; the rest by severity.
        "promise": lambda: (Unit.promise_status.is_distinct_from("open"),
                            case((Unit.promise_status == "open", Unit.next_promise_date)),
                            rank_expr.desc(), Unit.arrears_fen.desc(), Unit.id),
        "walk": lambda: (Unit.building_id, Unit.floor, Unit.number, Unit.id),
        "band": lambda: (paused_last(), rank_expr.desc(), Unit.arrears_fen.desc(), Unit.id),
    }
    # Keyed by the expressions the statement holds (so their ids cannot be reused while
    # it is cached), not by the key expression, which it does not hold.
    chips = _chips_query(shape, policies, today) if with_counts else None
    q = cached_statement(("page", shape, sort, id(chips), id(stage_expr), id(rank_expr)),
                lambda: _paging_query(shape, orders[sort](), stage_expr, chips))
    return q, params, {}


def _paging_query(shape: Shape, order: tuple, stage_expr, chips_query=None):
    """The page's units in order; with `chips_query`, its rows after them (one round
    trip for both)."""
    with_counts = chips_query is not None
    q = base_query(shape).add_columns(*HIT_COLUMNS)
    if shape.band:  # the chips filter by stage
        q = q.where(stage_expr == bindparam("band", type_=String))
    terms = [_term(o) for o in order]
    if with_counts:  # the order's terms as columns, for the union to keep the page's order
        q = q.add_columns(*(term.label(f"k{i}") for i, (term, _) in enumerate(terms)))
    q = (q.order_by(*order).limit(bindparam("limit", type_=Integer))
         .offset(bindparam("offset", type_=Integer)))
    if not with_counts:
        return q
    page = q.subquery("page")
    chips = chips_query.subquery("chips")
    keys = [page.c[f"k{i}"] for i in range(len(terms))]
    # The page's rows first (they give the union its column types), then the chips'.
    found = union_all(
        select(literal(0).label("part"), page.c.id, page.c.updated_at,
               null().label("band"), null().label("on_hold"), null().label("n"),
               null().label("total"), *keys),
        select(literal(1), null(), null(), chips.c.band, chips.c.on_hold, chips.c.n,
               chips.c.total, *(null() for _ in keys))).subquery("found")
    return select(found).order_by(found.c.part, *(
        found.c[f"k{i}"].desc() if desc else found.c[f"k{i}"]
        for i, (_, desc) in enumerate(terms)))


def _term(order_by) -> tuple[object, bool]:
    """(expression, descending) of one ORDER BY term: a plain expression or its
    .asc() / .desc() (NULLS FIRST/LAST would need carrying into the union's order)."""
    if isinstance(order_by, UnaryExpression) and order_by.modifier in (operators.desc_op,
                                                                        operators.asc_op):
        return order_by.element, order_by.modifier is operators.desc_op
    if isinstance(order_by, UnaryExpression) and order_by.modifier is not None:
        raise ValueError(f"unsupported order term: {order_by}")
    return order_by, False


# What sorting and paging read: all in ix_unit_route, so PostgreSQL scans the index only,
# and they say which units the page shows and whether any of them changed.
HIT_COLUMNS = (Unit.updated_at,)
# What a row shows, read by id for the page's units only.
ROW_COLUMNS = (Unit.id, Unit.number, Unit.floor, Unit.building_id, Unit.arrears_fen,
               Unit.oldest_unpaid_due, Unit.late_fee_waived_fen, Unit.last_visit_at,
               Unit.last_visit_outcome, Unit.next_promise_date, Unit.promise_status,
               Unit.plan_status, Unit.broken_promises_in_row, Unit.on_hold, Unit.rectified_at,
               Unit.updated_at)


def _first_owner(column):
    """The unit's first owner or finance contact's `column`: read with the row, so a
    page is one query less (a round trip each on PostgreSQL)."""
    return (select(column).where(Contact.unit_id == Unit.id,
                                 Contact.kind.in_([ContactKind.OWNER, ContactKind.FINANCE]))
            .order_by(Contact.id).limit(1).correlate(Unit).scalar_subquery())


def of_building(column):
    """The row's building's `column`, looked up by key per row: a join let PostgreSQL
    hash every building of the estate for a page of 30 units."""
    return select(column).where(Building.id == Unit.building_id).correlate(Unit) \
        .scalar_subquery()


def _rows_by_id_query(arrays: bool):
    return select(*ROW_COLUMNS, of_building(Building.name).label("name"),
                  of_building(Building.community_id).label("community_id"),
                  _first_owner(Contact.surname).label("owner_surname"),
                  _first_owner(Contact.phone).label("owner_phone")) \
        .where(in_ids(Unit.id, "ids", arrays))


_ROWS_BY_ID = {arrays: _rows_by_id_query(arrays) for arrays in (False, True)}


def rows_by_id(session: Session, ids: list[int]) -> list:
    """The page's units with what their rows show, in the order given."""
    if not ids:
        return []
    rows = session.connection().execute(_ROWS_BY_ID[uses_arrays(session)], {"ids": ids})
    found = {r.id: r for r in rows}
    return [found[i] for i in ids if i in found]


# Each row's late fee, remembered under the unit's version (units/fees.py).
FEES = FeeCache()


def _load_rows(session: Session, hits: list, today: date, policies: dict[int, Policy],
               distances: dict[int, float], day_start: datetime | None = None) -> list[RouteRow]:
    """Rows with their owners, and late fees, for one page of units: a few indexed
    queries, not one per row."""
    units = rows_by_id(session, [h.id for h in hits])
    if not units:
        return []
    fees = cached_late_fees(
        session, {u.id: (policies[u.community_id], u.late_fee_waived_fen, u.updated_at)
                  for u in units}, today, FEES)
    bands = {cid: community_bands(p) for cid, p in policies.items()}
    rows = []
    for u in units:
        days = days_overdue(u.oldest_unpaid_due, today)
        fee = fees[u.id].outstanding_fen
        surname, phone = u.owner_surname or "", u.owner_phone or ""
        row = RouteRow(unit_id=u.id, label=f"{u.name}-{u.number}", building_id=u.building_id,
                       floor=u.floor, arrears_fen=u.arrears_fen, days_overdue=days,
                       band=overdue_band(days, bands[u.community_id]),
                       late_fee_fen=fee, late_fee_waived_fen=u.late_fee_waived_fen,
                       owner_surname=surname, owner_phone=phone,
                       distance_m=distances.get(u.building_id),
                       last_visit_at=u.last_visit_at, last_visit_outcome=u.last_visit_outcome,
                       next_promise_date=u.next_promise_date, promise_status=u.promise_status,
                       plan_status=u.plan_status,
                       visited_today=bool(day_start and u.last_visit_at and
                                          u.last_visit_at >= day_start))
        row.badges = row_badges(u, today)
        row.paused = (u.promise_status == "open" and u.next_promise_date > today) or \
            u.plan_status == "on_track" or row.visited_today
        rows.append(row)
    return rows


def row_badges(u, today: date) -> list[str]:
    """The badges of a row, most telling first."""
    badges = []
    if u.on_hold:
        badges.append("on_hold")
    elif u.rectified_at is not None:
        badges.append("rectified")
    if u.plan_status in ("on_track", "behind"):
        badges.append("plan_" + u.plan_status)
    if u.promise_status == "open":
        badges.append("promise_today" if u.next_promise_date <= today else "promise")
    elif u.promise_status in ("kept", "broken"):
        badges.append("promise_" + u.promise_status)
    if u.broken_promises_in_row >= 2:
        badges.append("flagged")
    if u.late_fee_waived_fen:
        badges.append("waived")
    return badges


def held_hits(session: Session, filters: RouteFilters, today: date,
              policies: dict[int, Policy], limit: int = 100) -> PageHits:
    """Units waiting for a repair ("repair pending"): shown apart, not to be dunned."""
    if not policies:
        return PageHits([], False, {})
    shape, params = shape_and_params(session, replace(filters, band=None), today)
    q = cached_statement(("held", shape), lambda: (
        base_query(shape, on_hold=True).add_columns(*HIT_COLUMNS)
        .order_by(Unit.building_id, Unit.floor, Unit.number).limit(limit)))
    return PageHits(session.connection().execute(q, params).all(), False, {})


def held_rows(session: Session, filters: RouteFilters, today: date,
              policies: dict[int, Policy], hits: PageHits | None = None) -> list[RouteRow]:
    hits = hits or held_hits(session, filters, today, policies)
    return _load_rows(session, hits.hits, today, policies, {}, filters.day_start)
