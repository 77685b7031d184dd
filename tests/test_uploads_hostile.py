"""Hostile uploads, one row each: refused with a message naming the file and nothing
stored, or stored safely where that is the right answer (the row says why)."""
from __future__ import annotations

import io
import uuid
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from fieldapp.extensions import db
from fieldapp.limits import DEFAULT
from fieldapp.models import Photo, Role, Visit, WorkOrder

from .factories import TODAY, make_bill, make_building, make_unit, make_user
from .http import post_multipart
from .photos import jpeg_claiming, make_jpeg, make_png, make_png_bomb

JSON = {"Accept": "application/json"}


def _saved(fmt: str, **params) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (9, 99, 199)).save(out, fmt, **params)
    return out.getvalue()


def _jpeg_with_zip() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("payload.html", "<script>alert(1)</script>")
    return make_jpeg() + archive.getvalue()


def _heic() -> bytes:
    from pillow_heif import register_heif_opener
    register_heif_opener()
    return _saved("HEIF")


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
REFUSED = [
    ("png bomb", [("bomb.png", make_png_bomb())], "bomb.png has too many pixels"),
    ("jpeg bomb", [("bomb.jpg", jpeg_claiming(65000, 65000))], "bomb.jpg has too many pixels"),
    ("jpeg size lie", [("lie.jpg", jpeg_claiming(8000, 6000))], "lie.jpg is damaged"),
    ("png size lie", [("lie.png", make_png_bomb(7000, 7000))], "lie.png is damaged"),
    ("truncated jpeg", [("cut.jpg", make_jpeg(800, 600)[:4000])], "cut.jpg is not a photo"),
    ("truncated png", [("cut.png", make_png(300, 300)[:200])], "cut.png is damaged"),
    ("truncated big png", [("cut2.png", make_png(300, 300)[:900])], "cut2.png is not a photo"),
    ("script behind jpeg magic", [("x.jpg", b"\xff\xd8\xff<script>alert(1)</script>")],
     "x.jpg is not a photo"),
    ("svg with script", [("logo.svg", SVG)], "logo.svg is not a photo"),
    ("svg named jpg", [("logo.jpg", SVG)], "logo.jpg is not a photo"),
    ("gif", [("anim.gif", _saved("GIF"))], "anim.gif is not a photo"),
    ("tiff", [("scan.tif", _saved("TIFF"))], "scan.tif is not a photo"),
    ("pdf", [("notice.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF")], "notice.pdf is not a photo"),
    ("zero bytes", [("empty.jpg", b"")], "empty.jpg is empty"),
    ("over size", [("big.jpg", b"\xff\xd8\xff" + b"\0" * DEFAULT.photo_bytes)],
     "big.jpg is too large"),
    ("too many", [(f"p{i}.jpg", make_jpeg(color=(i, 0, 0))) for i in range(9)],
     "At most 8 photos"),
    ("control characters in the name", [("evil\u202egpj.exe\x00.svg", SVG)],
     "evilgpj.exe.svg is not a photo"),
]
# Taken, and why that is right.
STORED = [
    # The original is evidence and is kept byte for byte, but it is only ever served as
    # image/jpeg with nosniff and as an attachment-safe name; the copies are re-encoded.
    ("jpeg with a zip appended", [("door.jpg", _jpeg_with_zip())]),
    # Names never reach the file system: photos are stored under their SHA-256.
    ("path traversal name", [("../../../../etc/passwd.jpg", make_jpeg(color=(1, 1, 1)))]),
    ("windows path name", [("..\\..\\boot.ini.jpg", make_jpeg(color=(2, 2, 2)))]),
    # The content decides the format, not the name.
    ("heic named jpg", [("IMG_0001.jpg", _heic())]),
    # Absurd metadata costs the metadata, not the photo.
    ("absurd exif", [("clock.jpg", make_jpeg(orientation=99, taken="0000:00:00 00:00:00",
                                             raw_gps=((4_000_000_000, 0, 0), (0, 0, 0))))]),
]


@pytest.fixture
def door(app):
    building = make_building()
    unit = make_unit(building)
    make_bill(unit, 100_000, TODAY - timedelta(days=90))
    return make_user(Role.HOUSEKEEPER, buildings=[building], locale="en"), unit


def send(client, route: str, unit_id: int, files):
    fields = {"client_uuid": str(uuid.uuid4()), "outcome": "nobody_home",
              "notice_type": "reminder", "delivery": "door", "category": "leak",
              "description": "漏水", "notes": "贴在门上"}
    return post_multipart(client, f"/units/{unit_id}/{route}", fields,
                          [("photos", n, c) for n, c in files], JSON)


def stored_files(app) -> list[Path]:
    root = Path(app.config["UPLOAD_DIR"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.parametrize("route", ["visits", "complaints"])
@pytest.mark.parametrize("name,files,message", REFUSED, ids=[r[0] for r in REFUSED])
def test_hostile_upload_is_refused_and_nothing_is_stored(app, client, login_as, door, route,
                                                         name, files, message):
    hk, unit = door
    login_as(hk)
    r = send(client, route, unit.id, files)
    assert r.status_code == 422, r.get_data(as_text=True)[:300]
    assert message in r.json["errors"]["photos"]
    assert db.session.scalar(select(func.count()).select_from(Photo)) == 0
    assert db.session.scalar(select(func.count()).select_from(Visit)) == 0
    assert db.session.scalar(select(func.count()).select_from(WorkOrder)) == 0
    assert stored_files(app) == []


@pytest.mark.parametrize("name,files", STORED, ids=[r[0] for r in STORED])
def test_odd_but_harmless_upload_is_stored_safely(app, client, login_as, door, name, files):
    hk, unit = door
    login_as(hk)
    r = send(client, "visits", unit.id, files)
    assert r.status_code == 201, r.get_data(as_text=True)[:300]
    photo = db.session.scalar(select(Photo))
    root = Path(app.config["UPLOAD_DIR"]).resolve()
    assert all(root in p.resolve().parents for p in stored_files(app))
    assert {p.name.split(".")[0] for p in stored_files(app)} == {photo.sha256}
    original = client.get(f"/photos/{photo.id}/original")
    assert original.data == files[0][1]
    assert original.mimetype.startswith("image/")
    assert original.headers["X-Content-Type-Options"] == "nosniff"
    assert f'filename="photo-{photo.id}-original.' in original.headers["Content-Disposition"]
    display = Image.open(io.BytesIO(client.get(f"/photos/{photo.id}/display").data))
    assert display.format == "JPEG" and len(display.getexif()) == 0
    assert photo.exif_lat is None or -90 <= photo.exif_lat <= 90
