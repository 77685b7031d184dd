"""One 12-megapixel phone photo through the evidence pipeline, against DESIGN.md §7.

The floor is Pillow's draft-mode decode of the same JPEG plus one JPEG encode of the
result, measured in the same run. Without --photo, a synthetic 4000x3000 photo-like
JPEG is made (gradients, texture and sensor noise, quality 92, EXIF orientation 6).

    .venv/bin/python bench/photo_pipeline.py [--photo some.jpg] [--runs 15]
"""
from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from fieldapp.photos.pipeline import DISPLAY_QUALITY, process  # noqa: E402


def synthetic_photo(width: int = 4000, height: int = 3000) -> bytes:
    """Smooth light, hard edges and noise: compresses like a photo, not like a chart."""
    sky = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    texture = Image.effect_mandelbrot((width // 4, height // 4), (-2.2, -1.2, 1.0, 1.2), 60)
    texture = texture.resize((width, height), Image.Resampling.BICUBIC).convert("RGB")
    img = Image.blend(sky, texture, 0.45)
    draw = ImageDraw.Draw(img)
    for i in range(40):  # a door, a wall, tiles
        x, y = (i * 977) % width, (i * 613) % height
        draw.rectangle((x, y, x + 300, y + 500), outline=(60 + i, 40, 30), width=12)
    img = img.filter(ImageFilter.GaussianBlur(1.2))
    noise = Image.effect_noise((width, height), 18).convert("RGB")
    img = Image.blend(img, noise, 0.12)
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    img.save(out, "JPEG", quality=92, exif=exif.tobytes())
    return out.getvalue()


def floor(data: bytes) -> None:
    img = Image.open(io.BytesIO(data))
    img.draft("RGB", (img.width // 2, img.height // 2))
    img.load()
    img.save(io.BytesIO(), "JPEG", quality=DISPLAY_QUALITY)


def median_ms(fn, runs: int) -> float:
    fn()
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photo", type=Path, help="a real JPEG to measure instead")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    data = args.photo.read_bytes() if args.photo else synthetic_photo()
    size = Image.open(io.BytesIO(data)).size
    result = process(data, "bench.jpg")
    pipeline = median_ms(lambda: process(data, "bench.jpg"), args.runs)
    base = median_ms(lambda: floor(data), args.runs)
    display = Image.open(io.BytesIO(result.display)).size
    print(f"Photo pipeline: {size[0]}x{size[1]} JPEG, {len(data) / 1024:,.0f} KB, "
          f"median of {args.runs} runs")
    print(f"{'what':<44}{'measured':>12}   target")
    print(f"{'pipeline per photo':<44}{pipeline:>9.1f} ms   <= 130 ms")
    print(f"{'floor: draft decode + encode':<44}{base:>9.1f} ms")
    print(f"{'ratio pipeline / floor':<44}{pipeline / base:>11.2f}x   <= 1.6x")
    print(f"{'display copy':<44}{len(result.display) / 1024:>9.0f} KB   <= 400 KB "
          f"({display[0]}x{display[1]})")
    print(f"{'thumbnail':<44}{len(result.thumb) / 1024:>9.0f} KB")


if __name__ == "__main__":
    main()
