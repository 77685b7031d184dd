"""The evidence bundle of a unit: one ZIP with a self-contained index.html, every notice as
issued, every photo original and manifest.json of SHA-256 sums. Written into a generator a
chunk at a time, so hundreds of photos are never all in memory."""
from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from flask import render_template
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..models import (
    ComplaintPhoto,
    InstallmentPlan,
    Photo,
    Promise,
    Unit,
    Visit,
    VisitPhoto,
    WorkOrder,
)
from ..photos.storage import Storage, photo_keys
from .services import unit_notices

CHUNK = 256 * 1024
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "HEIF": "heic"}


class _Pipe:
    """A write-only file whose bytes the generator takes out after each write."""

    def __init__(self):
        self.parts: list[bytes] = []

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        out, self.parts = b"".join(self.parts), []
        return out


@dataclass(frozen=True)
class Bundle:
    unit: Unit
    card: object
    visits: list[Visit]
    notices: list
    orders: list[WorkOrder]
    promises: list[Promise]
    plans: list[InstallmentPlan]
    payments: list
    photos: list[Photo]


def photo_name(photo: Photo) -> str:
    return f"photos/{photo.sha256}.{EXTENSIONS.get(photo.format, 'bin')}"


def notice_name(notice) -> str:
    return f"notices/{notice.number}.html"


def gather(session: Session, unit: Unit, today: date) -> Bundle:
    """Everything the bundle shows, read before the first byte is sent."""
    from ..units.services import unit_card
    from .statements import payments_of
    card = unit_card(session, unit, today)
    visits = list(session.scalars(select(Visit).where(Visit.unit_id == unit.id)
                                  .options(selectinload(Visit.user),
                                           selectinload(Visit.photos)
                                           .selectinload(VisitPhoto.photo))
                                  .order_by(Visit.created_at, Visit.id)))
    orders = card.work_orders
    promises = list(session.scalars(select(Promise).where(Promise.unit_id == unit.id)
                                    .order_by(Promise.due_date, Promise.id)))
    plans = list(session.scalars(select(InstallmentPlan).where(
        InstallmentPlan.unit_id == unit.id).order_by(InstallmentPlan.id)))
    seen, photos = set(), []
    complaint_photos = session.scalars(
        select(Photo).join(ComplaintPhoto, ComplaintPhoto.photo_id == Photo.id)
        .where(ComplaintPhoto.complaint_id.in_([o.complaint_id for o in orders])))
    for photo in [vp.photo for v in visits for vp in v.photos] + list(complaint_photos) + \
            [wp.photo for o in orders for wp in o.after_photos]:
        if photo.id not in seen:
            seen.add(photo.id)
            photos.append(photo)
    return Bundle(unit, card, visits, unit_notices(session, unit.id), orders, promises,
                  plans, payments_of(session, unit.id), photos)


def stream_bundle(bundle: Bundle, store: Storage, generated_at: str) -> Iterator[bytes]:
    """The ZIP, a chunk at a time; manifest.json last, with the sum of every file."""
    pipe = _Pipe()
    sums: dict[str, str] = {}
    with zipfile.ZipFile(pipe, "w") as archive:
        def add(name: str, chunks, compress: bool):
            digest = hashlib.sha256()
            info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
            with archive.open(info, "w") as out:
                for chunk in chunks:
                    digest.update(chunk)
                    out.write(chunk)
                    yield pipe.take()
            sums[name] = digest.hexdigest()
            yield pipe.take()

        index = render_template("notices/evidence_index.html", b=bundle,
                                photo_name=photo_name, notice_name=notice_name,
                                generated_at=generated_at).encode("utf-8")
        yield from add("index.html", [index], True)
        for notice, _visit in bundle.notices:
            yield from add(notice_name(notice), [store.get(notice.storage_key)], True)
        for photo in bundle.photos:
            yield from add(photo_name(photo), _chunks(store, photo_keys(photo.sha256)
                                                      ["original"]), False)
        manifest = json.dumps({"unit": bundle.unit.label, "generated_at": generated_at,
                               "algorithm": "sha256", "files": sums},
                              ensure_ascii=False, indent=2).encode("utf-8")
        yield from add("manifest.json", [manifest], True)
    yield pipe.take()


def _chunks(store: Storage, key: str) -> Iterator[bytes]:
    with store.open(key) as f:
        while chunk := f.read(CHUNK):
            yield chunk
