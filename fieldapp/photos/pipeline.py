"""The photo evidence pipeline: check the bytes, keep the original, derive copies.

The content decides what a file is, never its name or the browser's content type.
JPEGs are decoded in Pillow's draft mode at the display size, which is most of the
speed (bench/photo_pipeline.py)."""
from __future__ import annotations

import hashlib
import io
import math
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo

import imagehash
from PIL import Image, UnidentifiedImageError
from pillow_heif import register_heif_opener

from ..limits import DEFAULT, Limits

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
    phash: int | None = None  # 64-bit perceptual hash, unsigned


def perceptual_hash(img: Image.Image) -> int:
    """The picture's 64-bit DCT hash (imagehash.phash): re-compressing, resizing or a
    slightly shifted re-take changes a few bits, another picture about half of them."""
    bits = imagehash.phash(img).hash.flatten()
    return int("".join("1" if b else "0" for b in bits), 2)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def open_checked(data: bytes, filename: str, limits: Limits = DEFAULT) -> Image.Image:
    """Open without decoding pixels; refuse non-images, other formats, bombs and files
    too small to hold the pixels their header declares."""
    if len(data) == 0:
        raise PhotoRejected(filename, "empty")
    if len(data) > limits.photo_bytes:
        raise PhotoRejected(filename, "too_large")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=ACCEPTED)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise PhotoRejected(filename, "too_many_pixels") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise PhotoRejected(filename, "not_an_image") from None
    if img.width < 1 or img.height < 1 or img.width * img.height > limits.photo_pixels:
        raise PhotoRejected(filename, "too_many_pixels")
    if len(data) < min_plausible_bytes(img):
        raise PhotoRejected(filename, "size_mismatch")
    return img


def min_plausible_bytes(img: Image.Image) -> int:
    """The fewest bytes that can encode the declared pixels. A JPEG spends at least one
    bit on every 8x8 block; deflate (PNG) compresses at most 1032:1. WebP and HEIF
    can compress a flat picture further, so their bound is only the decode budget."""
    if img.format == "JPEG":
        return img.width * img.height // 512
    if img.format == "PNG":
        bits = {"1": 1, "L": 8, "P": 8, "LA": 16, "RGB": 24, "RGBA": 32}.get(img.mode, 8)
        row = 1 + (img.width * bits + 7) // 8
        return row * img.height // 1032
    return 0


def _draft_target(width: int, height: int) -> tuple[int, int] | None:
    # Draft mode picks the largest DCT scale still >= the request, so ask for the
    # smallest acceptable long edge in the photo's own proportions.
    scale = DISPLAY_MIN / max(width, height)
    if scale >= 1:
        return None
    return max(1, int(width * scale)), max(1, int(height * scale))


# HEVC decoding costs about twice as much per pixel as PNG or WebP (bench/photo_budget.py).
DECODE_WEIGHT = {"HEIF": 2}


def decode_pixels(img: Image.Image) -> int:
    """Pixels the pipeline will decode for this image, weighted by how hard its format
    is to decode: what its time and memory cost."""
    width, height = img.size
    target = _draft_target(width, height) if img.format == "JPEG" else None
    if target is None:
        return width * height * DECODE_WEIGHT.get(img.format or "", 1)
    scale = 1
    while scale < 8 and width // (scale * 2) >= target[0] and height // (scale * 2) >= target[1]:
        scale *= 2
    return -(-width // scale) * -(-height // scale)


def _exif_facts(img: Image.Image, tz: tzinfo) -> tuple[datetime | None, float | None,
                                                       float | None]:
    try:
        exif = img.getexif()
        sub = exif.get_ifd(0x8769)  # Exif IFD
        gps = exif.get_ifd(0x8825)
    except Exception:  # a corrupt EXIF block must not cost the photo
        return None, None, None
    raw = sub.get(0x9003) or exif.get(0x0132)  # DateTimeOriginal, else DateTime
    taken_at = _exif_time(raw, sub.get(0x9011), tz)  # OffsetTimeOriginal, "+08:00"
    lat = _gps_degrees(gps.get(2), gps.get(1), 90)
    lon = _gps_degrees(gps.get(4), gps.get(3), 180)
    if lat is None or lon is None:
        lat = lon = None
    return taken_at, lat, lon


# A capture time outside these years is a camera whose clock was never set.
EXIF_YEARS = (1990, 2100)


def _exif_time(raw, offset, tz: tzinfo) -> datetime | None:
    """The capture time in UTC; cameras write local time, with an offset if we are lucky."""
    if not isinstance(raw, str):
        return None
    try:
        taken = datetime.strptime(raw.strip("\x00 "), "%Y:%m:%d %H:%M:%S")
        if not EXIF_YEARS[0] <= taken.year <= EXIF_YEARS[1]:
            return None
        if isinstance(offset, str) and len(offset.strip("\x00 ")) == 6:
            taken = datetime.fromisoformat(taken.isoformat() + offset.strip("\x00 "))
        else:
            taken = taken.replace(tzinfo=tz)
        return taken.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return None


def _gps_degrees(value, ref, bound: float) -> float | None:
    """Degrees from EXIF (degrees, minutes, seconds); None unless a real coordinate."""
    try:
        d, m, s = (float(x) for x in value)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    degrees = d + m / 60 + s / 3600
    if not math.isfinite(degrees) or not 0 <= degrees <= bound or min(d, m, s) < 0:
        return None
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
            limits: Limits = DEFAULT) -> ProcessedPhoto:
    """Check a photo and make its display copy and thumbnail. Scales down before
    rotating and converting, so a large picture is held in memory once."""
    img = open_checked(data, filename, limits)
    fmt = img.format or ""
    width, height = img.size
    taken_at, lat, lon = _exif_facts(img, tz)
    try:
        target = _draft_target(width, height) if fmt == "JPEG" else None
        if target:
            img.draft("RGB", target)
        orientation = _orientation(img)
        if img.mode in ("P", "1", "I", "I;16", "F", "CMYK", "YCbCr", "LAB", "HSV"):
            img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        if max(img.size) > DISPLAY_MAX:
            img.thumbnail((DISPLAY_MAX, DISPLAY_MAX), Image.Resampling.BILINEAR)
        img = _to_rgb(_oriented(img, orientation))
        display = _jpeg(img, DISPLAY_QUALITY)
        small = img.reduce(4) if min(img.size) >= 4 * THUMB else img.copy()
        small.thumbnail((THUMB, THUMB), Image.Resampling.BILINEAR)
        thumb = _jpeg(small, THUMB_QUALITY)
        # From the thumbnail already in memory: the hash looks at a 32x32 picture, so
        # this decodes nothing again and costs well under a millisecond.
        phash = perceptual_hash(small)
    except (OSError, ValueError, SyntaxError):  # truncated or corrupt pixel data
        raise PhotoRejected(filename, "not_an_image") from None
    return ProcessedPhoto(sha256=sha256_of(data), format=fmt, size_bytes=len(data),
                          width=width, height=height, taken_at=taken_at, exif_lat=lat,
                          exif_lon=lon, original=data, display=display, thumb=thumb,
                          phash=phash)


def _orientation(img: Image.Image) -> int:
    try:
        value = img.getexif().get(0x0112, 1)
    except Exception:  # a corrupt EXIF block must not cost the photo
        return 1
    return value if isinstance(value, int) else 1


def _oriented(img: Image.Image, orientation: int) -> Image.Image:
    """Apply the camera's EXIF orientation (read before scaling, which drops it)."""
    method = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
              4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
              6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
              8: Image.Transpose.ROTATE_90}.get(orientation)
    return img.transpose(method) if method is not None else img
