import uuid

from flask import flash, jsonify, redirect, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..access import SEES_UNITS, get_unit_or_404, role_required
from ..clock import company_tz, today
from ..domain.arrears import bands_from_policy, days_overdue, overdue_band, with_earliest_band
from ..domain.holds import hold_message, is_dunning, open_work_order
from ..domain.stages import suggested_notice
from ..domain.visits import check_visit
from ..extensions import db
from ..htmx import wants_json
from ..limits import current_limits
from ..models import Reason, Role
from ..photos.evidence import PhotoErrors, read_uploads
from ..photos.storage import storage
from ..review.services import CorrectionUuidReused, Refused, correct_visit, get_visit_or_404
from ..urls import safe_next
from ..workorders.services import ComplaintInput, ComplaintUuidReused
from . import bp
from .choices import choices, date_chips
from .page import visit_page
from .services import ClientUuidReused, record_visit


@bp.before_request
@login_required
@role_required(*SEES_UNITS)
def require_unit_role():
    """Visits and their photos belong to units: engineers see neither."""


def _form_page(unit, values: dict, errors: dict, status: int = 200):
    policy = unit.building.community.policy
    day = today()
    band = overdue_band(days_overdue(unit.oldest_unpaid_due, day),
                        with_earliest_band(bands_from_policy(policy.bands))) \
        if unit.arrears_fen else None
    return render_template(
        "visits/new.html", unit=unit, values=values, errors=errors, choices=choices(),
        policy=policy, today=day, band=band,
        suggested_notice=suggested_notice(band.stage if band else None),
        date_chips=date_chips(day, policy.promise_horizon_days),
        next_url=safe_next(request.args.get("next"), "route.index")), status


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
    limit = current_limits().text_limit("complaint_description")
    if not description:
        errors["complaint_description"] = _("Describe what needs repairing.")
        return None
    if len(description) > limit:
        errors["complaint_description"] = _("At most %(n)s characters.", n=limit)
        return None
    key = str(uuid.uuid5(uuid.NAMESPACE_URL, f"complaint-of-visit:{data.client_uuid}"))
    return ComplaintInput(key, data.service_category, description)


@bp.get("/units/<int:unit_id>/visits/new")
def new(unit_id: int):
    unit = get_unit_or_404(unit_id, current_user)
    return _form_page(unit, {}, {})


def _queued_by_someone_else(form: dict):
    """A queue from another user's session on a shared phone is never filed as mine."""
    queued_by = form.get("queued_by")
    if queued_by and queued_by != str(current_user.id):
        return jsonify(error="wrong_user", message=_(
            "These visits were queued by another user; they sign in to send them.")), 403
    return None


def _checked(unit, form: dict, batch):
    """The visit as parsed, with every problem found before anything is stored."""
    policy = unit.building.community.policy
    data = check_visit(form, photo_count=len(batch.uploads), arrears_fen=unit.arrears_fen,
                       today=today(), promise_horizon_days=policy.promise_horizon_days,
                       limits=current_limits())
    errors = dict(data.errors)
    if batch.problems:
        errors["photos"] = " ".join(batch.problems)
    complaint = complaint_from_form(form, data, errors)
    return data, errors, complaint


def _store(unit, data, uploads, complaint, errors: dict):
    """Record the visit: (visit, created, None), or (None, False, error code) with the
    message in `errors` under the field it concerns."""
    try:
        visit, created = record_visit(
            db.session, storage(), unit, current_user, data, uploads, today=today(),
            tz=company_tz(), limits=current_limits(), complaint=complaint)
        return visit, created, None
    except PhotoErrors as e:
        errors["photos"] = " ".join(e.messages)
        code = "invalid"
    except (ClientUuidReused, ComplaintUuidReused):
        errors["client_uuid"] = _("This visit id was already used for a different visit.")
        code = "client_uuid_reused"
    db.session.rollback()
    return None, False, code


