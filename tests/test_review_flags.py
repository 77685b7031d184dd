"""Doubt flags, computed when a visit arrives: position, photo capture times, the same
or a near-identical photo on two units (crafted pictures: re-compressed and re-taken
copies match, photos of other doors however alike do not), a notice without a photo, a
late sync and an implausible speed between buildings."""
from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageEnhance, ImageFilter
from sqlalchemy import select, text

from fieldapp.domain.flags import day_path, travel_doubt
from fieldapp.domain.photohash import (
    NEAR_BITS,
    SEARCH_BITS,
    band_probes,
    bands,
    hamming,
    to_signed,
)
from fieldapp.domain.visits import VisitData, check_visit
from fieldapp.extensions import db
from fieldapp.models import Delivery, NoticeType, Outcome, Photo, Role, VisitFlag
from fieldapp.photos.evidence import Upload
from fieldapp.photos.pipeline import process
from fieldapp.photos.similar import similar_photos
from fieldapp.photos.storage import storage
from fieldapp.review.rows import diagram
from fieldapp.visits.services import record_visit

from .factories import TODAY, make_bill, make_building, make_community, make_unit, make_user
from .photos import door_scene, jpeg_of, make_jpeg

TZ = ZoneInfo("Asia/Shanghai")


def wall(moment: datetime) -> str:
    """A moment as a camera writes it: local wall clock, no zone."""
    return moment.astimezone(TZ).strftime("%Y:%m:%d %H:%M:%S")


@pytest.fixture
def estate(app):
    """One community (150 m GPS limit), two buildings 4 km apart with an overdue unit
    each and a third unit next door, and a housekeeper for all of them."""
    community = make_community()
    here = make_building(community, lat=31.2304, lon=121.4737)
    there = make_building(community, lat=31.2664, lon=121.4737)
    units = [make_unit(here), make_unit(there), make_unit(here)]
    for u in units:
        make_bill(u, 100_000, TODAY - timedelta(days=60))
    hk = make_user(Role.HOUSEKEEPER, buildings=[here, there])
    return hk, units


def log(unit, hk, *, photos=(), metas=None, lat="at", geo_error="", device_time=None,
        outcome="nobody_home"):
    """Record a visit the way the app does; lat="at" puts the phone at the building."""
    building = unit.building
    form = {"client_uuid": str(uuid.uuid4()), "outcome": outcome, "geo_error": geo_error}
    if lat == "at":
        form.update(lat=str(building.lat), lon=str(building.lon), accuracy="10")
    elif lat is not None:
        form.update(lat=str(lat[0]), lon=str(lat[1]), accuracy="10")
    if device_time is not None:
        form["device_time"] = device_time.isoformat()
    data = check_visit(form, photo_count=len(photos), arrears_fen=unit.arrears_fen, today=TODAY,
                       promise_horizon_days=30)
    assert not data.errors, data.errors
    uploads = [Upload(f"p{i}.jpg", content, (metas or {}).get(i, {}))
               for i, content in enumerate(photos)]
    visit, created = record_visit(db.session, storage(), unit, hk, data, uploads, today=TODAY,
                                  tz=TZ)
    assert created
    return visit


def kinds(visit) -> list[str]:
    db.session.expire_all()
    return sorted(f.kind.value for f in db.session.scalars(
        select(VisitFlag).where(VisitFlag.visit_id == visit.id)))


def flags_of(visit, kind: str) -> list[VisitFlag]:
    db.session.expire_all()
    return list(db.session.scalars(select(VisitFlag).where(
        VisitFlag.visit_id == visit.id, VisitFlag.kind == kind)))


def now() -> datetime:
    return datetime.now(timezone.utc)


# --- position ------------------------------------------------------------------------

def test_a_visit_farther_than_the_policy_allows_is_flagged_with_its_distance(estate):
    """400 m north of a building with a 150 m limit: flagged, with both figures."""
    hk, (unit, _, _) = estate
    visit = log(unit, hk, lat=(31.2304 + 400 / 110_540, 121.4737))
    [flag] = flags_of(visit, "far")
    assert flag.detail["threshold_m"] == 150 and 395 <= flag.detail["distance_m"] <= 405


def test_a_visit_within_the_limit_is_not_far(estate):
    """100 m away with a 150 m limit: no doubt about where it was."""
    hk, (unit, _, _) = estate
    visit = log(unit, hk, lat=(31.2304 + 100 / 110_540, 121.4737))
    assert kinds(visit) == []


@pytest.mark.parametrize("code,reason", [("1", "denied"), ("2", "unavailable"),
                                         ("3", "timeout"), ("", "")])
