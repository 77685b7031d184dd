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


def bands_from_policy(raw: list[dict[str, Any]]) -> list[Band]:
    """Policy bands as data, sorted by their lower bound; validated here, once."""
    bands = sorted((Band(str(b["key"]), int(b["min_days"]), str(b.get("stage", b["key"])))
                    for b in raw), key=lambda b: b.min_days)
    if not bands or bands[0].min_days < 1:
        raise ValueError("aging bands must start at 1 day overdue or later")
    if len({b.key for b in bands}) != len(bands) or len({b.min_days for b in bands}) != len(bands):
        raise ValueError("aging band keys and lower bounds must be unique")
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


@dataclass(frozen=True)
class LateFeeLine:
    outstanding_fen: int
    days_charged: int
    fee_fen: int


@dataclass(frozen=True)
class LateFee:
    fee_fen: int
    lines: list[LateFeeLine]
    grace_days: int
    daily_ppm: int
    waived: bool


def _bill_fee(open_fen: int, days: int, daily_ppm: int) -> int:
    # Integer arithmetic, rounded half up to the fen: exact, and fast on a route list.
    return (2 * open_fen * daily_ppm * days + 1_000_000) // 2_000_000


def late_fee_fen(bills: Iterable[OpenBill], today: date, *, grace_days: int, daily_ppm: int,
                 waived: bool = False) -> int:
    """The total of `late_fee` without its explanation: what a route list row shows."""
    if waived:
        return 0
    total = 0
    for b in bills:
        days = (today - b.due_date).days - grace_days
        open_fen = b.amount_fen - b.paid_fen
        if days > 0 and open_fen > 0:
            total += _bill_fee(open_fen, days, daily_ppm)
    return total


def late_fee(bills: Iterable[OpenBill], today: date, *, grace_days: int, daily_ppm: int,
             waived: bool = False) -> LateFee:
    """Per overdue bill: outstanding x daily rate x days beyond the grace period,
    rounded half up to the fen. Waived (with approval) means zero, lines still shown."""
    lines = []
    for b in sorted(bills, key=lambda b: b.due_date):
        open_fen = b.amount_fen - b.paid_fen
        days = days_overdue(b.due_date, today) - grace_days
        if open_fen <= 0 or days <= 0:
            continue
        lines.append(LateFeeLine(open_fen, days, _bill_fee(open_fen, days, daily_ppm)))
    total = 0 if waived else sum(line.fee_fen for line in lines)
    return LateFee(fee_fen=total, lines=lines, grace_days=grace_days, daily_ppm=daily_ppm,
                   waived=waived)