@bp.post("/units/<int:unit_id>/visits")
def create(unit_id: int):
    unit = get_unit_or_404(unit_id, current_user)
    form = request.form.to_dict()
    if (refused := _queued_by_someone_else(form)) is not None:
        return refused
    if not form.get("client_uuid") and not wants_json():
        form["client_uuid"] = str(uuid.uuid4())  # a plain form post without JavaScript
    batch = read_uploads(current_limits())
    data, errors, complaint = _checked(unit, form, batch)
    if not errors and is_dunning(data.outcome, data.notice_type, data.promise_date is not None):
        if (held := open_work_order(db.session, unit.id)) is not None:
            return _hold_refusal(unit, form, held, wants_json())
    code = "invalid"
    if not errors:
        visit, created, code = _store(unit, data, batch.uploads, complaint, errors)
    if errors:
        return _refusal(unit, form, errors, code, bool(batch.uploads or batch.problems))
    next_url = with_saved(safe_next(request.args.get("next"), "route.index"), unit.id)
    if wants_json():
        return jsonify(visit_id=visit.id, client_uuid=visit.client_uuid, next=next_url), \
            (201 if created else 200)
    return redirect(next_url, code=303)


def with_saved(url: str, unit_id: int) -> str:
    """Back to the list, which confirms the save and offers the next unit."""
    base, _, fragment = url.partition("#")
    return f"{base}{'&' if '?' in base else '?'}saved={unit_id}"


def _refusal(unit, form: dict, errors: dict, code: str, photos_sent: bool):
    """422: JSON for the queue, else the form again with what was typed."""
    if wants_json():
        return jsonify(error=code, errors={k: str(v) for k, v in errors.items()}), 422
    if photos_sent:
        errors.setdefault("photos", _("Please choose the photos again."))
    return _form_page(unit, form, errors, 422)


@bp.get("/visits/<int:visit_id>")
def show(visit_id: int):
    """The visit as submitted, its flags, photos and review history."""
    return visit_page(get_visit_or_404(db.session, visit_id, current_user))


@bp.post("/visits/<int:visit_id>/corrections")
@role_required(Role.HOUSEKEEPER)
def correct(visit_id: int):
    """A note or photos added to a visit that was sent back: a record of its own."""
    visit = get_visit_or_404(db.session, visit_id, current_user)
    note = request.form.get("note", "").strip()
    limit = current_limits().text_limit("correction_note")
    batch = read_uploads(current_limits())
    errors = {"note": _("At most %(n)s characters.", n=limit)} if len(note) > limit else {}
    if batch.problems:
        errors["photos"] = " ".join(batch.problems)
    status = 422 if errors else _store_correction(visit, note, batch.uploads, errors)
    if errors:
        return _correction_refused(visit, errors, status)
    if wants_json():
        return jsonify(visit_id=visit.id, review_status=visit.review_status), 201
    flash(_("Correction sent: your supervisor reviews the visit again."), "success")
    return redirect(safe_next(request.args.get("next"), "today.index"), code=303)


def _store_correction(visit, note: str, uploads, errors: dict) -> int:
    """Store it; on refusal, the message goes into `errors` and the status is returned."""
    try:
        correct_visit(db.session, storage(), visit, current_user, note, uploads,
                      _correction_uuid(request.form), tz=company_tz(),
                      limits=current_limits())
        return 201
    except Refused as e:
        errors[e.field] = str(e.message)
        status = e.status
    except PhotoErrors as e:
        errors["photos"] = " ".join(e.messages)
        status = 422
    except CorrectionUuidReused:
        errors["form"] = _("This form was already used for another correction.")
        status = 422
    db.session.rollback()
    return status


def _correction_uuid(form) -> str:
    """The page mints it when the form opens; a post without JavaScript gets one."""
    try:
        return str(uuid.UUID(form.get("client_uuid", "")))
    except ValueError:
        return str(uuid.uuid4())


def _correction_refused(visit, errors: dict, status: int):
    if wants_json():
        return jsonify(error="invalid", errors=errors), status
    if request.files:
        errors.setdefault("photos", _("Please choose the photos again."))
    return visit_page(visit, errors=errors, values=request.form, status=status)
