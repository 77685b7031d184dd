"""The photo evidence pipeline: check the bytes, keep the original, derive copies.

The content decides what a file is, never its name or the browser's content type.
JPEGs are decoded in Pillow's draft mode at the display size, which is most of the
speed (bench/photo_pipeline.py)."""
from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo

from PIL import Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

register_heif_opener()  # HEIC/HEIF from iPhones becomes Pillow's "HEIF" format

ACCEPTED = ("JPEG", "PNG", "WEBP", "HEIF")
DISPLAY_MIN, DISPLAY_MAX = 1600, 2048  # long edge of the display copy
THUMB = 320
DISPLAY_QUALITY, THUMB_QUALITY = 82, 72


class PhotoRejected(ValueError):
    """A file that cannot be taken, with a message naming it."""

    def __init__(self, filename: str, reason: str):
        super().__init__(f"{filename}: {reason}")
        self.filename = filename
        self.reason = reason


@dataclass(frozen=True)
class PhotoLimits:
    max_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 50_000_000


@dataclass(frozen=True)
class ProcessedPhoto:
    sha256: str
    format: str
    size_bytes: int
    width: int  # of the original, as the camera oriented it
    height: int
    taken_at: datetime | None
    exif_lat: float | None
    exif_lon: float | None
    original: bytes
    display: bytes
    thumb: bytes


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def open_checked(data: bytes, filename: str, limits: PhotoLimits) -> Image.Image:
    """Open without decoding pixels; refuse non-images, other formats and bombs."""
    if len(data) == 0:
        raise PhotoRejected(filename, "empty")
    if len(data) > limits.max_bytes:
        raise PhotoRejected(filename, "too_large")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=ACCEPTED)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise PhotoRejected(filename, "too_many_pixels") from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise PhotoRejected(filename, "not_an_image") from None
    if img.width * img.height > limits.max_pixels:
        raise PhotoRejected(filename, "too_many_pixels")
    return img


def _exif_facts(img: Image.Image, tz: tzinfo) -> tuple[datetime | None, float | None,
                                                       float | None]:
    try:
        exif = img.getexif()
    except Exception:  # a corrupt EXIF block must not cost the photo
        return None, None, None
    taken_at = None
    sub = exif.get_ifd(0x8769)  # Exif IFD
    raw = sub.get(0x9003) or exif.get(0x0132)  # DateTimeOriginal, else DateTime
    if isinstance(raw, str):
        try:
            taken_at = datetime.strptime(raw.strip("\x00 "), "%Y:%m:%d %H:%M:%S")
            offset = sub.get(0x9011)  # OffsetTimeOriginal, "+08:00"
            if isinstance(offset, str) and len(offset) == 6:
                taken_at = datetime.fromisoformat(taken_at.isoformat() + offset)
            else:
                taken_at = taken_at.replace(tzinfo=tz)  # cameras write local time
            taken_at = taken_at.astimezone(timezone.utc)
        except ValueError:
            taken_at = None
    gps = exif.get_ifd(0x8825)
    lat = _gps_degrees(gps.get(2), gps.get(1))
    lon = _gps_degrees(gps.get(4), gps.get(3))
    return taken_at, lat, lon


def _gps_degrees(value, ref) -> float | None:
    try:
        d, m, s = (float(x) for x in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    degrees = d + m / 60 + s / 3600
    return -degrees if ref in ("S", "W") else degrees


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode in ("RGBA", "LA", "P"):
        img = img.convert("RGBA")
        background = Image.new("RGB", img.size, (255, 255, 255))
        background.paste(img, mask=img.getchannel("A"))
        return background
    return img.convert("RGB") if img.mode != "RGB" else img


def _jpeg(img: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality)  # no exif= : metadata is stripped
    return out.getvalue()


def process(data: bytes, filename: str, *, tz: tzinfo = timezone.utc,
            limits: PhotoLimits = PhotoLimits()) -> ProcessedPhoto:
    """Check a photo and make its display copy and thumbnail."""
    img = open_checked(data, filename, limits)
    fmt = img.format or ""
    width, height = img.size
    taken_at, lat, lon = _exif_facts(img, tz)
    try:
        if fmt == "JPEG":
            # Draft mode picks the largest DCT scale still >= the request, so ask for
            # the smallest acceptable long edge in the photo's own proportions.
            scale = DISPLAY_MIN / max(width, height)
            if scale < 1:
                img.draft("RGB", (max(1, int(width * scale)), max(1, int(height * scale))))
        img = ImageOps.exif_transpose(img)
        img = _to_rgb(img)
        if max(img.size) > DISPLAY_MAX:
            img.thumbnail((DISPLAY_MAX, DISPLAY_MAX), Image.Resampling.BILINEAR)
        display = _jpeg(img, DISPLAY_QUALITY)
        small = img.reduce(4) if min(img.size) >= 4 * THUMB else img.copy()
        small.thumbnail((THUMB, THUMB), Image.Resampling.BILINEAR)
        thumb = _jpeg(small, THUMB_QUALITY)
    except (OSError, ValueError, SyntaxError):  # truncated or corrupt pixel data
        raise PhotoRejected(filename, "not_an_image") from None
    return ProcessedPhoto(sha256=sha256_of(data), format=fmt, size_bytes=len(data),
                          width=width, height=height, taken_at=taken_at, exif_lat=lat,
                          exif_lon=lon, original=data, display=display, thumb=thumb)
