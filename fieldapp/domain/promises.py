"""Promises as a plain function of payments as of a date: kept when payments made after
the promise cover it by its date (+ the policy's grace), broken when that day passes
uncovered, open otherwise. Installment plans are dated series of promises."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Iterable

from flask_babel import lazy_gettext as _l

from .money import AmountTooLarge, format_yuan, parse_yuan

OPEN, KEPT, BROKEN = "open", "kept", "broken"
ON_TRACK, BEHIND, COMPLETED = "on_track", "behind", "completed"


@dataclass(frozen=True)
class PromiseIn:
    id: int
    made_on: date  # payments from this day on count towards it
    due_date: date
    amount_fen: int


@dataclass(frozen=True)
class MoneyIn:
    """Money received: a bill payment (positive), a refund (negative), the reversal of
    payment `reverses` (negative), or a payment reported at the door (positive)."""

    id: int
    paid_on: date
    amount_fen: int
    reverses: int | None = None


@dataclass(frozen=True)
class Resolution:
    status: str
    resolved_on: date | None  # the day it became kept or broken
    covered_fen: int


def net_receipts(money: Iterable[MoneyIn]) -> list[tuple[date, int]]:
    """What was received and kept, by day: a reversal takes back from the payment it
    reverses (never below zero); a refund takes back from the latest earlier receipts."""
    money = sorted(money, key=lambda m: (m.paid_on, m.id))
    kept = {m.id: m.amount_fen for m in money if m.amount_fen > 0}
    for m in money:
        if m.amount_fen < 0 and m.reverses in kept:
            kept[m.reverses] = max(0, kept[m.reverses] + m.amount_fen)
    for m in money:
        if m.amount_fen < 0 and m.reverses not in kept:
            owed = -m.amount_fen
            for earlier in reversed([e for e in money if e.id in kept and e.paid_on <= m.paid_on]):
                taken = min(owed, kept[earlier.id])
                kept[earlier.id] -= taken
                owed -= taken
                if owed == 0:
                    break
    return [(m.paid_on, kept[m.id]) for m in money if kept.get(m.id, 0) > 0]


def resolve_promises(promises: Iterable[PromiseIn], money: Iterable[MoneyIn], as_of: date,
                     grace_days: int) -> dict[int, Resolution]:
    """Each receipt covers the open promises it may count for (made on or before it, due
    on or after it less the grace) earliest due first; money left over goes on to the
    next one. A receipt counts once, whatever the number of promises it touches."""
    ordered = sorted(promises, key=lambda p: (p.due_date, p.id))
    covered = {p.id: 0 for p in ordered}
    kept_on: dict[int, date] = {}
    for paid_on, amount in net_receipts(money):
        if paid_on > as_of:
            continue
        for p in ordered:
            if amount <= 0:
                break
            last_day = p.due_date + timedelta(days=grace_days)
            if p.id in kept_on or not p.made_on <= paid_on <= last_day:
                continue
            take = min(amount, p.amount_fen - covered[p.id])
            covered[p.id] += take
            amount -= take
            if covered[p.id] >= p.amount_fen:
                kept_on[p.id] = paid_on
    result = {}
    for p in ordered:
        last_day = p.due_date + timedelta(days=grace_days)
        if p.id in kept_on:
            result[p.id] = Resolution(KEPT, kept_on[p.id], covered[p.id])
        elif as_of > last_day:
            result[p.id] = Resolution(BROKEN, last_day + timedelta(days=1), covered[p.id])
        else:
            result[p.id] = Resolution(OPEN, None, covered[p.id])
    return result


def plan_status(installments: list[str]) -> str:
    """Behind once any installment is broken; completed when every one is kept."""
    if BROKEN in installments:
        return BEHIND
    if installments and all(s == KEPT for s in installments):
        return COMPLETED
    return ON_TRACK


@dataclass(frozen=True)
class PromiseSummary:
    """What a route row and the unit's summary show."""

    date: date | None
    status: str | None
    broken_in_row: int


