"""The limitation clock (诉讼时效): when the period to sue for each unpaid bill runs out.

Three years from the bill's due date, restarted by every documented demand or
acknowledgement after it: a notice delivered with a photo as proof, a signed
acknowledgement, a promise to pay, a partial payment. A demand speaks for all of the
household's arrears, so it restarts every bill already due on its day; a bill that falls
due later starts its own clock. A notice without proof of delivery restarts nothing: it
would not stand in court."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Iterable

YEARS = 3
# Each kind of event that restarts the clock.
DEMAND_KINDS = ("notice", "acknowledgement", "promise", "payment")


@dataclass(frozen=True)
class Demand:
    on: date
    kind: str  # one of DEMAND_KINDS
    proven: bool = True  # a notice counts only with proof of delivery (a photo)


def add_years(day: date, years: int = YEARS) -> date:
    """The same day `years` later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def counts(demand: Demand) -> bool:
    return demand.kind in DEMAND_KINDS and (demand.kind != "notice" or demand.proven)


def limitation_ends(bills: Iterable[tuple[int, date]],
                    demands: Iterable[Demand]) -> dict[int, date]:
    """bill id -> the last day its limitation period runs, for (id, due date) pairs."""
    days = sorted({d.on for d in demands if counts(d)})
    ends = {}
    for bill_id, due in bills:
        restarted = [d for d in days if d >= due]
        ends[bill_id] = add_years(restarted[-1] if restarted else due)
    return ends


def earliest_end(bills: Iterable[tuple[int, date]], demands: Iterable[Demand]) -> date | None:
    """The first day any of these bills' periods ends, or None without bills."""
    ends = limitation_ends(bills, demands)
    return min(ends.values()) if ends else None


def ends_soon(end: date | None, today: date, within_days: int = 90) -> bool:
    """Whether a period that ends on `end` needs action now (ended ones too)."""
    return end is not None and end <= today + timedelta(days=within_days)


def latest_due_at_risk(today: date, within_days: int = 90) -> date:
    """No bill due after this day can end within `within_days`: a period is at least three
    years long. Lets a list of units at risk read only old bills; one day of margin keeps
    a bill due on 29 February (which ends on 28 February) inside."""
    horizon = today + timedelta(days=within_days)
    return add_years(horizon, -YEARS) + timedelta(days=1)
