from flask import abort, current_app, g, render_template, request, session
from flask_babel import get_locale
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from ..access import SEES_UNITS, patch_building_ids, role_required
from ..catch_up import catch_up
from ..clock import day_start, today
from ..extensions import db
from ..htmx import VARY, is_partial
from ..limits import TEXT
from ..models import Role, Unit, User
from ..params import id_param, page_param
from . import bp
from .cache import PageCache, client_etag, page_key, personalise
from .page import building_picker_context, fold_tally_once_sent, page_context, page_data
from .rules import RulesCache, patch_rules
from .services import SORTS, RouteFilters


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


def _saved_unit(building_ids):
    """The unit whose visit was just saved, to confirm it by name."""
    unit_id = id_param(request.args.get("saved"))
    if unit_id is None:
        return None
    unit = db.session.get(Unit, unit_id)
    if unit is None or (building_ids is not None and unit.building_id not in building_ids):
        return None
    return unit


def _page_key(day, building_ids, buildings, housekeeper, policies, data,
              rows_only) -> str | None:
    """What identifies the page for reuse, or None when it carries a message to show."""
    if not current_app.config["ROUTE_CACHE"] or session.get("_flashes"):
        return None
    args = tuple(sorted((k, v) for k, v in request.args.items(multi=True)))
    # The patch by its buildings; a building renamed shows at once: the count of rule
    # changes moves, or without the count the buildings are in the key by name.
    count = g.get("estate_version")
    patch = None if building_ids is None else tuple(sorted(building_ids))
    return page_key(
        scope=(current_user.role.value, patch, tuple(buildings or ()) if count is None
               else count, housekeeper.id if housekeeper else None),
        locale=str(get_locale()), args=args, partial=(is_partial(), rows_only), today=day,
        policies=policies, settings=(current_user.visited_sink,), identity=data.identity())


@bp.get("/route")
def index():
    building_ids, housekeeper = _patch()
    filters = _filters(building_ids)
    page = page_param(request.args.get("page"))
    day = today()
    catch_up(day, building_ids)
    fold_tally_once_sent(db.session, filters)
    policies, buildings = patch_rules(db.session, building_ids)
    rows_only = is_partial() and page > 1
    data = page_data(db.session, filters, page, day, policies, rows_only)
    render = lambda: _render(filters, page, day, policies, housekeeper, data,  # noqa: E731
                             rows_only, building_ids, buildings)
    key = _page_key(day, building_ids, buildings, housekeeper, policies, data, rows_only)
    if key is None:
        return _page_response(render(), None)
    token, user_id = generate_csrf(), current_user.id
    # The session's raw token, not the signed one, which carries the second it was made.
    etag = client_etag(key, session.get("csrf_token", ""), user_id)
    if etag in request.if_none_match:
        return _page_response("", etag, 304)
    pages = current_app.extensions["route_pages"]
    body = pages.get(key)
    if body is None:
        g.shared_render = True  # per-session values as placeholders
        body = render()
        g.shared_render = False
        pages.put(key, body)
    return _page_response(personalise(body, token, user_id), etag)


@bp.get("/route/buildings")
def building_search():
    """The buildings of the view whose name starts with what is typed: the building
    filter of a view with more buildings than a select can offer (htmx swaps them in
    under the field; without script the filter form's submit shows them on the page)."""
    building_ids, _ = _patch()
    context = building_picker_context(db.session, _filters(building_ids), request.args)
    return render_template("route/_building_choices.html", **context)


def _render(filters, page, day, policies, housekeeper, data, rows_only, building_ids,
            buildings) -> str:
    context = page_context(db.session, current_user, filters, page, day, policies,
                           housekeeper, request.args, data, buildings)
    context["saved"] = _saved_unit(building_ids)
    template = "route/_rows.html" if rows_only else \
        "route/_results.html" if is_partial() else "route/index.html"
    return render_template(template, **context)


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
    state.app.extensions["route_rules"] = RulesCache()
