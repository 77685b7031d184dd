"""Demo visits for the supervisor to review: two days of each housekeeper's doors with
small generated photos, recorded as the app records them (photos through the pipeline,
flags computed as they arrive, in the order they happened). Among them one logged far
from its building, one photo used on two units, a re-compressed copy on a third, one
photo taken two days before its visit, one visit without a position, one synced a day
late, one across the estate a minute after the last, one sent back with a comment and
one corrected since."""
from __future__ import annotations

import io
import random
import uuid
from datetime import date, datetime, time, timedelta, tzinfo

from geopy.distance import geodesic
from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.orm import Session

from .domain.photohash import hamming
from .limits import DEFAULT
from .models import (
    CorrectionPhoto,
    Decision,
    Delivery,
    NoticeType,
    Outcome,
    Policy,
    Reason,
    ReviewDecision,
    ReviewStatus,
    Role,
    Unit,
    User,
    Visit,
    VisitCorrection,
    VisitPhoto,
)
from .photos.evidence import Upload, store_photos
from .photos.pipeline import process
from .photos.storage import Storage
from .review.flags import flag_visit

PER_HOUSEKEEPER = 12
# Demo photos differ from each other by at least this many of 64 hash bits.
APART_BITS = 16


def _door(rnd: random.Random, size=(480, 640)) -> Image.Image:
    """A front door in a corridor, each one framed and dressed its own way."""
    w, h = size
    wall = tuple(rnd.randint(170, 225) for _ in range(3))
    img = Image.new("RGB", size, wall)
    d = ImageDraw.Draw(img)
    d.rectangle([0, int(h * rnd.uniform(.8, .9)), w, h], fill=(rnd.randint(70, 120),) * 3)
    cx, dw = int(w * rnd.uniform(.3, .7)), int(w * rnd.uniform(.3, .6))
    x0, x1, y0, y1 = cx - dw // 2, cx + dw // 2, int(h * rnd.uniform(.08, .2)), int(h * .86)
    color = tuple(rnd.randint(30, 200) for _ in range(3))
    d.rectangle([x0, y0, x1, y1], fill=color, outline=(30, 25, 20), width=5)
    d.ellipse([x1 - 34, int(h * .5), x1 - 16, int(h * .5) + 18], fill=(210, 190, 70))
    if rnd.random() < .5:  # spring couplets
        d.rectangle([x0 - 34, y0, x0 - 8, y1 - 40], fill=(200, 20, 20))
        d.rectangle([x1 + 8, y0, x1 + 34, y1 - 40], fill=(200, 20, 20))
    for _ in range(rnd.randint(1, 3)):  # a shoe rack, a notice, a bag of rubbish
        bx, by = rnd.randint(0, w - 60), rnd.randint(int(h * .3), int(h * .85))
        d.rectangle([bx, by, bx + rnd.randint(30, 140), by + rnd.randint(20, 120)],
                    fill=tuple(rnd.randint(0, 255) for _ in range(3)))
    return img


def _jpeg(img: Image.Image, taken: datetime | None = None, tz: tzinfo | None = None,
          quality: int = 80) -> bytes:
    """As a phone saves it: with its capture time in EXIF, the local wall clock."""
    exif = Image.Exif()
    if taken is not None:
        exif.get_ifd(0x8769)[0x9003] = taken.astimezone(tz).strftime("%Y:%m:%d %H:%M:%S")
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality, exif=exif.tobytes())
    return out.getvalue()


class _Doors:
    """Door pictures far apart from each other in hash: the demo's only near-duplicates
    are the ones put there on purpose."""

    def __init__(self, rnd: random.Random):
        self.rnd, self.hashes = rnd, []

    def next(self) -> Image.Image:
        while True:
            img = _door(self.rnd)
            h = process(_jpeg(img), "door.jpg").phash
            if all(hamming(h, other) >= APART_BITS for other in self.hashes):
                self.hashes.append(h)
                return img


def _near(lat: float, lon: float, rnd: random.Random, metres: float) -> tuple[float, float]:
    return (lat + rnd.uniform(-metres, metres) / 110_540,
            lon + rnd.uniform(-metres, metres) / 95_000)


# Which visit (housekeeper's index, visit's index) shows what the review is for.
CASES = {(2, 5): "fast", (0, 2): "far", (0, 4): "near_copy", (0, 7): "sent_back", (0, 9): "approved",
         (1, 1): "reuse", (1, 8): "reuse_again", (1, 5): "corrected", (2, 3): "old_exif",
         (2, 6): "no_position", (2, 9): "late", (2, 0): "approved"}


def seed_review_visits(session: Session, store: Storage, rnd: random.Random, today: date,
                       tz: tzinfo) -> dict[str, int]:
    """Two days of visits per housekeeper before today (so nothing counts as visited
    today), in the order they happened, mostly waiting for review."""
    supervisor = session.scalar(select(User).where(User.role == Role.SUPERVISOR))
    doors = _Doors(rnd)
    made = {"visits": 0, "flagged": 0}
    reused: tuple[Image.Image, bytes] | None = None
    for at, k, i, hk, unit in _schedule(session, rnd, today, tz):
        case = CASES.get((k, i), "")
        img = doors.next()
        taken = at - timedelta(days=2, hours=3) if case == "old_exif" else \
            at - timedelta(minutes=rnd.randint(1, 6))
        content = _jpeg(img, taken, tz)
        if case == "reuse":
            reused = (img, content)
        elif case == "reuse_again" and reused:
            content = reused[1]  # the very same file, at another door
        elif case == "near_copy" and reused:
            copy = reused[0].resize((360, 480))  # sent through a chat app: smaller, blurrier
            content = _jpeg(copy, taken, tz, quality=45)
        visit = _visit(session, store, hk, unit, at, case, content, rnd, tz)
        made["visits"] += 1
        made["flagged"] += bool(visit.flags)
        if case in ("sent_back", "corrected", "approved"):
            _decide(session, visit, supervisor, case, store, hk, doors, tz)
    return made


