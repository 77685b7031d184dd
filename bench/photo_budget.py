"""Photo processing of one request at the upload limits: time and peak memory.

DESIGN.md §7 asks for "bounded time and memory, stated and measured; never holds a
worker near its timeout". Each case is one request's photos through what
`store_photos` does (header checks and the decode budget, then the pipeline per
photo), in a fresh process so its peak resident memory is its own. The floor is
Pillow decoding the same files at full size (what a pipeline without draft mode or
budget would at least pay), in the same run. The budget stated in
fieldapp/limits.py: at most 4 s and 400 MB per request on a 2-core machine, against
gunicorn's 30 s worker timeout.

    .venv/bin/python bench/photo_budget.py
"""
from __future__ import annotations

import io
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TIME_BUDGET_S, MEMORY_BUDGET_MB, WORKER_TIMEOUT_S = 4.0, 400, 30

CASES = {
    "8 phone JPEGs, 12 MP": ("JPEG", 4000, 3000, 8),
    "8 JPEGs at the 50 MP per-file limit": ("JPEG", 8160, 6120, 8),
    "1 PNG at the 50 MP per-file limit": ("PNG", 8160, 6120, 1),
    "2 HEIC photos, 12 MP (HEIC counts twice)": ("HEIF", 4000, 3000, 2),
    "5 WebP photos, 12 MP (the decode budget)": ("WEBP", 4000, 3000, 5),
    "3 HEIC photos, 12 MP: over the budget": ("HEIF", 4000, 3000, 3),
    "8 PNGs of 49 MP: refused from headers": ("PNG", 7000, 7000, 8),
}


def make_photo(fmt: str, width: int, height: int) -> bytes:
    """Photo-like content (light, edges, texture), within the per-file byte limit."""
    from PIL import Image, ImageDraw, ImageFilter
    from pillow_heif import register_heif_opener
    register_heif_opener()
    img = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    texture = Image.effect_mandelbrot((width // 8, height // 8), (-2.2, -1.2, 1.0, 1.2), 40)
    img = Image.blend(img, texture.resize((width, height)).convert("RGB"), 0.4)
    draw = ImageDraw.Draw(img)
    for i in range(40):
        x, y = (i * 977) % width, (i * 613) % height
        draw.rectangle((x, y, x + width // 12, y + height // 6), outline=(60 + i, 40, 30),
                       width=12)
    if fmt in ("JPEG", "HEIF", "WEBP"):
        img = img.filter(ImageFilter.GaussianBlur(1.2))
        img = Image.blend(img, Image.effect_noise((width, height), 18).convert("RGB"), 0.1)
    out = io.BytesIO()
    quality = {"JPEG": 80 if width * height > 20e6 else 90, "HEIF": 85, "WEBP": 85}
    img.save(out, fmt, **({"quality": quality[fmt]} if fmt in quality else {}))
    return out.getvalue()


DATA = ROOT / "bench" / ".data" / "photo_budget"


def photo_file(case: str) -> Path:
    """Made once and kept, so the measuring process holds only what a request holds."""
    fmt, width, height, _ = CASES[case]
    path = DATA / f"{fmt.lower()}-{width}x{height}.{fmt.lower()}"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        path.write_bytes(make_photo(fmt, width, height))
    return path


def high_water_kb() -> int:
    """Peak resident memory of this process image (getrusage would count the parent's
    peak from before exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child(case: str, floor: bool) -> None:
    """Runs in a fresh process: one request's photos, then prints JSON."""
    from PIL import Image

    from fieldapp.limits import DEFAULT
    from fieldapp.photos.evidence import Upload, check_photos
    from fieldapp.photos.pipeline import process
    count = CASES[case][3]
    data = photo_file(case).read_bytes()
    uploads = [Upload(f"p{i}", data, {}) for i in range(count)]
    base_kb = high_water_kb()
    started = time.perf_counter()
    refused = ""
    if floor:
        for u in uploads:
            Image.open(io.BytesIO(u.data)).load()
    else:
        problems = check_photos(uploads, DEFAULT)
        if problems:
            refused = problems[0]
        else:
            for u in uploads:
                process(u.data, u.filename, limits=DEFAULT)
    seconds = time.perf_counter() - started
    peak_kb = high_water_kb()
    print(json.dumps({"seconds": seconds, "peak_mb": peak_kb / 1024,
                      "added_mb": max(peak_kb - base_kb, 0) / 1024,
                      "file_mb": len(data) / 2**20, "refused": refused}))


def run(case: str, floor: bool) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", case] +
                         (["--floor"] if floor else []),
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    print("Photo processing of one request at the limits (each case in a fresh process)")
    print(f"budget per request: <= {TIME_BUDGET_S:.0f} s and <= {MEMORY_BUDGET_MB} MB peak "
          f"(worker timeout {WORKER_TIMEOUT_S} s)\n")
    print(f"{'case':<44}{'file':>8}{'time':>9}{'floor':>9}{'peak':>9}{'floor':>9}  verdict")
    worst_s = worst_mb = 0.0
    for case in CASES:
        photo_file(case)
        got, base = run(case, False), run(case, True)
        worst_s, worst_mb = max(worst_s, got["seconds"]), max(worst_mb, got["peak_mb"])
        ok = got["seconds"] <= TIME_BUDGET_S and got["peak_mb"] <= MEMORY_BUDGET_MB
        verdict = ("refused: " + got["refused"][:40]) if got["refused"] else \
            ("within budget" if ok else "OVER BUDGET")
        print(f"{case:<44}{got['file_mb']:>6.1f}MB{got['seconds']:>8.2f}s"
              f"{base['seconds']:>8.2f}s{got['peak_mb']:>7.0f}MB{base['peak_mb']:>7.0f}MB"
              f"  {verdict}")
    print(f"\nworst request: {worst_s:.2f} s (target <= {TIME_BUDGET_S:.0f} s), "
          f"{worst_mb:.0f} MB peak (target <= {MEMORY_BUDGET_MB} MB)")


if __name__ == "__main__":
    if "--child" in sys.argv:
        child(sys.argv[sys.argv.index("--child") + 1], "--floor" in sys.argv)
    else:
        main()
