"""Photos are served only to users who may see what the photo is evidence of: a visit
or complaint of a unit in their patch, or (engineers) a work order of theirs. The viewer
page shows one photo in that context, to the same users."""
from flask import Response, abort, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select, union

from ..access import SEES_ALL_UNITS
from ..extensions import db
from ..models import (
    ComplaintPhoto,
    CorrectionPhoto,
    Photo,
    VisitCorrection,
    VisitPhoto,
    WorkOrder,
    WorkOrderPhoto,
)
from ..urls import safe_next
from . import bp
from .access import visible_visit_ids, visible_work_order_ids
from .storage import photo_keys, storage
from .viewer import home_of, photo_in_context

ORIGINAL_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp",
                  "HEIF": "image/heif"}


def _visible_photo_ids(photo_id: int):
    visits, orders = visible_visit_ids(current_user), visible_work_order_ids(current_user)
    return union(
        select(VisitPhoto.photo_id).where(VisitPhoto.photo_id == photo_id,
                                          VisitPhoto.visit_id.in_(visits)),
        select(CorrectionPhoto.photo_id).join(
            VisitCorrection, VisitCorrection.id == CorrectionPhoto.correction_id)
        .where(CorrectionPhoto.photo_id == photo_id, VisitCorrection.visit_id.in_(visits)),
        select(ComplaintPhoto.photo_id).join(WorkOrder, WorkOrder.complaint_id ==
                                             ComplaintPhoto.complaint_id)
        .where(ComplaintPhoto.photo_id == photo_id, WorkOrder.id.in_(orders)),
        select(WorkOrderPhoto.photo_id).where(WorkOrderPhoto.photo_id == photo_id,
                                              WorkOrderPhoto.work_order_id.in_(orders)),
    )


@bp.get("/photos/<int:photo_id>/<any(thumb, display, original):variant>")
@login_required
def photo(photo_id: int, variant: str):
    found = db.session.scalar(select(Photo).where(
        Photo.id.in_(select(_visible_photo_ids(photo_id).subquery().c[0]))))
    if found is None:
        abort(404)
    data = storage().get(photo_keys(found.sha256)[variant])
    mimetype = ORIGINAL_TYPES.get(found.format, "application/octet-stream") \
        if variant == "original" else "image/jpeg"
    response = Response(data, mimetype=mimetype)
    extension = "jpg" if variant != "original" else found.format.lower()
    response.headers["Content-Disposition"] = \
        f'inline; filename="photo-{found.id}-{variant}.{extension}"'
    # Evidence is personal data: the browser may keep it, shared caches may not.
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


@bp.get("/<any(visits, corrections, complaints, workorders):kind>/<int:owner_id>/photos/<int:n>")
@login_required
def viewer(kind: str, owner_id: int, n: int):
    """One photo full width, its neighbours a link (or a swipe) away, and a way back to
    the page it was opened from: the installed app has no browser Back button."""
    shown = photo_in_context(db.session, kind, owner_id, n, current_user)
    if shown is None:
        abort(404)
    endpoint, values = home_of(shown, current_user)
    back = safe_next(request.args.get("next"), endpoint, **values)
    return render_template("photos/viewer.html", shown=shown, back=back,
                           sees_originals=current_user.role in SEES_ALL_UNITS)
