from flask import abort, current_app, render_template, request, session
from flask_babel import get_locale
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from ..access import SEES_UNITS, patch_building_ids, role_required
from ..clock import day_start, today
from ..domain.summary import refresh_due_promises, refresh_stale
from ..extensions import db
from ..htmx import VARY, is_partial
from ..limits import TEXT
from ..models import Role, Unit, User
from ..params import id_param, page_param
from . import bp
from .cache import PageCache, page_etag, patch_version
from .page import page_context
from .services import SORTS, RouteFilters, policies_for


@bp.before_request
@login_required
@role_required(*SEES_UNITS)
def require_route_access():
    """Engineers have no route list: they see work orders, never arrears."""


def _float_arg(name: str) -> float | None:
    try:
        value = float(request.args.get(name, ""))
    except ValueError:
        return None
    return value if -180.0 <= value <= 180.0 else None


def _patch() -> tuple[list[int] | None, User | None]:
    """The buildings to list: my patch, or for a supervisor any housekeeper's."""
    if current_user.role == Role.HOUSEKEEPER:
        return patch_building_ids(current_user), None
    hk_id = id_param(request.args.get("hk"))
    if hk_id is None:
        return None, None
    housekeeper = db.session.get(User, hk_id)
    if housekeeper is None or housekeeper.role != Role.HOUSEKEEPER:
        abort(404)
    return housekeeper.building_ids(), housekeeper


def _filters(building_ids: list[int] | None) -> RouteFilters:
    sort = request.args.get("sort", "band")
    filters = RouteFilters(
        building_ids=building_ids, band=request.args.get("band") or None,
        building_id=id_param(request.args.get("building")),
        q=request.args.get("q", "")[:TEXT["search"]],
        sort=sort if sort in SORTS else "band", lat=_float_arg("lat"), lon=_float_arg("lon"),
        day_start=day_start(), sink_visited=current_user.visited_sink)
    if filters.building_id is not None and building_ids is not None \
            and filters.building_id not in building_ids:
        abort(404)
    return filters


def _catch_up(day, building_ids) -> None:
    """Bills fall due overnight: bring this patch's summaries up to date once a day."""
    if session.get("arrears_checked") != day.isoformat():
        changed = refresh_stale(db.session, day, building_ids)
        changed += refresh_due_promises(db.session, day, building_ids)
        if changed:
            db.session.commit()
        session["arrears_checked"] = day.isoformat()


def _etag(day, building_ids, policies) -> str | None:
    """The page's identity, if it may be reused (never with a message to show; not for
    the all-patches overview, whose version check would read every unit)."""
    if not current_app.config["ROUTE_CACHE"] or session.get("_flashes") \
            or building_ids is None:
        return None
    generate_csrf()  # the page carries this session's token: part of the key
    return page_etag(
        user_id=current_user.id, session_token=session.get("csrf_token", ""),
        locale=str(get_locale()), path=request.full_path, partial=is_partial(), today=day,
        building_ids=building_ids, version=patch_version(db.session, building_ids),
        policies=policies, settings=(current_user.visited_sink,))


def _saved_unit(building_ids):
    """The unit whose visit was just saved, to confirm it by name."""
    unit_id = id_param(request.args.get("saved"))
    if unit_id is None:
        return None
    unit = db.session.get(Unit, unit_id)
    if unit is None or (building_ids is not None and unit.building_id not in building_ids):
        return None
    return unit


@bp.get("/route")
def index():
    building_ids, housekeeper = _patch()
    filters = _filters(building_ids)
    page = page_param(request.args.get("page"))
    day = today()
    _catch_up(day, building_ids)
    policies = policies_for(db.session, building_ids)
    pages = current_app.extensions["route_pages"]
    etag = _etag(day, building_ids, policies)
    if etag and etag in request.if_none_match:
        return _page_response("", etag, 304)
    if etag and (body := pages.get(etag)) is not None:
        return _page_response(body, etag)
    rows_only = is_partial() and page > 1
    context = page_context(db.session, current_user, filters, page, day, policies, housekeeper,
                           request.args, rows_only)
    context["saved"] = _saved_unit(building_ids)
    template = "route/_rows.html" if rows_only else \
        "route/_results.html" if is_partial() else "route/index.html"
    body = render_template(template, **context)
    if etag:
        pages.put(etag, body)
    return _page_response(body, etag)


def _page_response(body, etag: str | None, status: int = 200):
    response = current_app.make_response((body, status))
    response.headers["Vary"] = VARY
    if etag:
        # Phones revalidate: an unchanged list costs a 304, not 25 KB on a weak signal.
        response.set_etag(etag)
        response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.record_once
def _init_cache(state):
    state.app.extensions["route_pages"] = PageCache()