def test_no_position_is_flagged_with_the_phones_reason(estate, code, reason):
    """No fix: flagged, and the reason the phone gave (or none) is kept for the words."""
    hk, (unit, _, _) = estate
    visit = log(unit, hk, lat=None, geo_error=code)
    [flag] = flags_of(visit, "no_position")
    assert flag.detail == {"geo_error": reason}


def test_no_position_is_said_in_words(client, login_as, estate):
    """The queue says why there is no position: location refused on the phone."""
    hk, (unit, _, _) = estate
    log(unit, hk, lat=None, geo_error="1")
    login_as(make_user(Role.SUPERVISOR, locale="en"))
    assert "location was refused or turned off" in client.get("/review").text


# --- photo capture times ----------------------------------------------------------------

def test_a_photo_taken_hours_before_the_visit_is_flagged(estate):
    """EXIF five hours before the phone logged the visit: flagged with the hours."""
    hk, (unit, _, _) = estate
    at = now() - timedelta(hours=1)
    visit = log(unit, hk, device_time=at,
                photos=[make_jpeg(taken=wall(at - timedelta(hours=5)))])
    [flag] = flags_of(visit, "exif_old")
    assert flag.detail["n"] == 1 and flag.detail["source"] == "exif"
    assert 4.9 <= flag.detail["hours"] <= 5.1


def test_a_photo_taken_just_before_the_visit_is_fine(estate):
    """Thirty minutes before: that is the visit's own photo."""
    hk, (unit, _, _) = estate
    at = now() - timedelta(hours=1)
    visit = log(unit, hk, device_time=at,
                photos=[make_jpeg(taken=wall(at - timedelta(minutes=30)))])
    assert kinds(visit) == []


def test_a_photo_without_a_capture_time_is_flagged(estate):
    """No EXIF time at all (a screenshot, an edited file): flagged per photo."""
    hk, (unit, _, _) = estate
    at = now() - timedelta(hours=1)
    visit = log(unit, hk, device_time=at, photos=[
        make_jpeg(taken=wall(at - timedelta(minutes=5))), make_jpeg(color=(9, 9, 200))])
    [flag] = flags_of(visit, "exif_missing")
    assert flag.detail == {"n": 2}


def test_the_phones_reported_capture_time_counts_when_downscaling_stripped_exif(estate):
    """The page read EXIF before shrinking the photo: three hours old is flagged, and
    the flag says the time came from the phone; a fresh one is fine."""
    hk, (unit, _, _) = estate
    at = now() - timedelta(hours=1)
    visit = log(unit, hk, device_time=at,
                photos=[make_jpeg(color=(1, 90, 1)), make_jpeg(color=(90, 1, 1))],
                metas={0: {"exif_taken_at": wall(at - timedelta(hours=3))},
                       1: {"exif_taken_at": wall(at - timedelta(minutes=10))}})
    [flag] = flags_of(visit, "exif_old")
    assert flag.detail["n"] == 1 and flag.detail["source"] == "phone"
    assert kinds(visit) == ["exif_old"]


# --- the same photo, or a near-identical one, on two units ----------------------------------

def test_the_same_file_on_visits_to_two_units_flags_both(estate):
    """Same SHA-256 at another door: the new visit and the earlier one both say so."""
    hk, (unit, other, _) = estate
    photo = jpeg_of(door_scene(1, couplets=True))
    first = log(unit, hk, photos=[photo])
    second = log(other, hk, photos=[photo])
    [flag] = flags_of(second, "duplicate_photo")
    assert flag.other_visit_id == first.id and flag.detail["other_unit"] == unit.label
    [back] = flags_of(first, "duplicate_photo")
    assert back.other_visit_id == second.id and back.detail["other_unit"] == other.label


def test_the_same_photo_again_at_the_same_door_is_no_doubt(estate):
    """A second visit to one unit with the door photographed the same: nothing odd."""
    hk, (unit, _, _) = estate
    photo = jpeg_of(door_scene(2))
    log(unit, hk, photos=[photo])
    assert "duplicate_photo" not in kinds(log(unit, hk, photos=[photo]))