def summarise(promises: Iterable[PromiseIn], resolutions: dict[int, Resolution],
              as_of: date, recent_days: int = 30) -> PromiseSummary:
    """The earliest open promise; else the one resolved last, if within `recent_days`;
    and how many promises in a row, counting back from the latest due, were broken."""
    ordered = sorted(promises, key=lambda p: (p.due_date, p.id))
    open_ones = [p for p in ordered if resolutions[p.id].status == OPEN]
    resolved = [p for p in ordered if resolutions[p.id].status != OPEN]
    broken_in_row = 0
    for p in reversed(resolved):
        if resolutions[p.id].status != BROKEN:
            break
        broken_in_row += 1
    if open_ones:
        return PromiseSummary(open_ones[0].due_date, OPEN, broken_in_row)
    if resolved:
        last = max(resolved, key=lambda p: (resolutions[p.id].resolved_on, p.due_date, p.id))
        if (as_of - resolutions[last.id].resolved_on).days <= recent_days:
            return PromiseSummary(last.due_date, resolutions[last.id].status, broken_in_row)
    return PromiseSummary(None, None, broken_in_row)


def split_evenly(total_fen: int, count: int) -> list[int]:
    """`count` installments adding up to `total_fen`, whole yuan where possible, the
    last taking the remainder."""
    if count < 1 or total_fen < count:
        raise ValueError("need at least one fen per installment")
    share = total_fen // count
    if share >= 100:
        share -= share % 100  # round installments to the yuan; the last one evens up
    return [share] * (count - 1) + [total_fen - share * (count - 1)]


def monthly_dates(first: date, count: int, every_days: int | None = None) -> list[date]:
    """Installment dates from `first`: the same day each month (clamped to the month's
    end), or every `every_days` days."""
    if every_days:
        return [first + timedelta(days=every_days * i) for i in range(count)]
    out = []
    for i in range(count):
        y, m = divmod(first.year * 12 + first.month - 1 + i, 12)
        day = min(first.day, _days_in_month(y, m + 1))
        out.append(date(y, m + 1, day))
    return out


def _days_in_month(year: int, month: int) -> int:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return (nxt - timedelta(days=1)).day


@dataclass(frozen=True)
class Installment:
    due_date: date
    amount_fen: int


def check_installments(rows: list[tuple[str, str]], *, total_fen: int, today: date,
                       max_count: int) -> tuple[list[Installment], dict[str, str]]:
    """Parse and check a plan's rows ((date, amount) as typed). Errors are keyed
    `date-N`/`amount-N` (N from 1) or `plan`; messages are lazy strings."""
    errors: dict[str, str] = {}
    rows = [(d.strip(), a.strip()) for d, a in rows if d.strip() or a.strip()]
    if not rows:
        return [], {"plan": _l("Add at least one installment.")}
    if len(rows) > max_count:
        errors["plan"] = _l("At most %(n)s installments.", n=max_count)
    found: list[Installment] = []
    previous: date | None = None
    for n, (raw_date, raw_amount) in enumerate(rows, start=1):
        try:
            day = date.fromisoformat(raw_date)
        except ValueError:
            errors[f"date-{n}"] = _l("Enter a date like 2026-12-01.")
            day = None
        if day is not None and day <= today:
            errors[f"date-{n}"] = _l("The date must be in the future.")
        elif day is not None and previous is not None and day <= previous:
            errors[f"date-{n}"] = _l("Each installment must fall after the one before.")
        previous = day or previous
        try:
            fen = parse_yuan(raw_amount)
        except AmountTooLarge:
            fen, errors[f"amount-{n}"] = None, _l("More than the arrears.")
        except ValueError:
            fen, errors[f"amount-{n}"] = None, _l(
                "Enter an amount in yuan, like 1280 or 1280.50.")
        if fen is not None and fen <= 0:
            fen, errors[f"amount-{n}"] = None, _l("The amount must be more than zero.")
        if day is not None and fen is not None:
            found.append(Installment(day, fen))
    if not errors and sum(i.amount_fen for i in found) != total_fen:
        errors["plan"] = _l("The installments add up to ¥%(sum)s, not ¥%(total)s.",
                            sum=format_yuan(sum(i.amount_fen for i in found)),
                            total=format_yuan(total_fen))
    return (found if not errors else []), errors
