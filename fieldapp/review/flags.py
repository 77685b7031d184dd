"""Doubt flags for a visit as it arrives, stored in the same transaction: the domain
rules (fieldapp/domain/flags.py) fed with the visit, its photos, the photos' other
visits and the housekeeper's neighbouring visits, each an index lookup."""
from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ..domain.flags import (
    Doubt,
    notice_doubts,
    photo_time_doubts,
    position_doubts,
    reported_taken_at,
    sync_doubts,
    travel_doubt,
    visited_at,
)
from ..models import Building, FlagKind, Policy, Unit, Visit, VisitFlag, VisitPhoto
from ..photos.similar import similar_photos
from ..models.base import aware_utc as aware

# One reused photo can sit on many visits: a handful names the problem.
MAX_OTHER_VISITS = 5
# Neighbouring visits are looked for this far either side (offline queues included).
TRAVEL_WINDOW = timedelta(hours=3)


def flag_visit(session: Session, visit: Visit, unit: Unit, policy: Policy,
               tz: tzinfo) -> list[VisitFlag]:
    """Compute and add the visit's flags (and the matching flag on the other visit of a
    reused photo). The caller commits."""
    created = aware(visit.created_at)
    at = visited_at(aware(visit.device_time) if visit.device_time else None, created)
    doubts = position_doubts(has_position=visit.lat is not None, geo_error=visit.geo_error,
                             distance_m=visit.distance_m, threshold_m=policy.gps_threshold_m)
    doubts += photo_time_doubts([_capture(vp, n, tz) for n, vp in
                                 enumerate(visit.photos, start=1)], at)
    doubts += notice_doubts(visit.notice_type.value, len(visit.photos))
    doubts += sync_doubts(aware(visit.device_time) if visit.device_time else None, created)
    doubts += _travel(session, visit, unit, at)
    flags = [_add(session, visit.id, d) for d in doubts]
    for mine, theirs, other_id in _reused_photos(session, visit, unit):
        flags.append(_add(session, visit.id, mine))
        if not _already_said(session, other_id, theirs):
            _add(session, other_id, theirs)
    return flags


def _already_said(session: Session, visit_id: int, doubt: Doubt) -> bool:
    """The other visit already says its photo n is on a visit to this unit."""
    return any(f.detail.get("n") == doubt.detail["n"] and
               f.detail.get("other_unit_id") == doubt.detail["other_unit_id"]
               for f in session.scalars(select(VisitFlag).where(
                   VisitFlag.visit_id == visit_id,
                   VisitFlag.kind.in_([FlagKind.DUPLICATE_PHOTO, FlagKind.NEAR_DUPLICATE]))))


def _add(session: Session, visit_id: int, doubt: Doubt) -> VisitFlag:
    flag = VisitFlag(visit_id=visit_id, kind=doubt.kind, detail=doubt.detail,
                     photo_id=doubt.photo_id, other_visit_id=doubt.other_visit_id)
    session.add(flag)
    return flag


def _capture(link: VisitPhoto, n: int, tz: tzinfo) -> tuple[int, int, datetime | None, str]:
    """A photo's capture time: from its own EXIF, else as the phone reported it."""
    if link.photo.taken_at is not None:
        return link.photo_id, n, aware(link.photo.taken_at), "exif"
    reported = reported_taken_at(link.client_meta, tz)
    return link.photo_id, n, reported, "phone"


def _reused_photos(session: Session, visit: Visit,
                   unit: Unit) -> list[tuple[Doubt, Doubt, int]]:
    """Each photo of this visit that is also on a visit to another unit: the same file
    (same SHA-256, one Photo row) or a near-identical picture (perceptual hash). Returns
    the doubt for this visit, the matching one for the other visit, and its id; one per
    photo and other unit, the same file before a look-alike."""
    found, said = [], set()
    for n, link in enumerate(visit.photos, start=1):
        matches = [(link.photo_id, 0)]
        if link.photo.phash is not None:
            matches += similar_photos(session, link.photo.phash, exclude_id=link.photo_id)
        for photo_id, bits in matches:
            kind = FlagKind.DUPLICATE_PHOTO if photo_id == link.photo_id \
                else FlagKind.NEAR_DUPLICATE
            others = session.execute(
                select(VisitPhoto.visit_id, VisitPhoto.position, Unit.id, Building.name,
                       Unit.number)
                .join(Visit, Visit.id == VisitPhoto.visit_id).join(Unit, Unit.id == Visit.unit_id)
                .join(Building, Building.id == Unit.building_id)
                .where(VisitPhoto.photo_id == photo_id, Visit.unit_id != unit.id,
                       Visit.id != visit.id)
                .order_by(VisitPhoto.visit_id.desc()).limit(MAX_OTHER_VISITS)).all()
            for other_visit, position, other_unit, building, number in others:
                if (n, other_unit) in said:
                    continue
                said.add((n, other_unit))
                mine = Doubt(kind, {"n": n, "bits": bits, "other_unit_id": other_unit,
                                    "other_unit": f"{building}-{number}"},
                             photo_id=link.photo_id, other_visit_id=other_visit)
                theirs = Doubt(kind, {"n": position + 1, "bits": bits, "other_unit_id": unit.id,
                                      "other_unit": unit.label},
                               photo_id=photo_id, other_visit_id=visit.id)
                found.append((mine, theirs, other_visit))
    return found


def _travel(session: Session, visit: Visit, unit: Unit, at: datetime) -> list[Doubt]:
    """The housekeeper's visits just before and after this one, if the buildings are
    too far apart for the minutes between them."""
    here = _position(unit.building, visit)
    rows = session.execute(
        select(Visit).where(Visit.user_id == visit.user_id, Visit.id != visit.id,
                            Visit.created_at >= at - TRAVEL_WINDOW,
                            Visit.created_at <= at + TRAVEL_WINDOW + timedelta(days=2))
        .options(joinedload(Visit.unit).joinedload(Unit.building))).scalars().all()
    timed = sorted(((visited_at(aware(v.device_time) if v.device_time else None,
                                aware(v.created_at)), v) for v in rows), key=lambda p: p[0])
    before = [p for p in timed if p[0] <= at and at - p[0] <= TRAVEL_WINDOW]
    after = [p for p in timed if p[0] > at and p[0] - at <= TRAVEL_WINDOW]
    doubts = []
    for other_at, other in ([before[-1]] if before else []) + ([after[0]] if after else []):
        doubt = travel_doubt(here, at, _position(other.unit.building, other), other_at,
                             other_visit_id=other.id, other_unit=other.unit.label)
        if doubt is not None:
            doubts.append(doubt)
    return doubts[:1]


def _position(building: Building, visit: Visit) -> tuple[float, float] | None:
    """Where a visit was: its building, which does not wander as GPS does."""
    if building.lat is not None and building.lon is not None:
        return building.lat, building.lon
    if visit.lat is not None and visit.lon is not None:
        return visit.lat, visit.lon
    return None
