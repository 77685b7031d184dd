"""Test images made in memory: JPEGs with EXIF orientation, time and GPS."""
from __future__ import annotations

import io

from PIL import Image


def make_jpeg(width: int = 400, height: int = 200, *, orientation: int | None = None,
              taken: str | None = None, gps: tuple[float, float] | None = None,
              color=(200, 30, 30), quality: int = 90, offset: str | None = None,
              raw_gps: tuple | None = None) -> bytes:
    """A JPEG whose top-left quarter is blue, so orientation can be checked by pixel."""
    img = Image.new("RGB", (width, height), color)
    img.paste((20, 40, 220), (0, 0, width // 2, height // 2))
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    if taken:
        exif.get_ifd(0x8769)[0x9003] = taken
    if offset:
        exif.get_ifd(0x8769)[0x9011] = offset
    if raw_gps:  # (lat dms, lon dms) as given, however absurd
        exif.get_ifd(0x8825).update({1: "N", 2: raw_gps[0], 3: "E", 4: raw_gps[1]})
    if gps:
        lat, lon = gps
        exif.get_ifd(0x8825).update({1: "N", 2: _dms(lat), 3: "E", 4: _dms(lon)})
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality, exif=exif.tobytes())
    return out.getvalue()


def _dms(value: float):
    d = int(value)
    m = int((value - d) * 60)
    s = round(((value - d) * 60 - m) * 60, 4)
    return (d, m, s)


def make_png(width: int = 50, height: int = 50) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (0, 128, 0, 128)).save(out, "PNG")
    return out.getvalue()


def make_png_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A tiny file that claims a huge canvas: the header is all the pipeline may read."""
    import struct
    import zlib
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + \
            struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) +
            chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + chunk(b"IEND", b""))


def jpeg_claiming(width: int, height: int) -> bytes:
    """A tiny valid JPEG whose frame header is rewritten to claim width x height."""
    data = bytearray(make_jpeg(16, 16))
    sof = data.find(b"\xff\xc0")
    data[sof + 5:sof + 7] = height.to_bytes(2, "big")
    data[sof + 7:sof + 9] = width.to_bytes(2, "big")
    return bytes(data)


def make_flat_png(width: int, height: int) -> bytes:
    """A real, decodable PNG of one colour: small on disk, large in memory."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 20, 30)).save(out, "PNG")
    return out.getvalue()
