"""The set-up hub and the coverage view: who covers which building, and which
buildings nobody covers."""
from flask import current_app, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db
from ..models import Building, User
from ..params import id_param
from ..urls import safe_next
from . import bp
from .answers import done, is_admin, refused
from .services import Refused, assign_building, coverage, housekeepers, hub_counts


@bp.get("")
def index():
    return render_template("admin/index.html", counts=hub_counts(db.session),
                           admin=is_admin(),
                           imports="imports.index" in current_app.view_functions)


def _coverage_page(errors=None):
    return render_template("admin/coverage.html", coverage=coverage(db.session),
                           housekeepers=housekeepers(db.session), admin=is_admin(),
                           errors=errors or {}, values=request.form)


@bp.get("/coverage", endpoint="coverage")
def coverage_view():
    return _coverage_page()


@bp.post("/buildings/<int:building_id>/housekeeper", endpoint="assign_building")
def assign(building_id: int):
    """Give a building nobody covers (or one more) to a housekeeper."""
    building = db.get_or_404(Building, building_id)
    housekeeper_id = id_param(request.form.get("housekeeper"))
    housekeeper = db.session.get(User, housekeeper_id) if housekeeper_id else None
    if housekeeper is None:
        return refused({f"building-{building.id}": _("Choose a housekeeper.")},
                       lambda: _coverage_page({building.id: _("Choose a housekeeper.")}))
    try:
        assign_building(db.session, current_user, building, housekeeper)
    except Refused as e:
        db.session.rollback()
        return refused({"housekeeper": e.message},
                       lambda: _coverage_page({building.id: e.message}), e.status)
    return done(safe_next(request.form.get("next"), "admin.coverage"),
                _("%(building)s is now covered by %(name)s.", building=building.name,
                  name=housekeeper.display_name or housekeeper.username),
                building_id=building.id, housekeeper_id=housekeeper.id)
