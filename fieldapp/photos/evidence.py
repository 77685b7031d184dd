"""Photos as evidence: uploads checked, stored by content, recorded once per SHA-256.
Shared by visits, complaints and repair records."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import tzinfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import Photo, User
from .pipeline import PhotoLimits, PhotoRejected, process
from .storage import Storage, photo_keys

PHOTO_MESSAGES = {
    "empty": _l("%(file)s is empty."),
    "too_large": _l("%(file)s is too large (at most %(mb)s MB per photo)."),
    "too_many_pixels": _l("%(file)s has too many pixels to be a phone photo."),
    "not_an_image": _l("%(file)s is not a photo (JPEG, PNG, WebP or HEIC)."),
}


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes
    client_meta: dict


class PhotoErrors(Exception):
    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


def photo_error_message(e: PhotoRejected, limits: PhotoLimits) -> str:
    return str(PHOTO_MESSAGES[e.reason] % {"file": e.filename,
                                           "mb": limits.max_bytes // (1024 * 1024)})


def store_photos(session: Session, store: Storage, uploads: list[Upload], user: User,
                 tz: tzinfo, limits: PhotoLimits) -> list[tuple[Photo, dict]]:
    """Check every upload first (all problems reported at once), then store them."""
    processed, problems = [], []
    for upload in uploads:
        try:
            processed.append((process(upload.data, upload.filename, tz=tz, limits=limits),
                              upload.client_meta))
        except PhotoRejected as e:
            problems.append(photo_error_message(e, limits))
    if problems:
        raise PhotoErrors(problems)
    result = []
    for p, meta in processed:
        keys = photo_keys(p.sha256)
        store.put(keys["original"], p.original)
        store.put(keys["display"], p.display)
        store.put(keys["thumb"], p.thumb)
        photo = session.scalar(select(Photo).where(Photo.sha256 == p.sha256))
        if photo is None:
            photo = Photo(sha256=p.sha256, format=p.format, size_bytes=p.size_bytes,
                          width=p.width, height=p.height, taken_at=p.taken_at,
                          exif_lat=p.exif_lat, exif_lon=p.exif_lon, uploaded_by=user.id)
            try:
                with session.begin_nested():
                    session.add(photo)
            except IntegrityError:  # the same photo arrived concurrently
                photo = session.scalar(select(Photo).where(Photo.sha256 == p.sha256))
        result.append((photo, meta))
    return result


def _client_meta(metas: list[str], i: int) -> dict:
    """What the phone says about a photo (capture time before downscaling stripped
    EXIF): kept as reported, labelled as the client's, never trusted for more."""
    if i >= len(metas) or not metas[i]:
        return {}
    try:
        meta = json.loads(metas[i][:2000])
    except ValueError:
        return {}
    return {str(k)[:40]: v for k, v in meta.items() if isinstance(v, (str, int, float, bool))} \
        if isinstance(meta, dict) else {}


def uploads_from_request(field: str = "photos") -> list[Upload]:
    """Files from a multipart request, with the page's per-photo metadata if sent."""
    from flask import request
    metas = request.form.getlist(f"{field[:-1]}_meta")
    uploads = []
    for i, f in enumerate(request.files.getlist(field)):
        if not f or not f.filename:
            continue  # an empty file input sends an empty part
        uploads.append(Upload(f.filename[:120], f.read(), _client_meta(metas, i)))
    return uploads
