"""Arrears, days overdue, aging band and late fee of a unit, as of a given date."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Iterable, Protocol

from .stages import STAGES

EARLIEST_STAGE = STAGES[0]


class OpenBill(Protocol):
    amount_fen: int
    paid_fen: int
    due_date: date


@dataclass(frozen=True)
class Band:
    key: str
    min_days: int
    stage: str


@dataclass(frozen=True)
class Arrears:
    arrears_fen: int  # unpaid part of bills past due
    unpaid_fen: int  # unpaid part of every bill, due or not
    oldest_unpaid_due: date | None  # of any unpaid bill
    valid_until: date | None  # last day on which arrears_fen stays true

    def days_overdue(self, today: date) -> int:
        return days_overdue(self.oldest_unpaid_due, today)


def is_overdue(due: date, today: date) -> bool:
    """A bill is overdue the day after its due date."""
    return due < today


def days_overdue(oldest_unpaid_due: date | None, today: date) -> int:
    if oldest_unpaid_due is None or oldest_unpaid_due >= today:
        return 0
    return (today - oldest_unpaid_due).days


def arrears_of(bills: Iterable[OpenBill], today: date) -> Arrears:
    arrears = unpaid = 0
    oldest: date | None = None
    next_due: date | None = None
    for b in bills:
        open_fen = b.amount_fen - b.paid_fen
        if open_fen <= 0:
            continue
        unpaid += open_fen
        oldest = b.due_date if oldest is None else min(oldest, b.due_date)
        if is_overdue(b.due_date, today):
            arrears += open_fen
        else:
            next_due = b.due_date if next_due is None else min(next_due, b.due_date)
    return Arrears(arrears_fen=arrears, unpaid_fen=unpaid, oldest_unpaid_due=oldest,
                   valid_until=next_due)


# What can be wrong with a list of bands (see `band_problems`).
NO_BANDS, FIRST_DAY, NOT_INCREASING = "no_bands", "first_day", "not_increasing"
DUPLICATE_KEY, UNKNOWN_STAGE, MILDER_STAGE = "duplicate_key", "unknown_stage", "milder_stage"
# Problems that make stored bands unusable; a stage out of order is refused only when
# a policy is changed.
_UNUSABLE = {NO_BANDS, FIRST_DAY, NOT_INCREASING, DUPLICATE_KEY}


def band_problems(bands: list[Band]) -> list[tuple[int, str, str]]:
    """What is wrong with bands in the order given, as (index, field, problem): each
    band starts later than the one before (the first at day 1 or later), keys are
    unique, and each stage is a known one no milder than the stage before. Index -1
    with NO_BANDS when there is none."""
    if not bands:
        return [(-1, "days", NO_BANDS)]
    problems, keys = [], set()
    for i, band in enumerate(bands):
        before = bands[i - 1] if i else None
        if before is None and band.min_days < 1:
            problems.append((i, "days", FIRST_DAY))
        elif before is not None and band.min_days <= before.min_days:
            problems.append((i, "days", NOT_INCREASING))
        if band.key in keys:
            problems.append((i, "key", DUPLICATE_KEY))
        keys.add(band.key)
        if band.stage not in STAGES:
            problems.append((i, "stage", UNKNOWN_STAGE))
        elif before is not None and before.stage in STAGES and \
                STAGES.index(band.stage) < STAGES.index(before.stage):
            problems.append((i, "stage", MILDER_STAGE))
    return problems


def bands_from_policy(raw: list[dict[str, Any]]) -> list[Band]:
    """Policy bands as data, sorted by their lower bound; validated here, once."""
    bands = sorted((Band(str(b["key"]), int(b["min_days"]), str(b.get("stage", b["key"])))
                    for b in raw), key=lambda b: b.min_days)
    unusable = [p for p in band_problems(bands) if p[2] in _UNUSABLE]
    if unusable:
        raise ValueError(f"aging bands: {unusable[0][2]} (band {unusable[0][0] + 1})")
    return bands


def aging_band(days: int, bands: list[Band]) -> Band | None:
    """The band whose range holds `days`; None when not overdue."""
    found = None
    for band in bands:
        if days >= band.min_days:
            found = band
    return found


def with_earliest_band(bands: list[Band]) -> list[Band]:
    """Bands that cover every day overdue from day 1. Where a community's first band
    starts later (at 30 days, say), a unit overdue for fewer days is at the earliest
    stage: the first band is extended down to day 1 if it is that stage, otherwise a
    band of that stage (keyed by it, made unique if taken) is put in front."""
    if bands and bands[0].min_days <= 1:
        return list(bands)
    if bands and bands[0].stage == EARLIEST_STAGE:
        return [Band(bands[0].key, 1, EARLIEST_STAGE), *bands[1:]]
    key, taken = EARLIEST_STAGE, {b.key for b in bands}
    while key in taken:
        key = f"{key}-early"
    return [Band(key, 1, EARLIEST_STAGE), *bands]


def overdue_band(days: int, bands: list[Band]) -> Band | None:
    """The band of a unit `days` overdue: None when not overdue, and the earliest stage
    below the community's first band (see `with_earliest_band`)."""
    if days < 1:
        return None
    return aging_band(days, with_earliest_band(bands))


def band_cutoffs(bands: list[Band], today: date) -> list[tuple[Band, date]]:
    """For SQL: a unit is in band b when oldest_unpaid_due <= today - b.min_days and
    not in a more severe band. Most severe first."""
    return [(b, today - timedelta(days=b.min_days)) for b in reversed(bands)]