def _schedule(session: Session, rnd: random.Random, today: date, tz: tzinfo):
    """Each housekeeper's doors, six a day, 25 minutes apart, through their buildings."""
    plan = []
    for k, hk in enumerate(session.scalars(select(User).where(User.role == Role.HOUSEKEEPER)
                                           .order_by(User.username))):
        units = list(session.scalars(select(Unit).where(
            Unit.building_id.in_(hk.building_ids()), Unit.arrears_fen > 0)
            .order_by(Unit.building_id, Unit.floor, Unit.id).limit(600)))
        if len(units) < PER_HOUSEKEEPER:
            continue
        picks = sorted(rnd.sample(units, PER_HOUSEKEEPER), key=lambda u: (u.building_id, u.id))
        half = PER_HOUSEKEEPER // 2
        if k == 2:  # the last door of the first day, across the estate a minute later
            before = picks[half - 2].building
            picks[half - 1] = max(units, key=lambda u: geodesic(
                (before.lat, before.lon), (u.building.lat, u.building.lon)).meters)
        for i, unit in enumerate(picks):
            day = today - timedelta(days=2 if i < half else 1)
            at = datetime.combine(day, time(9, 30), tz) + timedelta(
                minutes=25 * (i % half) + rnd.randint(0, 9))
            if k == 2 and i == half - 1:
                at = plan[-1][0] + timedelta(minutes=1)
            plan.append((at, k, i, hk, unit))
    return sorted(plan, key=lambda p: (p[0], p[1]))


def _visit(session: Session, store: Storage, hk: User, unit: Unit, at: datetime, case: str,
           content: bytes, rnd: random.Random, tz: tzinfo) -> Visit:
    building = unit.building
    policy = session.scalar(select(Policy).where(Policy.community_id == building.community_id))
    outcome, reason = rnd.choice([
        (Outcome.NOBODY_HOME, None), (Outcome.NOBODY_HOME, None),
        (Outcome.MET_OWNER, Reason.HARDSHIP), (Outcome.MET_OCCUPANT, Reason.FORGOT),
        (Outcome.REFUSED, Reason.REFUSAL), (Outcome.MET_OWNER, Reason.FEE_DISPUTE)])
    lat, lon = _near(building.lat, building.lon, rnd, 25)
    if case == "far":
        lat, lon = building.lat + 600 / 110_540, building.lon
    created = at + timedelta(hours=30) if case == "late" else \
        at + timedelta(seconds=rnd.randint(5, 90))
    photos = store_photos(session, store, [Upload("door.jpg", content, {})], hk, tz, DEFAULT)
    positioned = case != "no_position"
    visit = Visit(
        client_uuid=str(uuid.UUID(int=rnd.getrandbits(128))), payload_sha256="0" * 64,
        unit_id=unit.id, user_id=hk.id, created_at=created, device_time=at, outcome=outcome,
        reason=reason, notice_type=NoticeType.REMINDER if reason is None else NoticeType.NONE,
        delivery=Delivery.DOOR if reason is None else None,
        notes=rnd.choice(["", "业主说下周缴", "门口贴了催缴提醒"]) if reason else "",
        lat=round(lat, 6) if positioned else None, lon=round(lon, 6) if positioned else None,
        accuracy_m=float(rnd.randint(6, 30)) if positioned else None,
        geo_error="" if positioned else "denied")
    if positioned:
        visit.distance_m = round(geodesic((visit.lat, visit.lon),
                                          (building.lat, building.lon)).meters, 1)
        visit.far_from_building = visit.distance_m > policy.gps_threshold_m
    for position, (photo, meta) in enumerate(photos):
        visit.photos.append(VisitPhoto(photo=photo, position=position, client_meta=meta))
    session.add(visit)
    session.flush()
    flag_visit(session, visit, unit, policy, tz)
    unit.last_visit_at, unit.last_visit_outcome = created, outcome.value
    session.flush()
    session.refresh(visit, ["flags"])
    return visit


def _decide(session: Session, visit: Visit, supervisor: User, case: str, store: Storage,
            hk: User, doors: _Doors, tz: tzinfo) -> None:
    """A send-back waiting for the housekeeper, one corrected since, some approved."""
    later = visit.created_at + timedelta(hours=3)
    sent_back = case in ("sent_back", "corrected")
    session.add(ReviewDecision(
        visit_id=visit.id, user_id=supervisor.id, at=later,
        decision=Decision.SEND_BACK if sent_back else Decision.APPROVE,
        comment="门牌号拍得不清楚，请补拍一张能看清门牌的照片" if sent_back else ""))
    visit.review_status = (ReviewStatus.SENT_BACK if sent_back else ReviewStatus.APPROVED).value
    if case == "corrected":
        [(photo, meta)] = store_photos(session, store, [Upload("plate.jpg", _jpeg(
            doors.next(), later + timedelta(hours=1), tz), {})], hk, tz, DEFAULT)
        correction = VisitCorrection(client_uuid=str(uuid.uuid5(uuid.NAMESPACE_URL,
                                                                f"demo-correction-{visit.id}")),
                                     visit_id=visit.id, user_id=hk.id, note="已补拍门牌",
                                     created_at=later + timedelta(hours=1))
        correction.photos.append(CorrectionPhoto(photo=photo, position=0, client_meta=meta))
        session.add(correction)
        visit.review_status = ReviewStatus.PENDING.value
    session.flush()
