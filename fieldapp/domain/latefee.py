"""Late fees as accrued over each bill's history, not on what is unpaid today.

The rule: a bill accrues on each day t with due_date + grace_days < t <= today, except
on paused days (an installment plan on track), the daily rate times what the bill still
owed at the end of day t - 1. What it owed at the end of day d is its amount less what
`allocate(bills, payments with paid_on <= d)` gives it, so a payment made on day d counts
from day d + 1 (today's from tomorrow), and the history always ends in today's allocation,
reversals and refunds included. Per bill, outstanding_fen x daily_ppm x days is summed
exactly in integers (millionths of a fen), rounded half up to the fen once, then capped.

The walk takes one step per payment date, not per day: O((payments + bills) x bills),
plus bills x paused ranges."""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Iterable, Sequence

from .allocation import BillDue, InvalidReversal, Ledger, PaymentIn, RefundTooLarge

PPM = 1_000_000


@dataclass(frozen=True)
class DatedPayment:
    id: int
    amount_fen: int  # negative: a reversal (with `reverses`) or a refund
    paid_on: date
    bill_id: int | None = None
    reverses: int | None = None

    def undated(self) -> PaymentIn:
        return PaymentIn(self.id, self.amount_fen, self.bill_id, self.reverses)


@dataclass(frozen=True)
class AccrualLine:
    """One period at one outstanding amount: outstanding x rate x days = fee. The fee
    shown is the exact product rounded down or up, so that a bill's lines add up to its
    fee, rounded once (the leftover fen go where the remainders are largest)."""
    first_day: date  # first and last day charged, inclusive
    last_day: date
    outstanding_fen: int
    daily_ppm: int
    days: int
    fee_millionths: int  # outstanding_fen x daily_ppm x days: the exact fee, in 1e-6 fen
    fee_fen: int  # this period's share of the bill's rounded fee (see `_shares`)


@dataclass(frozen=True)
class BillAccrual:
    bill_id: int
    amount_fen: int
    due_date: date
    lines: tuple[AccrualLine, ...]
    days_charged: int
    uncapped_fen: int  # the exact sum rounded half up: what the lines add up to
    cap_fen: int | None
    accrued_fen: int  # uncapped_fen, at most cap_fen

    @property
    def capped(self) -> bool:
        return self.accrued_fen < self.uncapped_fen


@dataclass(frozen=True)
class Accrual:
    """Every bill of a unit (oldest first), with the rule that was applied."""
    bills: tuple[BillAccrual, ...]
    accrued_fen: int
    uncapped_fen: int
    days_charged: int  # bill-days: the sum over bills
    grace_days: int
    daily_ppm: int
    cap_ppm: int | None

    def for_bill(self, bill_id: int) -> BillAccrual:
        for b in self.bills:
            if b.bill_id == bill_id:
                return b
        raise KeyError(bill_id)


@dataclass(frozen=True)
class UnitLateFee:
    accrued_fen: int
    waived_fen: int  # approved waivers, as approved
    outstanding_fen: int  # accrued less waived, never below zero
    accrual: Accrual


