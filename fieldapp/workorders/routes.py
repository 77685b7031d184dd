from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from geopy.distance import geodesic
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..access import role_required
from ..clock import company_tz
from ..domain.workorders import WorkOrderRefused
from ..extensions import db
from ..htmx import wants_json
from ..limits import current_limits
from ..models import Role, Unit, User, WorkOrder, WorkOrderStatus
from ..params import id_param
from ..photos.evidence import PhotoErrors, read_uploads
from ..photos.storage import storage
from . import bp
from .access import WORKS_ON_REPAIRS, get_work_order_or_404, restrict_work_orders
from .services import act, add_note, assign


def _coords():
    try:
        lat, lon = float(request.args["lat"]), float(request.args["lon"])
    except (KeyError, ValueError):
        return None
    return (lat, lon) if -90 <= lat <= 90 and -180 <= lon <= 180 else None


@bp.get("/workorders")
@login_required
@role_required(*WORKS_ON_REPAIRS)
def index():
    show_closed = request.args.get("status") == "closed"
    q = restrict_work_orders(select(WorkOrder), current_user).options(
        selectinload(WorkOrder.unit).selectinload(Unit.building),
        selectinload(WorkOrder.complaint), selectinload(WorkOrder.engineer))
    q = q.where((WorkOrder.status == WorkOrderStatus.CLOSED) if show_closed
                else (WorkOrder.status != WorkOrderStatus.CLOSED))
    orders = list(db.session.scalars(q.order_by(WorkOrder.opened_at, WorkOrder.id).limit(200)))
    here = _coords()
    distances = {}
    if here:
        # One distance per building, however many orders it has.
        for b in {o.unit.building for o in orders if o.unit.building.lat is not None}:
            distances[b.id] = geodesic(here, (b.lat, b.lon)).meters
        orders.sort(key=lambda o: distances.get(o.unit.building_id, float("inf")))
    engineers = db.session.scalars(select(User).where(User.role == Role.ENGINEER,
                                                      User.active)).all() \
        if current_user.role != Role.ENGINEER else []
    return render_template("workorders/index.html", orders=orders, distances=distances,
                           sort="nearest" if here else "oldest", show_closed=show_closed,
                           engineers=engineers)


@bp.get("/workorders/<int:order_id>")
@login_required
@role_required(*WORKS_ON_REPAIRS)
def show(order_id: int):
    order = get_work_order_or_404(order_id, current_user)
    engineers = db.session.scalars(select(User).where(User.role == Role.ENGINEER,
                                                      User.active)).all()
    return render_template("workorders/show.html", order=order, engineers=engineers,
                           error=None)


def _refused(order: WorkOrder, message: str, status: int = 409, form: str = ""):
    """The page again, the message beside the form that was sent, what was typed kept."""
    if wants_json():
        return jsonify(error="refused", message=message, status=order.status.value), status
    engineers = db.session.scalars(select(User).where(User.role == Role.ENGINEER)).all()
    return render_template("workorders/show.html", order=order, engineers=engineers,
                           error=message, error_form=form, values=request.form), status


@bp.post("/workorders/<int:order_id>/<any(accept, start, close, reopen):action>")
@login_required
@role_required(*WORKS_ON_REPAIRS)
def transition(order_id: int, action: str):
    order = get_work_order_or_404(order_id, current_user)
    note = request.form.get({"close": "repair_notes", "reopen": "reason"}.get(action, ""), "")
    batch = read_uploads(current_limits())
    if batch.problems:
        return _refused(order, " ".join(batch.problems), 422, action)
    try:
        act(db.session, storage(), order, current_user, action, note=note,
            uploads=batch.uploads, tz=company_tz(), limits=current_limits())
    except WorkOrderRefused as e:
        db.session.rollback()
        return _refused(order, str(e.message), 422 if action in ("close", "reopen") else 409,
                        action)
    except PhotoErrors as e:
        db.session.rollback()
        return _refused(order, " ".join(e.messages), 422, action)
    if wants_json():
        return jsonify(work_order_id=order.id, status=order.status.value)
    flash(_("Work order updated."), "success")
    return redirect(url_for("workorders.show", order_id=order.id), code=303)


@bp.post("/workorders/<int:order_id>/note")
@login_required
@role_required(*WORKS_ON_REPAIRS)
def note(order_id: int):
    order = get_work_order_or_404(order_id, current_user)
    try:
        add_note(db.session, order, current_user, request.form.get("note", ""),
                 limits=current_limits())
    except WorkOrderRefused as e:
        db.session.rollback()
        return _refused(order, str(e.message), 422, "note")
    return redirect(url_for("workorders.show", order_id=order.id), code=303)


@bp.post("/workorders/<int:order_id>/assign")
@login_required
@role_required(Role.SUPERVISOR, Role.ADMIN)
def assign_engineer(order_id: int):
    order = get_work_order_or_404(order_id, current_user)
    engineer_id = id_param(request.form.get("engineer_id"))
    engineer = db.session.get(User, engineer_id) if engineer_id else None
    if engineer is None:
        abort(404)
    try:
        assign(db.session, order, current_user, engineer)
    except WorkOrderRefused:
        return _refused(order, _("Only an open work order can be assigned to an engineer."))
    flash(_("Assigned to %(name)s.", name=engineer.display_name or engineer.username),
          "success")
    back = url_for("workorders.index") if request.form.get("back") == "list" \
        else url_for("workorders.show", order_id=order.id)
    return redirect(back, code=303)
