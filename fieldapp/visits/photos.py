"""Photos are served only to users who may see a unit the photo belongs to."""
from flask import Response, abort
from flask_login import current_user
from sqlalchemy import select

from ..access import restrict_units
from ..extensions import db
from ..models import Photo, Unit, Visit, VisitPhoto
from ..storage import photo_keys, storage
from . import bp

ORIGINAL_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp",
                  "HEIF": "image/heif"}


def visible_photo_or_404(photo_id: int) -> Photo:
    via_unit = restrict_units(
        select(Photo).join(VisitPhoto, VisitPhoto.photo_id == Photo.id)
        .join(Visit, Visit.id == VisitPhoto.visit_id).join(Unit, Unit.id == Visit.unit_id)
        .where(Photo.id == photo_id), current_user)
    photo = db.session.scalars(via_unit.limit(1)).first()
    if photo is None:
        abort(404)
    return photo


@bp.get("/photos/<int:photo_id>/<any(thumb, display, original):variant>")
def photo(photo_id: int, variant: str):
    found = visible_photo_or_404(photo_id)
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
