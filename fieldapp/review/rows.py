"""What the queue shows of each visit, as plain values: a row per visit with its flags in
words, its photos with their capture times and a small diagram of where the phone was.
The page and the benchmark's floor build rows with the same functions."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, tzinfo

from ..domain.flags import reported_taken_at
from ..models import Visit
from .words import flag_text

# Each row's diagram: the building at the centre of a 100 x 100 box.
DIAGRAM_R = 42


@dataclass(frozen=True)
class Diagram:
    """Where the phone was, seen from above: the building at (50, 50), the policy's
    limit as a circle, the phone as a dot with its accuracy around it."""

    x: float
    y: float
    limit_r: float
    accuracy_r: float
    outside: bool  # the dot is past the edge: the distance is too large to draw to scale


def diagram(lat: float, lon: float, accuracy_m: float | None, b_lat: float, b_lon: float,
            threshold_m: int) -> Diagram:
    """East is right, north up; the scale fits the limit and the phone, up to 4 limits."""
    dx = (lon - b_lon) * 111_320 * math.cos(math.radians(b_lat))
    dy = (lat - b_lat) * 110_540
    distance = math.hypot(dx, dy)
    span = max(threshold_m * 1.4, min(distance * 1.15, threshold_m * 4.0), 1.0)
    scale = DIAGRAM_R / span
    outside = distance * scale > DIAGRAM_R + 4
    if outside:  # drawn at the edge, in its direction
        dx, dy = dx / distance * span, dy / distance * span
    return Diagram(round(50 + dx * scale, 1), round(50 - dy * scale, 1),
                   round(threshold_m * scale, 1),
                   round(min(accuracy_m or 0, span) * scale, 1), outside)


@dataclass(frozen=True)
class PhotoCell:
    photo_id: int
    n: int
    taken_at: datetime | None
    source: str  # exif (from the file) or phone (as the phone reported it)


@dataclass(frozen=True)
class FlagLine:
    kind: str
    text: str
    other_visit_id: int | None


@dataclass(frozen=True)
class QueueRow:
    visit_id: int
    unit_id: int
    unit_label: str
    user_id: int
    user_name: str
    created_at: datetime
    device_time: datetime | None
    outcome: str
    reason: str | None
    service_category: str | None
    reason_detail: str
    notice_type: str
    delivery: str | None
    notes: str
    distance_m: float | None
    accuracy_m: float | None
    diagram: Diagram | None
    photos: list[PhotoCell]
    flags: list[FlagLine]
    flag_ids: str  # what the reviewer was shown, sent back with a decision
    sent_back: str  # the last send-back comment, if it was corrected since
    corrections: list[tuple[int, datetime, str, list[int]]]  # id, when, note, photos


def flag_lines(flags, words: dict, tz: tzinfo) -> list[FlagLine]:
    return [FlagLine(f.kind.value if hasattr(f.kind, "value") else f.kind,
                     flag_text(f.kind.value if hasattr(f.kind, "value") else f.kind,
                               f.detail, words, tz), f.other_visit_id) for f in flags]


def photo_cells(links, tz: tzinfo) -> list[PhotoCell]:
    cells = []
    for n, link in enumerate(links, start=1):
        taken, source = link.photo.taken_at, "exif"
        if taken is None:
            taken, source = reported_taken_at(link.client_meta, tz), "phone"
        cells.append(PhotoCell(link.photo_id, n, taken, source))
    return cells


def queue_row(v: Visit, threshold_m: int, words: dict, tz: tzinfo) -> QueueRow:
    building = v.unit.building
    drawn = None
    if v.lat is not None and building.lat is not None:
        drawn = diagram(v.lat, v.lon, v.accuracy_m, building.lat, building.lon, threshold_m)
    backs = [d for d in v.decisions if d.decision.value == "send_back"]
    return QueueRow(
        visit_id=v.id, unit_id=v.unit_id, unit_label=f"{building.name}-{v.unit.number}",
        user_id=v.user_id, user_name=v.user.display_name or v.user.username,
        created_at=v.created_at, device_time=v.device_time, outcome=v.outcome.value,
        reason=v.reason.value if v.reason else None,
        service_category=v.service_category.value if v.service_category else None,
        reason_detail=v.reason_detail, notice_type=v.notice_type.value,
        delivery=v.delivery.value if v.delivery else None, notes=v.notes,
        distance_m=v.distance_m, accuracy_m=v.accuracy_m, diagram=drawn,
        photos=photo_cells(v.photos, tz), flags=flag_lines(v.flags, words, tz),
        flag_ids=",".join(str(f.id) for f in v.flags),
        sent_back=backs[-1].comment if backs else "",
        corrections=[(c.id, c.created_at, c.note, [p.photo_id for p in c.photos])
                     for c in v.corrections])
