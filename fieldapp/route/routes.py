from flask import abort, current_app, render_template, request, session
from flask_login import current_user, login_required
from sqlalchemy import select

from ..access import SEES_UNITS, patch_building_ids, role_required
from ..clock import today
from ..domain.summary import refresh_stale
from ..extensions import db
from ..htmx import VARY, is_partial
from ..models import Assignment, Building, Role, User
from ..templating import url_with
from . import bp
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
    response = current_app.make_response(render_template(template, **context))
    response.headers["Vary"] = VARY
    return response
