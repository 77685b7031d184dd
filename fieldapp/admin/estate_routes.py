"""Communities, their policy (a new dated version per change, with the history) and
their buildings: administrators only (supervisors manage patches)."""
from flask import abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import role_required
from ..clock import today
from ..domain.policy import MAX_BANDS, check_policy, form_values
from ..domain.stages import STAGES
from ..extensions import db
from ..limits import current_limits
from ..models import POLICY_FIELDS, Building, Community, Role
from ..params import id_param
from . import bp
from .answers import done, refused
from .estate import (
    buildings_of,
    change_policy,
    community_rows,
    create_building,
    create_community,
    history,
    history_rows,
    policy_of_community,
    update_building,
    update_community,
)
from .forms import KINDS, TIMEZONES, check_building, check_community
from .services import Refused
from .words import KIND_LABELS, POLICY_LABELS


@bp.get("/communities")
@role_required(Role.ADMIN)
def communities():
    return render_template("admin/communities.html", rows=community_rows(db.session),
                           kinds=KIND_LABELS)


def _community_form(values, errors, community=None):
    return render_template("admin/community_form.html", values=values, errors=errors,
                           community=community, kinds=KINDS, kind_labels=KIND_LABELS,
                           timezones=TIMEZONES)


@bp.get("/communities/new")
@role_required(Role.ADMIN)
def new_community():
    return _community_form({"kind": "residential", "timezone": TIMEZONES[0]}, {})


@bp.post("/communities", endpoint="create_community")
@role_required(Role.ADMIN)
def create_community_view():
    values, errors = check_community(request.form, current_limits())
    if not errors:
        try:
            community = create_community(db.session, current_user, values, today())
        except Refused as e:
            db.session.rollback()
            errors = {e.field: e.message}
    if errors:
        return refused(errors, lambda: _community_form(request.form, errors))
    return done(url_for("admin.community", community_id=community.id),
                _("Community created with the default policy."), community_id=community.id)


def _community_page(community, values=None, errors=None):
    return render_template(
        "admin/community.html", community=community, buildings=buildings_of(db.session,
                                                                            community.id),
        values=values or {"name": community.name, "kind": community.kind,
                          "timezone": community.timezone},
        errors=errors or {}, kinds=KINDS, kind_labels=KIND_LABELS, timezones=TIMEZONES)


@bp.get("/communities/<int:community_id>")
@role_required(Role.ADMIN)
def community(community_id: int):
    return _community_page(db.get_or_404(Community, community_id))


@bp.post("/communities/<int:community_id>", endpoint="update_community")
@role_required(Role.ADMIN)
def update_community_view(community_id: int):
    community = db.get_or_404(Community, community_id)
    values, errors = check_community(request.form, current_limits())
    if not errors:
        try:
            update_community(db.session, current_user, community, values)
        except Refused as e:
            db.session.rollback()
            errors = {e.field: e.message}
    if errors:
        return refused(errors, lambda: _community_page(community, request.form, errors))
    return done(url_for("admin.community", community_id=community.id), _("Saved."))


def _band_rows(values) -> int:
    """How many band rows to show: those filled in and two empty ones."""
    filled = [n for n in range(1, MAX_BANDS + 1)
              if values.get(f"band-{n}-days") or values.get(f"band-{n}-key")]
    return min(MAX_BANDS, max(filled, default=0) + 2)


def _policy_page(community, values=None, errors=None):
    policy = policy_of_community(db.session, community)
    day = today()
    values = values or form_values({k: getattr(policy, k) for k in POLICY_FIELDS}, day)
    return render_template(
        "admin/policy.html", community=community, policy=policy, errors=errors or {},
        values=values, band_rows=_band_rows(values), stages=STAGES, today=day,
        history=history_rows(history(db.session, community.id), policy.version_id, day),
        labels=POLICY_LABELS)


@bp.get("/communities/<int:community_id>/policy")
@role_required(Role.ADMIN)
def policy(community_id: int):
    return _policy_page(db.get_or_404(Community, community_id))


@bp.post("/communities/<int:community_id>/policy", endpoint="change_policy")
@role_required(Role.ADMIN)
def change_policy_view(community_id: int):
    community = db.get_or_404(Community, community_id)
    day = today()
    change, errors = check_policy(request.form, today=day,
                                  note_limit=current_limits().text_limit("policy_note"))
    if errors:
        return refused(errors, lambda: _policy_page(community, request.form, errors))
    version = change_policy(db.session, current_user, community, change, day)
    message = _("Policy changed from today.") if change.valid_from <= day else \
        _("Policy change saved: it takes effect on %(day)s.", day=change.valid_from.isoformat())
    return done(url_for("admin.policy", community_id=community.id), message,
                version_id=version.id)


def _building_form(community, values, errors, building=None):
    return render_template("admin/building.html", community=community, building=building,
                           values=values, errors=errors)


@bp.get("/buildings/new")
@role_required(Role.ADMIN)
def new_building():
    community_id = id_param(request.args.get("community"))
    community = db.session.get(Community, community_id) if community_id else None
    if community is None:
        abort(404)
    return _building_form(community, {"floors": "18"}, {})


@bp.post("/buildings", endpoint="create_building")
@role_required(Role.ADMIN)
def create_building_view():
    community_id = id_param(request.form.get("community"))
    community = db.session.get(Community, community_id) if community_id else None
    if community is None:
        abort(404)
    values, errors = check_building(request.form, current_limits())
    if not errors:
        try:
            building = create_building(db.session, current_user, community, values)
        except Refused as e:
            db.session.rollback()
            errors = {e.field: e.message}
    if errors:
        return refused(errors, lambda: _building_form(community, request.form, errors))
    return done(url_for("admin.community", community_id=community.id),
                _("Building %(name)s added.", name=building.name), building_id=building.id)


def _building_values(building: Building) -> dict:
    return {"name": building.name, "address": building.address, "floors": str(building.floors),
            "lat": "" if building.lat is None else repr(building.lat),
            "lon": "" if building.lon is None else repr(building.lon)}


@bp.get("/buildings/<int:building_id>")
@role_required(Role.ADMIN)
def building(building_id: int):
    building = db.get_or_404(Building, building_id)
    return _building_form(building.community, _building_values(building), {}, building)


@bp.post("/buildings/<int:building_id>", endpoint="update_building")
@role_required(Role.ADMIN)
def update_building_view(building_id: int):
    building = db.get_or_404(Building, building_id)
    values, errors = check_building(request.form, current_limits())
    if not errors:
        try:
            update_building(db.session, current_user, building, values)
        except Refused as e:
            db.session.rollback()
            errors = {e.field: e.message}
    if errors:
        return refused(errors, lambda: _building_form(building.community, request.form, errors,
                                                      building))
    return done(url_for("admin.community", community_id=building.community_id),
                _("Building %(name)s saved.", name=building.name))