def recompressed(img: Image.Image) -> bytes:
    """Sent through a chat app: smaller and heavily re-compressed."""
    return jpeg_of(img.resize((img.width * 2 // 5, img.height * 2 // 5)), quality=35)


def retaken(img: Image.Image) -> bytes:
    """Photographed again from the same spot: a little to the side, a little brighter."""
    w, h = img.size
    moved = img.crop((w // 50, h // 50, w, h)).resize((w, h))
    return jpeg_of(ImageEnhance.Brightness(moved).enhance(1.1), quality=80)


def tilted(img: Image.Image) -> bytes:
    """Photographed again with a shaky hand: turned a degree and a half, soft."""
    return jpeg_of(img.rotate(1.5, fillcolor=(200, 195, 185)).filter(ImageFilter.GaussianBlur(2)))


@pytest.mark.parametrize("copy", [recompressed, retaken, tilted])
def test_a_near_identical_copy_on_another_unit_is_flagged(estate, copy):
    """Re-compressed, re-taken or tilted: different bytes, the same door; flagged with
    the bits that differ, on both visits."""
    hk, (unit, other, _) = estate
    original = door_scene(3, couplets=True, rack="left")
    first = log(unit, hk, photos=[jpeg_of(original)])
    second = log(other, hk, photos=[copy(original)])
    [flag] = flags_of(second, "near_duplicate")
    assert flag.other_visit_id == first.id and 0 <= flag.detail["bits"] <= NEAR_BITS
    assert [f.other_visit_id for f in flags_of(first, "near_duplicate")] == [second.id]


SIMILAR_DOORS = {
    "next door, same style, nothing on it": dict(seed=11),
    "a 福 and a shoe rack on the right": dict(seed=12, fu=True, rack="right"),
    "same decorations, photographed from the left": dict(seed=13, couplets=True, rack="left",
                                                         door_x=0.4),
    "same decorations, from closer": dict(seed=14, couplets=True, rack="left", door_w=0.62),
    "couplets, no rack": dict(seed=15, couplets=True),
    "a rack, no couplets": dict(seed=16, rack="left"),
    "same decorations, from the right": dict(seed=17, couplets=True, rack="left", door_x=0.58),
    "a white door with the same decorations": dict(seed=18, couplets=True, rack="left",
                                                   door_color=(225, 222, 215)),
}


@pytest.mark.parametrize("name", list(SIMILAR_DOORS))
def test_photos_of_other_doors_that_look_alike_do_not_match(estate, name):
    """Same building, same door style, another household: no near-duplicate."""
    hk, (unit, other, _) = estate
    log(unit, hk, photos=[jpeg_of(door_scene(3, couplets=True, rack="left"))])
    visit = log(other, hk, photos=[jpeg_of(door_scene(**SIMILAR_DOORS[name]))])
    assert not {"near_duplicate", "duplicate_photo"} & set(kinds(visit))


def test_near_identical_photos_on_the_same_unit_are_no_doubt(estate):
    """The same door re-taken on the next visit to the same unit is expected."""
    hk, (unit, _, _) = estate
    original = door_scene(4, fu=True)
    log(unit, hk, photos=[jpeg_of(original)])
    assert "near_duplicate" not in kinds(log(unit, hk, photos=[retaken(original)]))


def test_the_pipeline_stores_the_hash_and_its_bands(estate):
    """Each photo keeps its 64-bit hash (signed, as BIGINT holds it) and four bands."""
    hk, (unit, _, _) = estate
    content = jpeg_of(door_scene(5))
    log(unit, hk, photos=[content])
    photo = db.session.scalar(select(Photo).order_by(Photo.id.desc()))
    expected = process(content, "x.jpg").phash
    assert photo.phash == to_signed(expected)
    assert (photo.phash_b0, photo.phash_b1, photo.phash_b2, photo.phash_b3) == bands(expected)


def test_every_hash_within_seven_bits_is_found_through_the_bands(app):
    """Multi-index search: whatever bits differ (spread or bunched), up to seven of
    them, the band probes find the photo; eight bits in four bands of two may not."""
    rnd = random.Random(7)
    stored = [rnd.getrandbits(64) for _ in range(300)]
    for i, h in enumerate(stored):
        db.session.add(Photo(sha256=f"{i:064x}", format="JPEG", size_bytes=1, width=1, height=1,
                             phash=to_signed(h), **{f"phash_b{b}": v for b, v in
                                                    enumerate(bands(h))}))
    db.session.commit()
    ids = {h: pid for pid, h in db.session.execute(select(Photo.id, Photo.phash))}
    for h in stored[:60]:
        for flips in ([rnd.sample(range(64), k) for k in range(SEARCH_BITS + 1)] +
                      [list(range(7)), [0, 16, 32, 48, 1, 17, 33]]):
            probe = h
            for bit in flips:
                probe ^= 1 << bit
            found = dict(similar_photos(db.session, probe, max_bits=SEARCH_BITS))
            assert found.get(ids[to_signed(h)]) == len(flips)


def _store_hashes(hashes):
    for i, h in enumerate(hashes):
        db.session.add(Photo(sha256=f"{i:064x}", format="JPEG", size_bytes=1, width=1, height=1,
                             phash=None if h is None else to_signed(h),
                             **({} if h is None else {f"phash_b{b}": v for b, v in
                                                      enumerate(bands(h))})))
    db.session.commit()
    return [pid for (pid,) in db.session.execute(select(Photo.id).order_by(Photo.id))]


def test_the_database_counts_differing_bits_as_python_does(app):
    """The Hamming check runs in the database (bit_count on PostgreSQL, hamming64 on
    SQLite): for hashes with the sign bit set or not, it agrees with the plain
    function, and a photo without a hash differs by nothing known."""
    from sqlalchemy import BigInteger, literal

    from fieldapp.photos.similar import differing_bits
    rnd = random.Random(11)
    hashes = [0, (1 << 64) - 1, 1 << 63, (1 << 63) - 1] + [rnd.getrandbits(64) for _ in range(40)]
    ids = _store_hashes(hashes + [None])
    for q in (0, 1 << 63, rnd.getrandbits(64), to_signed(rnd.getrandbits(64))):
        got = dict(db.session.execute(select(Photo.id, differing_bits(
            Photo.phash, literal(to_signed(q), BigInteger())))).all())
        assert [got[pid] for pid in ids] == [hamming(q, h) for h in hashes] + [None]


def test_band_candidates_beyond_the_limit_stay_in_the_database(app):
    """A stored hash sharing a whole band with the query but 8 bits away elsewhere is a
    band candidate, never a match; `max_bits` narrows what comes back."""
    from fieldapp.photos.similar import candidates_query
    h = 0x0123_4567_89AB_CDEF
    eight_off = h ^ 0b111 << 16 ^ 0b111 << 32 ^ 0b11 << 48     # band 3 untouched
    five_off = h ^ 0b11111 << 20
    far, near = _store_hashes([eight_off, five_off])
    assert {pid for pid, _ in db.session.execute(candidates_query(h, 64))} == {far, near}
    assert dict(similar_photos(db.session, h)) == {near: 5}
    assert similar_photos(db.session, h, max_bits=4) == []
    assert hamming(five_off, eight_off) == 13
    assert similar_photos(db.session, five_off, exclude_id=near) == []


def test_the_near_duplicate_check_is_an_index_lookup(app):
    """The plan reads the four band indexes and nothing else: never the whole photo
    table, nor a table row per candidate (on SQLite "COVERING INDEX", on PostgreSQL an
    index-only scan per band, the Hamming check filtering its entries)."""
    from fieldapp.photos.similar import candidates_query
    engine = db.engine
    sql = str(candidates_query(0x0123456789ABCDEF).compile(
        engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            plan = " ".join(str(row[-1]) for row in conn.execute(
                text("EXPLAIN QUERY PLAN " + sql)))
            assert all(f"COVERING INDEX ix_photo_phash_b{b}" in plan for b in range(4)), plan
            assert "SCAN photo" not in plan, plan
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")  # an empty table scans anyway
            conn.exec_driver_sql("SET enable_bitmapscan = off")
            plan = " ".join(row[0] for row in conn.execute(text("EXPLAIN " + sql)))
            assert plan.count("Index Only Scan using ix_photo_phash_b") == 4, plan
            assert plan.count("Filter: (bit_count(") == 4, plan  # on the index entries
            assert "Seq Scan" not in plan, plan


def test_band_helpers_split_and_measure_hashes():
    """Bands are the hash's four 16-bit quarters; a probe set is the band and its 16
    one-bit neighbours; Hamming counts differing bits, signed or not."""
    h = 0xFFFF_0000_1234_8001
    assert bands(h) == (0xFFFF, 0, 0x1234, 0x8001) == bands(to_signed(h))
    assert len(set(band_probes(0x1234))) == 17
    assert hamming(h, h ^ 0b1011) == 3 and hamming(to_signed(h), h) == 0


# --- a notice without a photo, a late sync -----------------------------------------------

def test_a_notice_recorded_as_delivered_without_a_photo_is_flagged(estate):
    """The form refuses it now; an import or an older page could still send one."""
    hk, (unit, _, _) = estate
    data = VisitData(client_uuid=str(uuid.uuid4()), outcome=Outcome.NOBODY_HOME,
                     notice_type=NoticeType.DEMAND_LETTER, delivery=Delivery.DOOR,
                     lat=unit.building.lat, lon=unit.building.lon)
    visit, _ = record_visit(db.session, storage(), unit, hk, data, [], today=TODAY, tz=TZ)
    [flag] = flags_of(visit, "notice_no_photo")
    assert flag.detail == {"notice": "demand_letter"}


def test_a_visit_synced_more_than_a_day_late_is_flagged(estate):
    """Thirty hours between the phone's log and the server: fine, but visible."""
    hk, (unit, _, _) = estate
    visit = log(unit, hk, device_time=now() - timedelta(hours=30))
    [flag] = flags_of(visit, "late_sync")
    assert 29.9 <= flag.detail["hours"] <= 30.1


def test_a_visit_synced_within_the_day_is_not_late(estate):
    """Two hours in a basement without signal is ordinary."""
    hk, (unit, _, _) = estate
    assert kinds(log(unit, hk, device_time=now() - timedelta(hours=2))) == []


# --- implausible speed ----------------------------------------------------------------------

def test_far_apart_buildings_minutes_apart_are_flagged(estate):
    """4 km in four minutes is 60 km/h between two doors: the later arrival says so."""
    hk, (unit, far_unit, _) = estate
    at = now() - timedelta(hours=1)
    first = log(unit, hk, device_time=at)
    second = log(far_unit, hk, device_time=at + timedelta(minutes=4))
    [flag] = flags_of(second, "fast_travel")
    assert flag.other_visit_id == first.id and flag.detail["other_unit"] == unit.label
    assert 3900 <= flag.detail["metres"] <= 4100 and flag.detail["kmh"] >= 55


def test_a_visit_synced_before_its_neighbour_is_checked_against_it(estate):
    """An offline queue can send the later visit first: the earlier one, arriving next,
    is compared with it."""
    hk, (unit, far_unit, _) = estate
    at = now() - timedelta(hours=2)
    log(far_unit, hk, device_time=at + timedelta(minutes=3))
    assert "fast_travel" in kinds(log(unit, hk, device_time=at))


@pytest.mark.parametrize("minutes,units", [(120, (0, 1)), (2, (0, 2))])
def test_plausible_travel_is_not_flagged(estate, minutes, units):
    """4 km in two hours, or next door two minutes later: nothing to see."""
    hk, all_units = estate
    at = now() - timedelta(hours=3)
    log(all_units[units[0]], hk, device_time=at)
    later = log(all_units[units[1]], hk, device_time=at + timedelta(minutes=minutes))
    assert "fast_travel" not in kinds(later)


def test_travel_rule_and_day_path_agree():
    """The rule as a plain function, and the day's path measuring the same legs."""
    a, b = (31.2304, 121.4737), (31.2664, 121.4737)
    t = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)
    assert travel_doubt(a, t + timedelta(minutes=4), b, t, other_visit_id=1,
                        other_unit="1栋-0101") is not None
    assert travel_doubt(a, t + timedelta(hours=1), b, t, other_visit_id=1,
                        other_unit="1栋-0101") is None
    legs = day_path([(2, t + timedelta(minutes=4), b), (1, t, a),
                     (3, t + timedelta(hours=2), None)])
    assert [leg.visit_id for leg in legs] == [1, 2, 3]
    assert legs[0].metres is None and 3900 < legs[1].metres < 4100 and legs[1].too_fast
    assert legs[2].metres is None and legs[2].minutes == 116


def test_the_diagram_draws_the_phone_where_it_was():
    """North is up, east right; a phone beyond four limits sits on the edge, marked."""
    near = diagram(31.2304 + 100 / 110_540, 121.4737, 20, 31.2304, 121.4737, 150)
    assert near.x == 50 and near.y < 50 and not near.outside and near.limit_r > 0
    east = diagram(31.2304, 121.4737 + 0.01, None, 31.2304, 121.4737, 150)
    assert east.x > 90 and east.y == 50 and east.outside


def test_a_photo_reused_at_one_door_twice_is_said_once_per_unit(estate):
    """The same file on two visits to one other unit, and a third visit that reuses it
    again: one flag per photo and unit on each visit, however many visits there are."""
    hk, (unit, other, _) = estate
    photo = jpeg_of(door_scene(21, fu=True, rack="left"))
    first = log(unit, hk, photos=[photo])
    log(other, hk, photos=[photo])
    log(other, hk, photos=[photo])
    [flag] = flags_of(first, "duplicate_photo")
    assert flag.detail["other_unit"] == other.label
    third = log(unit, hk, photos=[photo])
    [again] = flags_of(third, "duplicate_photo")
    assert again.detail["other_unit"] == other.label
    assert flags_of(third, "near_duplicate") == []
