import uuid

from flask import jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..access import SEES_UNITS, get_unit_or_404, role_required
from ..clock import company_tz
from ..domain.workorders import WorkOrderRefused
from ..extensions import db
from ..htmx import wants_json
from ..limits import current_limits
from ..models import ServiceCategory
from ..photos.evidence import PhotoErrors, read_uploads
from ..photos.storage import storage
from ..units.routes import render_card
from ..visits.choices import SERVICE_CATEGORIES
from . import bp
from .services import ComplaintInput, ComplaintUuidReused, file_complaint, record_satisfaction


def _form(unit, values, errors, status=200):
    return render_template("workorders/complaint_new.html", unit=unit, values=values,
                           errors=errors, categories=SERVICE_CATEGORIES), status


@bp.get("/units/<int:unit_id>/complaints/new")
@login_required
@role_required(*SEES_UNITS)
def new_complaint(unit_id: int):
    return _form(get_unit_or_404(unit_id, current_user), {}, {})


def check_complaint(form: dict) -> tuple[ComplaintInput | None, dict]:
    errors = {}
    limit = current_limits().text_limit("description")
    try:
        category = ServiceCategory(form.get("category", ""))
    except ValueError:
        category = None
        errors["category"] = _("Please choose which service.")
    description = (form.get("description") or "").strip()
    if not description:
        errors["description"] = _("Please describe the problem.")
    elif len(description) > limit:
        errors["description"] = _("At most %(n)s characters.", n=limit)
    try:
        client_uuid = str(uuid.UUID(form.get("client_uuid", "")))
    except ValueError:
        client_uuid = None
        errors["client_uuid"] = _("This form is missing its id; please reload it.")
    if errors:
        return None, errors
    return ComplaintInput(client_uuid, category, description), {}


def _file(unit, data: ComplaintInput, uploads, errors: dict):
    """(complaint, created, None), or (None, False, error code) with the message in
    `errors` under the field it concerns."""
    try:
        complaint, created = file_complaint(db.session, storage(), unit, current_user, data,
                                            uploads, tz=company_tz(), limits=current_limits())
        return complaint, created, None
    except PhotoErrors as e:
        errors["photos"] = " ".join(e.messages)
        code = "invalid"
    except ComplaintUuidReused:
        errors["client_uuid"] = _("This complaint id was already used for another complaint; "
                                  "reload the form and send it again.")
        code = "client_uuid_reused"
    db.session.rollback()
    return None, False, code


@bp.post("/units/<int:unit_id>/complaints")
@login_required
@role_required(*SEES_UNITS)
def create_complaint(unit_id: int):
    unit = get_unit_or_404(unit_id, current_user)
    form = request.form.to_dict()
    if not form.get("client_uuid") and not wants_json():
        form["client_uuid"] = str(uuid.uuid4())  # a plain form post without JavaScript
    data, errors = check_complaint(form)
    batch = read_uploads(current_limits())
    if batch.problems:
        errors["photos"] = " ".join(batch.problems)
    code = "invalid"
    if not errors:
        complaint, created, code = _file(unit, data, batch.uploads, errors)
    if errors:
        if wants_json():
            return jsonify(error=code, errors=errors), 422
        if batch.uploads or batch.problems:
            errors.setdefault("photos", _("Please choose the photos again."))
        return _form(unit, form, errors, 422)
    if wants_json():
        return jsonify(complaint_id=complaint.id, work_order_id=complaint.work_order.id,
                       client_uuid=complaint.client_uuid), 201 if created else 200
    return redirect(url_for("units.card", unit_id=unit.id), code=303)


@bp.post("/units/<int:unit_id>/satisfaction")
@login_required
@role_required(*SEES_UNITS)
def satisfaction(unit_id: int):
    unit = get_unit_or_404(unit_id, current_user)
    satisfied = request.form.get("satisfied")
    note = request.form.get("note", "")
    if satisfied not in ("yes", "no"):
        message = _("Please choose whether the owner is satisfied.")
        if wants_json():
            return jsonify(error="invalid", errors={"satisfied": message}), 422
        return render_card(unit, 422, satisfaction_error=message, values=request.form)
    try:
        record_satisfaction(db.session, storage(), unit, current_user, satisfied == "yes", note,
                            limits=current_limits())
    except WorkOrderRefused as e:
        db.session.rollback()
        message = str(e.message)
        if wants_json():
            return jsonify(error="invalid", errors={"note": message}), 422
        return render_card(unit, 422, satisfaction_error=message, values=request.form)
    return redirect(url_for("units.card", unit_id=unit.id), code=303)
