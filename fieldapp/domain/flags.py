"""Doubts about a visit's evidence, as plain rules of explicit values: where the phone
was, when its photos were taken, a notice without a photo, a late sync, and a walk
between buildings too fast to be one. The review service feeds them from the database
(fieldapp/review/flags.py) when a visit arrives."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from geopy.distance import geodesic

from ..models.review import FlagKind

# A photo taken more than this before the visit was not taken at it.
EXIF_BEFORE = timedelta(hours=2)
# Offline queues drain within hours; a day later is worth seeing, not refusing.
LATE_SYNC = timedelta(hours=24)
# Buildings closer than this are a short walk apart; GPS alone wanders tens of metres.
TRAVEL_MIN_M = 500
# Faster than a car in town traffic between two doors: not one person's route.
TRAVEL_MAX_KMH = 40
# A phone clock may run a little ahead of the server's.
CLOCK_SLACK = timedelta(minutes=10)


@dataclass(frozen=True)
class Doubt:
    kind: FlagKind
    detail: dict[str, Any] = field(default_factory=dict)
    photo_id: int | None = None
    other_visit_id: int | None = None


def visited_at(device_time: datetime | None, created_at: datetime) -> datetime:
    """When the visit happened: the phone's time, unless it is later than the server's
    (a clock set wrong), then the server's."""
    if device_time is None or device_time > created_at + CLOCK_SLACK:
        return created_at
    return device_time


def position_doubts(*, has_position: bool, geo_error: str, distance_m: float | None,
                    threshold_m: int) -> list[Doubt]:
    """Farther from the building than the policy allows, or no position at all, with the
    phone's reason (denied, unavailable, timeout) when it gave one."""
    if not has_position:
        return [Doubt(FlagKind.NO_POSITION, {"geo_error": geo_error or ""})]
    if distance_m is not None and distance_m > threshold_m:
        return [Doubt(FlagKind.FAR, {"distance_m": round(distance_m),
                                     "threshold_m": threshold_m})]
    return []


def reported_taken_at(meta: dict | None, tz: tzinfo) -> datetime | None:
    """The capture time the phone read from the photo before downscaling stripped it:
    EXIF's local wall clock ("2026:11:21 09:15:00"), read in the company's zone."""
    raw = (meta or {}).get("exif_taken_at")
    if not isinstance(raw, str):
        return None
    try:
        return datetime.strptime(raw[:19], "%Y:%m:%d %H:%M:%S").replace(tzinfo=tz)
    except ValueError:
        return None


def photo_time_doubts(photos: list[tuple[int, int, datetime | None, str]],
                      at: datetime) -> list[Doubt]:
    """Per photo (photo id, position from 1, capture time, where the time came from):
    no capture time, or one more than two hours before the visit."""
    doubts = []
    for photo_id, n, taken_at, source in photos:
        if taken_at is None:
            doubts.append(Doubt(FlagKind.EXIF_MISSING, {"n": n}, photo_id=photo_id))
        elif at - taken_at > EXIF_BEFORE:
            hours = (at - taken_at).total_seconds() / 3600
            doubts.append(Doubt(FlagKind.EXIF_OLD, {"n": n, "hours": round(hours, 1),
                                                    "taken_at": taken_at.isoformat(),
                                                    "source": source}, photo_id=photo_id))
    return doubts


def notice_doubts(notice_type: str, photo_count: int) -> list[Doubt]:
    """A notice recorded as delivered with no photo: the form refuses it, but visits
    from before that rule or from an import can still say so."""
    if notice_type != "none" and photo_count == 0:
        return [Doubt(FlagKind.NOTICE_NO_PHOTO, {"notice": notice_type})]
    return []


def sync_doubts(device_time: datetime | None, created_at: datetime) -> list[Doubt]:
    """Reached the server more than a day after the phone logged it: fine, but seen."""
    if device_time is not None and created_at - device_time > LATE_SYNC:
        hours = (created_at - device_time).total_seconds() / 3600
        return [Doubt(FlagKind.LATE_SYNC, {"hours": round(hours, 1)})]
    return []


def travel_doubt(here: tuple[float, float] | None, at: datetime,
                 there: tuple[float, float] | None, there_at: datetime, *,
                 other_visit_id: int, other_unit: str) -> Doubt | None:
    """Two visits by one housekeeper at buildings far apart, closer in time than anyone
    can travel between them."""
    if here is None or there is None:
        return None
    metres = geodesic(here, there).meters
    seconds = max(abs((at - there_at).total_seconds()), 1.0)
    kmh = metres / 1000 / (seconds / 3600)
    if metres < TRAVEL_MIN_M or kmh <= TRAVEL_MAX_KMH:
        return None
    return Doubt(FlagKind.FAST_TRAVEL, {"metres": round(metres), "minutes": round(seconds / 60),
                                        "kmh": round(kmh), "other_unit": other_unit},
                 other_visit_id=other_visit_id)


@dataclass(frozen=True)
class Leg:
    """One stop of a day's path and how the housekeeper got there from the last one."""

    visit_id: int
    at: datetime
    position: tuple[float, float] | None
    metres: float | None  # from the previous stop; None for the first or without a position
    minutes: float | None
    too_fast: bool  # the travel rule above


def day_path(stops: list[tuple[int, datetime, tuple[float, float] | None]]) -> list[Leg]:
    """The day's visits in order of time, with the distance and minutes between
    consecutive ones (geodesic), marking legs faster than anyone travels."""
    legs: list[Leg] = []
    last = None
    for visit_id, at, position in sorted(stops, key=lambda s: (s[1], s[0])):
        metres = minutes = None
        too_fast = False
        if last is not None:
            minutes = (at - last[1]).total_seconds() / 60
            if position is not None and last[2] is not None:
                metres = geodesic(last[2], position).meters
                hours = max(minutes, 1 / 60) / 60
                too_fast = metres >= TRAVEL_MIN_M and metres / 1000 / hours > TRAVEL_MAX_KMH
        legs.append(Leg(visit_id, at, position, metres, minutes, too_fast))
        last = (visit_id, at, position)
    return legs
