from flask import abort, current_app, render_template, request, session
from flask_babel import get_locale
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from ..access import SEES_UNITS, patch_building_ids, role_required
from ..clock import today
from ..domain.summary import refresh_stale
from ..extensions import db
from ..htmx import VARY, is_partial
from ..models import Assignment, Building, Role, User
from ..templating import url_with
from . import bp
from .cache import PageCache, page_etag, patch_version
from .services import SORTS, RouteFilters, band_counts, held_rows, policies_for, route_page
from .words import route_words, unit_link


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
    hk_id = request.args.get("hk", type=int)
    if hk_id is None:
        return None, None
    housekeeper = db.session.get(User, hk_id)
    if housekeeper is None or housekeeper.role != Role.HOUSEKEEPER:
        abort(404)
    return housekeeper.building_ids(), housekeeper


@bp.get("/route")
def index():
    building_ids, housekeeper = _patch()
    sort = request.args.get("sort", "band")
    filters = RouteFilters(
        building_ids=building_ids, band=request.args.get("band") or None,
        building_id=request.args.get("building", type=int), q=request.args.get("q", "")[:40],
        sort=sort if sort in SORTS else "band", lat=_float_arg("lat"), lon=_float_arg("lon"))
    if filters.building_id is not None and building_ids is not None \
            and filters.building_id not in building_ids:
        abort(404)
    page = max(request.args.get("page", 1, type=int), 1)
    day = today()
    if session.get("arrears_checked") != day.isoformat():
        # Bills fall due overnight: bring this patch's summaries up to date once a day.
        if refresh_stale(db.session, day, building_ids):
            db.session.commit()
        session["arrears_checked"] = day.isoformat()
    policies = policies_for(db.session, building_ids)
    etag = None
    if current_app.config["ROUTE_CACHE"] and not session.get("_flashes"):
        generate_csrf()  # the page carries this session's token: part of the key
        etag = page_etag(
            user_id=current_user.id, session_token=session.get("csrf_token", ""),
            locale=str(get_locale()), path=request.full_path, partial=is_partial(), today=day,
            building_ids=building_ids, version=patch_version(db.session, building_ids),
            policies=policies)
        if etag in request.if_none_match:
            return _page_response("", etag, 304)
        body = current_app.extensions["route_pages"].get(etag)
        if body is not None:
            return _page_response(body, etag)
    result = route_page(db.session, filters, day, page, current_app.config["ROUTE_PAGE_SIZE"],
                        policies)
    back = url_with(page=page if page > 1 else None)
    context = dict(result=result, filters=filters, housekeeper=housekeeper,
                   args={k: v for k, v in request.args.items() if k != "page"},
                   words=route_words(), links={"card": unit_link("units.card", next=back),
                                               "visit": unit_link("visits.new", next=back)})
    if is_partial() and page > 1:
        template = "route/_rows.html"
    else:
        context["counts"], held = band_counts(db.session, filters, day, policies)
        context["held"] = held_rows(db.session, filters, day, policies) \
            if page == 1 and held else []
        buildings = select(Building.id, Building.name).order_by(Building.id)
        if building_ids is not None:
            buildings = buildings.where(Building.id.in_(building_ids))
        context["buildings"] = db.session.connection().execute(buildings).all()
        if current_user.role != Role.HOUSEKEEPER:
            context["housekeepers"] = db.session.scalars(
                select(User).where(User.role == Role.HOUSEKEEPER,
                                   User.id.in_(select(Assignment.user_id)))
                .order_by(User.username)).all()
        template = "route/_results.html" if is_partial() else "route/index.html"
    body = render_template(template, **context)
    if etag:
        current_app.extensions["route_pages"].put(etag, body)
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
