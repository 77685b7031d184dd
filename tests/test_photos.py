"""The photo pipeline as plain functions: content checks, orientation, stripping, EXIF."""
from __future__ import annotations

import hashlib
import io
from dataclasses import replace
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from fieldapp.limits import DEFAULT
from fieldapp.photos.pipeline import PhotoRejected, process
from fieldapp.photos.storage import LocalStorage

from .photos import make_jpeg, make_png, make_png_bomb

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_exif_orientation_is_applied_to_the_copies():
    """A 400x200 photo with Orientation=6 (rotate 90° cw) displays 200x400 with the
    blue corner top-right, as the camera meant it."""
    result = process(make_jpeg(400, 200, orientation=6), "door.jpg")
    display = Image.open(io.BytesIO(result.display))
    assert display.size == (200, 400)
    r, g, b = display.getpixel((display.width - 10, 10))
    assert b > 150 and r < 100
    assert result.width == 400 and result.height == 200  # the original is untouched


def test_copies_are_stripped_and_the_original_is_kept_byte_for_byte():
    data = make_jpeg(orientation=6, taken="2026:11:20 09:30:00", gps=(31.2304, 121.4737))
    result = process(data, "door.jpg", tz=SHANGHAI)
    assert result.original == data
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    for copy in (result.display, result.thumb):
        assert len(Image.open(io.BytesIO(copy)).getexif()) == 0


def test_exif_capture_time_and_gps_are_recorded():
    result = process(make_jpeg(taken="2026:11:20 09:30:00", gps=(31.2304, 121.4737)),
                     "door.jpg", tz=SHANGHAI)
    assert result.taken_at == datetime(2026, 11, 20, 1, 30, tzinfo=timezone.utc)
    assert result.exif_lat == pytest.approx(31.2304, abs=1e-4)
    assert result.exif_lon == pytest.approx(121.4737, abs=1e-4)


def test_large_photo_gets_a_display_copy_within_bounds_and_a_320px_thumbnail():
    result = process(make_jpeg(4000, 3000), "big.jpg")
    display = Image.open(io.BytesIO(result.display))
    thumb = Image.open(io.BytesIO(result.thumb))
    assert 1600 <= max(display.size) <= 2048
    assert max(thumb.size) == 320
    assert display.format == thumb.format == "JPEG"


def test_png_with_transparency_is_accepted():
    result = process(make_png(), "screen.png")
    assert result.format == "PNG"
    assert Image.open(io.BytesIO(result.display)).mode == "RGB"


def test_heic_is_accepted():
    from pillow_heif import register_heif_opener
    register_heif_opener()
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (10, 200, 10)).save(out, "HEIF")
    result = process(out.getvalue(), "IMG_0001.HEIC")
    assert result.format == "HEIF"
    assert Image.open(io.BytesIO(result.display)).size == (320, 240)


@pytest.mark.parametrize("data,reason", [
    (b"%PDF-1.4 not a photo", "not_an_image"),
    (b"", "empty"),
    (make_png_bomb(), "too_many_pixels"),
    (make_jpeg()[:300], "not_an_image"),
])
def test_bad_files_are_refused_by_content(data, reason):
    with pytest.raises(PhotoRejected) as e:
        process(data, "evidence.jpg")
    assert e.value.reason == reason and e.value.filename == "evidence.jpg"


def test_too_large_is_refused_before_decoding():
    with pytest.raises(PhotoRejected) as e:
        process(make_jpeg(), "x.jpg", limits=replace(DEFAULT, photo_bytes=100))
    assert e.value.reason == "too_large"


def test_gif_is_not_accepted_even_though_pillow_reads_it():
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, "GIF")
    with pytest.raises(PhotoRejected):
        process(out.getvalue(), "anim.gif")


def test_local_storage_refuses_keys_outside_its_root(tmp_path):
    store = LocalStorage(tmp_path)
    store.put("a/b.jpg", b"x")
    assert store.get("a/b.jpg") == b"x" and store.exists("a/b.jpg")
    with pytest.raises(ValueError):
        store.put("../escape", b"x")


def test_local_storage_lists_keys_by_prefix_and_flags_partial_writes(tmp_path):
    store = LocalStorage(tmp_path / "store")
    store.put("originals/ab/abc", b"12345")
    store.put("thumbs/ab/abc.jpg", b"x")
    partial = tmp_path / "store" / "originals" / "ab" / ".tmp-k3j2"
    partial.write_bytes(b"half")
    listed = {k.key: k for k in store.keys()}
    assert set(listed) == {"originals/ab/abc", "originals/ab/.tmp-k3j2", "thumbs/ab/abc.jpg"}
    assert listed["originals/ab/abc"].size == 5 and not listed["originals/ab/abc"].partial
    assert listed["originals/ab/.tmp-k3j2"].partial
    assert [k.key for k in store.keys("thumbs/")] == ["thumbs/ab/abc.jpg"]
    assert [k.key for k in store.keys("originals/ab/ab")] == ["originals/ab/abc"]
    assert list(store.keys("display/")) == []
    with pytest.raises(ValueError):
        list(store.keys("../"))


def test_local_storage_deletes_inside_its_root_only(tmp_path):
    store = LocalStorage(tmp_path / "store")
    (tmp_path / "outside").write_bytes(b"keep")
    store.put("a/b.jpg", b"x")
    store.delete("a/b.jpg")
    store.delete("a/b.jpg")  # already gone: no error
    assert not store.exists("a/b.jpg")
    with pytest.raises(ValueError):
        store.delete("../outside")
    assert (tmp_path / "outside").exists()


def test_storing_an_existing_key_renews_its_age(tmp_path):
    """A re-upload of bytes already stored must restart the sweep's grace period."""
    import os
    store = LocalStorage(tmp_path)
    store.put("a/b", b"x")
    os.utime(tmp_path / "a" / "b", (0, 0))
    store.put("a/b", b"x")
    (entry,) = store.keys()
    assert entry.modified.timestamp() > 86_400
