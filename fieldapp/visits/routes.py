import uuid

from flask import current_app, jsonify, redirect, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..access import SEES_UNITS, get_unit_or_404, role_required
from ..clock import company_tz, today
from ..domain.holds import is_dunning, open_work_order
from ..domain.visits import check_visit
from ..photos.evidence import PhotoErrors, uploads_from_request
from ..extensions import db
from ..htmx import wants_json
from ..models import Reason
from ..photos.pipeline import PhotoLimits
from ..photos.storage import storage
from ..urls import safe_next
from ..workorders.services import ComplaintInput
from . import bp
from .choices import choices, label
from .services import ClientUuidReused, record_visit


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


def hold_message(order) -> str:
    return _("This unit is on dunning hold until work order #%(id)s (%(category)s) is "
             "closed: fix first, then collect. You can still log a visit to check on the "
             "repair, without a notice or a promise.",
             id=order.id, category=label("service_category", order.category))


def _hold_refusal(unit, form, order, as_json: bool):
    message = hold_message(order)
    if as_json:
        return jsonify(error="dunning_hold", work_order_id=order.id, message=message), 409
    return _form_page(unit, form, {"form": message}, 409)


def complaint_from_form(form: dict, data, errors: dict) -> ComplaintInput | None:
    """"Dissatisfied with service" can open a repair work order from the same visit."""
    if form.get("complaint") != "1" or data.reason != Reason.SERVICE or errors:
        return None
    description = (form.get("complaint_description") or "").strip()
    if not description:
        errors["complaint_description"] = _("Describe what needs repairing.")
        return None
    key = str(uuid.uuid5(uuid.NAMESPACE_URL, f"complaint-of-visit:{data.client_uuid}"))
    return ComplaintInput(key, data.service_category, description[:2000])


@bp.get("/units/<int:unit_id>/visits/new")
def new(unit_id: int):
    unit = get_unit_or_404(unit_id, current_user)
    return _form_page(unit, {}, {})


@bp.post("/units/<int:unit_id>/visits")
def create(unit_id: int):
    unit = get_unit_or_404(unit_id, current_user)
    as_json = wants_json()
    form = request.form.to_dict()
    queued_by = form.get("queued_by")
    if queued_by and queued_by != str(current_user.id):
        # A queue from another user's session on a shared phone is never filed as mine.
        return jsonify(error="wrong_user", message=_(
            "These visits were queued by another user; they sign in to send them.")), 403
    if not form.get("client_uuid") and not as_json:
        form["client_uuid"] = str(uuid.uuid4())  # a plain form post without JavaScript
    uploads = uploads_from_request()
    policy = unit.building.community.policy
    max_photos = current_app.config["MAX_PHOTOS_PER_VISIT"]
    data = check_visit(form, photo_count=len(uploads), arrears_fen=unit.arrears_fen,
                       today=today(), promise_horizon_days=policy.promise_horizon_days)
    errors = dict(data.errors)
    if len(uploads) > max_photos:
        errors["photos"] = _("At most %(n)s photos per visit.", n=max_photos)
    complaint = complaint_from_form(form, data, errors)
    if not errors and is_dunning(data.outcome, data.notice_type):
        held = open_work_order(db.session, unit.id)
        if held is not None:
            return _hold_refusal(unit, form, held, as_json)
    if not errors:
        try:
            visit, created = record_visit(
                db.session, storage(), unit, current_user, data, uploads, today=today(),
                tz=company_tz(), limits=PhotoLimits(current_app.config["MAX_PHOTO_BYTES"]),
                complaint=complaint)
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
