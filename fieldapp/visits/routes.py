import uuid

from flask import current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..access import SEES_UNITS, get_unit_or_404, role_required
from ..clock import company_tz, today
from ..domain.visits import check_visit
from ..extensions import db
from ..htmx import wants_json
from ..photos import PhotoLimits
from ..storage import storage
from ..urls import safe_next
from . import bp
from .choices import choices
from .services import ClientUuidReused, PhotoErrors, Upload, record_visit


@bp.before_request
@login_required
@role_required(*SEES_UNITS)
def require_unit_role():
    """Visits and their photos belong to units: engineers see neither."""


def _form_page(unit, values: dict, errors: dict, status: int = 200):
    return render_template("visits/new.html", unit=unit, values=values, errors=errors,
                           choices=choices(), policy=unit.building.community.policy,
                           today=today(), next_url=safe_next(request.args.get("next"),
                                                             "route.index")), status


@bp.get("/units/<int:unit_id>/visits/new")
def new(unit_id: int):
    unit = get_unit_or_404(unit_id, current_user)
    return _form_page(unit, {}, {})


def _uploads() -> list[Upload]:
    metas = request.form.getlist("photo_meta")
    uploads = []
    for i, f in enumerate(request.files.getlist("photos")):
        if not f or not f.filename:
            continue  # an empty file input sends an empty part
        meta = {"client": metas[i]} if i < len(metas) and metas[i] else {}
        uploads.append(Upload(f.filename[:120], f.read(), meta))
    return uploads


@bp.post("/units/<int:unit_id>/visits")
def create(unit_id: int):
    unit = get_unit_or_404(unit_id, current_user)
    as_json = wants_json()
    form = request.form.to_dict()
    if not form.get("client_uuid") and not as_json:
        form["client_uuid"] = str(uuid.uuid4())  # a plain form post without JavaScript
    uploads = _uploads()
    policy = unit.building.community.policy
    max_photos = current_app.config["MAX_PHOTOS_PER_VISIT"]
    data = check_visit(form, photo_count=len(uploads), arrears_fen=unit.arrears_fen,
                       today=today(), promise_horizon_days=policy.promise_horizon_days)
    errors = dict(data.errors)
    if len(uploads) > max_photos:
        errors["photos"] = _("At most %(n)s photos per visit.", n=max_photos)
    if not errors:
        try:
            visit, created = record_visit(
                db.session, storage(), unit, current_user, data, uploads, today=today(),
                tz=company_tz(), limits=PhotoLimits(current_app.config["MAX_PHOTO_BYTES"]))
        except PhotoErrors as e:
            errors["photos"] = " ".join(e.messages)
        except ClientUuidReused:
            db.session.rollback()
            message = _("This visit id was already used for a different visit.")
            if as_json:
                return jsonify(error="client_uuid_reused", message=message), 422
            errors["client_uuid"] = message
    if errors:
        db.session.rollback()
        if as_json:
            return jsonify(error="invalid", errors={k: str(v) for k, v in errors.items()}), 422
        if uploads:
            errors.setdefault("photos", _("Please choose the photos again."))
        return _form_page(unit, form, errors, 422)
    next_url = safe_next(request.args.get("next"), "route.index") + f"#unit-{unit.id}"
    if as_json:
        return jsonify(visit_id=visit.id, client_uuid=visit.client_uuid, next=next_url), \
            (201 if created else 200)
    return redirect(next_url, code=303)
