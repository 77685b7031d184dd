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


def door_scene(seed: int, *, door_x: float = 0.5, door_w: float = 0.5, couplets: bool = False,
               fu: bool = False, rack: str | None = None, door_color=(120, 70, 40),
               size=(1200, 1600)) -> Image.Image:
    """A flat's front door as a phone sees it: a textured corridor wall, the door at
    `door_x` (its centre, as a share of the width) and `door_w` wide, with spring
    couplets, a 福 diamond or a shoe rack (left or right) as households have them."""
    import random

    from PIL import ImageDraw
    rnd = random.Random(seed)
    w, h = size
    img = Image.new("RGB", (w, h), (205, 200, 190))
    d = ImageDraw.Draw(img)
    for y in range(0, h, 8):  # light falling off down the corridor
        shade = int(30 * (y / h - 0.5))
        d.rectangle([0, y, w, y + 8], fill=(205 - shade, 200 - shade, 190 - shade))
    for _ in range(2500):
        x, y = rnd.randrange(w), rnd.randrange(h)
        d.rectangle([x, y, x + 5, y + 5], fill=(190 + rnd.randint(-20, 20),) * 3)
    d.rectangle([0, int(h * .86), w, h], fill=(95, 92, 90))
    cx, dw = int(w * door_x), int(w * door_w)
    x0, x1, y0, y1 = cx - dw // 2, cx + dw // 2, int(h * .14), int(h * .86)
    d.rectangle([x0, y0, x1, y1], fill=door_color, outline=(40, 30, 20), width=12)
    for i in range(3):
        yy = y0 + 50 + i * (y1 - y0 - 100) // 3
        d.rectangle([x0 + 40, yy, x1 - 40, yy + (y1 - y0 - 100) // 3 - 30],
                    outline=tuple(v // 2 for v in door_color), width=8)
    d.ellipse([x1 - 80, int(h * .5), x1 - 40, int(h * .5) + 40], fill=(200, 180, 60))
    if couplets:
        d.rectangle([x0 - 90, y0, x0 - 20, y1 - 100], fill=(200, 20, 20))
        d.rectangle([x1 + 20, y0, x1 + 90, y1 - 100], fill=(200, 20, 20))
        d.rectangle([x0 - 20, y0 - 90, x1 + 20, y0 - 20], fill=(200, 20, 20))
    if fu:
        fy = int(h * .35)
        d.polygon([(cx, fy - 110), (cx + 110, fy), (cx, fy + 110), (cx - 110, fy)],
                  fill=(210, 30, 30))
    if rack == "left":
        d.rectangle([20, int(h * .62), x0 - 40, int(h * .86)], fill=(70, 60, 55))
    elif rack == "right":
        d.rectangle([x1 + 40, int(h * .62), w - 20, int(h * .86)], fill=(70, 60, 55))
    return img


def jpeg_of(img: Image.Image, *, quality: int = 88, taken: str | None = None) -> bytes:
    """A picture as a phone would save it, with an EXIF capture time if given."""
    exif = Image.Exif()
    if taken:
        exif.get_ifd(0x8769)[0x9003] = taken
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality, exif=exif.tobytes())
    return out.getvalue()
