"""Photos as evidence: uploads checked, stored by content, recorded once per SHA-256.
Shared by visits, complaints and repair records."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import tzinfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.photohash import bands, to_signed
from ..limits import MIB, Limits
from ..models import Photo, User, utcnow
from ..models.base import insert_or_ignore
from .pipeline import PhotoRejected, decode_pixels, open_checked, process
from .storage import Storage, photo_keys

PHOTO_MESSAGES = {
    "empty": _l("%(file)s is empty."),
    "too_large": _l("%(file)s is too large (at most %(mb)s MB per photo)."),
    "too_many_pixels": _l("%(file)s has too many pixels to be a phone photo."),
    "not_an_image": _l("%(file)s is not a photo (JPEG, PNG, WebP or HEIC)."),
    "size_mismatch": _l("%(file)s is damaged: the file is too small for the picture size "
                        "it claims. Take the photo again."),
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


def photo_error_message(e: PhotoRejected, limits: Limits) -> str:
    return str(PHOTO_MESSAGES[e.reason] % {"file": e.filename,
                                           "mb": limits.photo_bytes // MIB})


def batch_problems(count: int, total_bytes: int, limits: Limits) -> list[str]:
    """What is wrong with a request's photos taken together, before any is opened."""
    problems = []
    if count > limits.photos_per_request:
        problems.append(str(_l("At most %(n)s photos at a time.", n=limits.photos_per_request)))
    if total_bytes > limits.upload_bytes:
        problems.append(str(_l("These photos are %(got)s MB together; at most %(mb)s MB can "
                               "be sent at a time. Send fewer or smaller photos.",
                               got=-(-total_bytes // MIB), mb=limits.upload_bytes // MIB)))
    return problems


def check_photos(uploads: list[Upload], limits: Limits) -> list[str]:
    """Every problem with these uploads, found from their headers alone: the request's
    decoding budget is checked before a single pixel is decoded."""
    problems = batch_problems(len(uploads), sum(len(u.data) for u in uploads), limits)
    if problems:
        return problems
    pixels = 0
    for upload in uploads:
        try:
            pixels += decode_pixels(open_checked(upload.data, upload.filename, limits))
        except PhotoRejected as e:
            problems.append(photo_error_message(e, limits))
    if not problems and pixels > limits.decode_pixels:
        problems.append(str(_l(
            "These photos are too large to process in one go. Send fewer at a time, or "
            "as JPEG (the camera's usual format).")))
    return problems


def store_photos(session: Session, store: Storage, uploads: list[Upload], user: User,
                 tz: tzinfo, limits: Limits) -> list[tuple[Photo, dict]]:
    """Check every upload first (all problems reported at once), then store them."""
    problems = check_photos(uploads, limits)
    processed = []
    if not problems:
        for upload in uploads:
            try:
                processed.append((process(upload.data, upload.filename, tz=tz, limits=limits),
                                  upload.client_meta))
            except PhotoRejected as e:
                problems.append(photo_error_message(e, limits))
    if problems:
        raise PhotoErrors(problems)
    result, seen = [], set()
    for p, meta in processed:
        if p.sha256 in seen:
            continue  # the same file chosen twice is one piece of evidence
        seen.add(p.sha256)
        keys = photo_keys(p.sha256)
        store.put(keys["original"], p.original)
        store.put(keys["display"], p.display)
        store.put(keys["thumb"], p.thumb)
        photo = _photo_row(session, p, user)
        result.append((photo, meta))
    return result


def _photo_row(session: Session, p, user: User) -> Photo:
    """The Photo for these bytes, inserted unless it exists (never a savepoint: on
    SQLite its release would commit the photo without its visit)."""
    hashed = {}
    if p.phash is not None:
        hashed = dict(phash=to_signed(p.phash),
                      **{f"phash_b{i}": band for i, band in enumerate(bands(p.phash))})
    insert_or_ignore(session, Photo, ["sha256"], sha256=p.sha256, format=p.format,
                     size_bytes=p.size_bytes, width=p.width, height=p.height,
                     taken_at=p.taken_at, exif_lat=p.exif_lat, exif_lon=p.exif_lon,
                     uploaded_by=user.id, created_at=utcnow(), **hashed)
    return session.scalar(select(Photo).where(Photo.sha256 == p.sha256))


def _client_meta(raw: str, limits: Limits) -> dict:
    """What the phone says about a photo (capture time before downscaling stripped
    EXIF): kept as reported, labelled as the client's, never trusted for more."""
    if not raw or len(raw) > limits.text_limit("photo_meta"):
        return {}
    try:
        meta = json.loads(raw)
    except (ValueError, RecursionError):
        return {}
    if not isinstance(meta, dict):
        return {}
    return {str(k)[:40]: (v[:200] if isinstance(v, str) else v)
            for k, v in list(meta.items())[:20]
            if isinstance(v, (str, bool)) or (isinstance(v, (int, float)) and
                                              math.isfinite(v) and abs(v) < 1e15)}


def _display_name(filename: str) -> str:
    """The name the user knows the file by, without a path or control characters."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(c for c in name if c.isprintable())[:120] or "photo"


@dataclass
class UploadBatch:
    uploads: list[Upload]
    problems: list[str]


def read_uploads(limits: Limits, field: str = "photos") -> UploadBatch:
    """Files from a multipart request, with the page's per-photo metadata if sent.
    Reads no more than the limits allow: one byte past a file's limit says enough."""
    from flask import request
    files = [f for f in request.files.getlist(field) if f and f.filename]
    metas = request.form.getlist(f"{field[:-1]}_meta")
    if len(files) > limits.photos_per_request:
        return UploadBatch([], batch_problems(len(files), 0, limits))
    uploads, problems, total = [], [], 0
    for i, f in enumerate(files):
        data = f.read(limits.photo_bytes + 1)
        name = _display_name(f.filename)
        if len(data) > limits.photo_bytes:
            problems.append(photo_error_message(PhotoRejected(name, "too_large"), limits))
            continue
        total += len(data)
        uploads.append(Upload(name, data, _client_meta(metas[i] if i < len(metas) else "",
                                                       limits)))
    problems += batch_problems(len(uploads), total, limits)
    return UploadBatch(uploads, problems)