def round_half_up(millionths: int) -> int:
    """Millionths of a fen to whole fen, .5 up: 500_000 -> 1, 2_500_000 -> 3."""
    return (millionths + PPM // 2) // PPM


def cap_fen(amount_fen: int, cap_ppm: int | None) -> int | None:
    """The most a bill can accrue: cap_ppm of its amount, rounded down; None, no cap."""
    if cap_ppm is None:
        return None
    return max(amount_fen, 0) * cap_ppm // PPM


def daily_rate_percent(daily_ppm: int) -> str:
    """The daily rate in percent with as many decimals as it needs: 150 -> '0.015'."""
    whole, rest = divmod(daily_ppm, PPM // 100)
    decimals = f"{rest:04d}".rstrip("0")
    return f"{whole}.{decimals}" if decimals else str(whole)


def accrued_late_fee(bills: Sequence[BillDue], payments: Sequence[DatedPayment], today: date,
                     *, grace_days: int, daily_ppm: int, cap_ppm: int | None = None,
                     paused: Iterable[tuple[date, date]] = ()) -> Accrual:
    """The late fee each bill has accrued up to and including `today` (module rule)."""
    if grace_days < 0 or daily_ppm < 0 or (cap_ppm is not None and cap_ppm < 0):
        raise ValueError("grace days, daily rate and cap cannot be negative")
    pauses = _merged(paused)
    order, history = _outstanding_history(bills, payments, today, grace_days)
    end = today.toordinal()
    result = [_bill_accrual(b, h, end, grace_days, daily_ppm, cap_ppm, pauses)
              for b, h in zip(order, history)]
    return Accrual(bills=tuple(result), accrued_fen=sum(b.accrued_fen for b in result),
                   uncapped_fen=sum(b.uncapped_fen for b in result),
                   days_charged=sum(b.days_charged for b in result),
                   grace_days=grace_days, daily_ppm=daily_ppm, cap_ppm=cap_ppm)


def unit_late_fee(bills: Sequence[BillDue], payments: Sequence[DatedPayment], today: date,
                  *, grace_days: int, daily_ppm: int, cap_ppm: int | None = None,
                  paused: Iterable[tuple[date, date]] = (),
                  waivers_fen: Iterable[int] = ()) -> UnitLateFee:
    """What a unit's card and notices show: accrued, waived (the approved waivers) and
    still outstanding."""
    waivers = list(waivers_fen)
    if any(w < 0 for w in waivers):
        raise ValueError("a waiver cannot be negative")
    accrual = accrued_late_fee(bills, payments, today, grace_days=grace_days,
                               daily_ppm=daily_ppm, cap_ppm=cap_ppm, paused=paused)
    waived = sum(waivers)
    return UnitLateFee(accrued_fen=accrual.accrued_fen, waived_fen=waived,
                       outstanding_fen=max(accrual.accrued_fen - waived, 0), accrual=accrual)


# Below, days are ordinals (date.toordinal()): integer arithmetic, no timedelta.

def _merged(paused: Iterable[tuple[date, date]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for first, last in sorted(paused):
        if last < first:
            raise ValueError(f"a paused range cannot end before it starts: {first} to {last}")
        lo, hi = first.toordinal(), last.toordinal()
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _outstanding_history(bills: Sequence[BillDue], payments: Sequence[DatedPayment],
                         today: date, grace_days: int
                         ) -> tuple[list[BillDue], list[list[tuple[int, int]]]]:
    """Bills oldest first, and for each [(first day it applies to, outstanding)], changes
    only, by date. A state reached at the end of day d applies to the days from d + 1.
    States that no bill's accrual reaches (before its grace ends) are not recorded."""
    counted = sorted((p for p in payments if p.paid_on < today),
                     key=lambda p: (p.paid_on, p.reverses is not None, p.id))
    _check_reversals(payments, counted)
    ledger = Ledger(bills)
    starts = [b.due_date.toordinal() + grace_days + 1 for b in ledger.order]
    last = [max(b.amount_fen, 0) for b in ledger.order]
    history = [[(0, fen)] for fen in last]
    net = i = 0
    while i < len(counted):
        day = counted[i].paid_on
        while i < len(counted) and counted[i].paid_on == day:
            ledger.add(counted[i].undated())
            net += counted[i].amount_fen
            i += 1
        if net < 0:
            raise RefundTooLarge(f"refunds exceed the money paid by {-net} fen on {day}")
        until = counted[i].paid_on if i < len(counted) else today  # this state's last day
        reached = bisect_right(starts, until.toordinal())  # bills accruing by then
        if not reached:
            continue
        outstanding = ledger.outstanding_fen()
        applies_from = day.toordinal() + 1
        for k in range(reached):
            if outstanding[k] != last[k]:
                last[k] = outstanding[k]
                history[k].append((applies_from, last[k]))
    return ledger.order, history


def _check_reversals(payments: Sequence[DatedPayment], counted: list[DatedPayment]) -> None:
    """What the ledger cannot see when it walks by date: a reversal dated before the
    payment it reverses, or of an id that more than one payment has."""
    if not any(p.reverses is not None for p in payments):
        return
    by_id: dict[int, list[DatedPayment]] = {}
    for p in payments:
        by_id.setdefault(p.id, []).append(p)
    counted_ids = Counter(p.id for p in counted)
    for r in payments:
        if r.reverses is None:
            continue
        targets = by_id.get(r.reverses, [])
        if len(targets) > 1 and counted_ids[r.reverses] > 1:
            raise InvalidReversal(f"reversal {r.id} reverses payment id {r.reverses}, "
                                  "which more than one payment has")
        if len(targets) == 1 and r.paid_on < targets[0].paid_on:
            raise InvalidReversal(f"reversal {r.id} is dated before payment {r.reverses} "
                                  "that it reverses")


def _bill_accrual(bill: BillDue, history: list[tuple[int, int]], end: int, grace_days: int,
                  daily_ppm: int, cap_ppm: int | None,
                  pauses: list[tuple[int, int]]) -> BillAccrual:
    start = bill.due_date.toordinal() + grace_days + 1
    periods: list[tuple[int, int, int]] = []
    for i, (first, outstanding) in enumerate(history):
        last = history[i + 1][0] - 1 if i + 1 < len(history) else end
        first, last = max(first, start), min(last, end)
        if outstanding > 0 and first <= last:
            if pauses:
                periods.extend((a, b, outstanding) for a, b in _unpaused(first, last, pauses))
            else:
                periods.append((first, last, outstanding))
    exact = [outstanding * daily_ppm * (last - first + 1) for first, last, outstanding in periods]
    uncapped = round_half_up(sum(exact))
    shares = _shares(exact, uncapped)
    lines = tuple(AccrualLine(date.fromordinal(first), date.fromordinal(last), outstanding,
                              daily_ppm, last - first + 1, fee, share)
                  for (first, last, outstanding), fee, share in zip(periods, exact, shares))
    cap = cap_fen(bill.amount_fen, cap_ppm)
    return BillAccrual(bill_id=bill.id, amount_fen=bill.amount_fen, due_date=bill.due_date,
                       lines=lines, days_charged=sum(line.days for line in lines),
                       uncapped_fen=uncapped, cap_fen=cap,
                       accrued_fen=uncapped if cap is None else min(uncapped, cap))


def _unpaused(first: int, last: int, pauses: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """[first, last] less the paused ranges (merged and sorted)."""
    out = []
    i = bisect_left(pauses, (first, 0))
    if i and pauses[i - 1][1] >= first:
        i -= 1
    while first <= last:
        if i >= len(pauses) or pauses[i][0] > last:
            out.append((first, last))
            break
        p_first, p_last = pauses[i]
        if p_first > first:
            out.append((first, p_first - 1))
        first = max(first, p_last + 1)
        i += 1
    return out


def _shares(exact: list[int], total: int) -> list[int]:
    """Each period's fee in whole fen, adding up to `total` (the rounded sum): every
    period gets its exact fee rounded down, and the fen left over go to the periods with
    the largest remainders (earliest first on a tie), so no share is a fen off its own
    exact fee and the lines on a notice add up to the bill's fee."""
    shares = [e // PPM for e in exact]
    left = total - sum(shares)
    if not left:
        return shares
    for i in sorted(range(len(exact)), key=lambda i: (-(exact[i] % PPM), i))[:left]:
        shares[i] += 1
    return shares
