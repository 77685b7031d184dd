"""Late fees as accrued, for a page of units at once: two indexed statements (bills with
payments, plans) whatever the number of units, then the domain rule per unit.

A unit's fee depends only on its bills, payments, plans and waivers (each change moves
`Unit.updated_at`), the day and its policy; so a route page remembers each row's fee
under that identity, and a write to one unit recomputes only that unit's fee."""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import literal, null, select, union_all
from sqlalchemy.orm import Session

from ..domain.allocation import BillDue, allocate
from ..domain.latefee import DatedPayment, UnitLateFee, unit_late_fee
from ..models import Bill, InstallmentPlan, Payment, Policy
from ..models.idlist import in_ids, uses_arrays


class FeeCache:
    """A per-process LRU of fees by (unit, version, day, rule): app servers stay
    stateless, each keeps its own."""

    def __init__(self, size: int = 50_000):
        self.size, self._fees = size, OrderedDict()

    def get(self, key):
        found = self._fees.get(key)
        if found is not None:
            self._fees.move_to_end(key)
        return found

    def put(self, key, fee: UnitLateFee) -> None:
        self._fees[key] = fee
        self._fees.move_to_end(key)
        while len(self._fees) > self.size:
            self._fees.popitem(last=False)


def _rule(policy: Policy) -> tuple:
    return (policy.late_fee_grace_days, policy.late_fee_daily_ppm, policy.late_fee_cap_ppm,
            policy.plan_pauses_late_fee)


def cached_late_fees(session: Session, units: dict[int, tuple[Policy, int, datetime]],
                     today: date, cache: FeeCache) -> dict[int, UnitLateFee]:
    """late_fees for units given with their `updated_at`, computing only those whose
    fee under that version is not remembered."""
    keys = {i: (i, version, today, waived, _rule(policy))
            for i, (policy, waived, version) in units.items()}
    found = {i: cache.get(k) for i, k in keys.items()}
    missing = {i: units[i][:2] for i, fee in found.items() if fee is None}
    for i, fee in late_fees(session, missing, today).items():
        cache.put(keys[i], fee)
        found[i] = fee
    return found


@dataclass(frozen=True)
class UnitMoney:
    """What a unit's late fee and credit are computed from."""
    bills: list[BillDue]
    payments: list[DatedPayment]
    paused: list[tuple[date, date]]

    def credit_fen(self) -> int:
        """Money paid beyond every bill (an overpayment, kept as credit)."""
        return allocate(self.bills, [p.undated() for p in self.payments]).credit_fen


def late_fees(session: Session, units: dict[int, tuple[Policy, int]],
              today: date) -> dict[int, UnitLateFee]:
    """unit id -> its late fee; `units` maps each id to (its policy, fen waived)."""
    money = unit_money(session, units, today)
    return {i: late_fee_of(money[i], *units[i], today) for i in units}


def late_fee_of(money: UnitMoney, policy: Policy, waived: int, today: date) -> UnitLateFee:
    return unit_late_fee(money.bills, money.payments, today,
                         grace_days=policy.late_fee_grace_days,
                         daily_ppm=policy.late_fee_daily_ppm, cap_ppm=policy.late_fee_cap_ppm,
                         paused=money.paused, waivers_fen=[waived] if waived else [])


def unit_money(session: Session, units: dict[int, tuple[Policy, int]],
               today: date, bills: dict[int, list[BillDue]] | None = None,
               plans: dict[int, list[InstallmentPlan]] | None = None
               ) -> dict[int, UnitMoney]:
    """Bills, payments and plan pauses of these units: two statements in all (one when
    the caller has read the bills and plans already)."""
    if not units:
        return {}
    ids = list(units)
    conn, arrays = session.connection(), uses_arrays(session)
    payments: dict[int, list[DatedPayment]] = {i: [] for i in ids}
    query = select(literal("payment").label("kind"), Payment.unit_id, Payment.id,
                   Payment.amount_fen, Payment.paid_on, Payment.bill_id, Payment.reverses_id
                   ).where(in_ids(Payment.unit_id, ids, arrays))
    if bills is None:  # the bills with the payments: a round trip less on PostgreSQL
        bills = {i: [] for i in ids}
        query = union_all(query, select(
            literal("bill"), Bill.unit_id, Bill.id, Bill.amount_fen, Bill.due_date,
            null(), null()).where(in_ids(Bill.unit_id, ids, arrays)))
    for kind, unit_id, row_id, fen, day, bill_id, reverses_id in conn.execute(query):
        if kind == "bill":
            bills[unit_id].append(BillDue(row_id, fen, day))
        else:
            payments[unit_id].append(DatedPayment(row_id, fen, day, bill_id, reverses_id))
    paused: dict[int, list[tuple[date, date]]] = {i: [] for i in ids}
    pausing = [i for i in ids if units[i][0].plan_pauses_late_fee]
    if pausing and plans is None:
        plans = {i: [] for i in ids}
        for plan in session.scalars(select(InstallmentPlan).where(
                in_ids(InstallmentPlan.unit_id, pausing, arrays))):
            plans[plan.unit_id].append(plan)
    for i in pausing:
        for plan in plans.get(i, ()):
            if (span := plan.paused_range(today)) is not None:
                paused[i].append(span)
    return {i: UnitMoney(bills[i], payments[i], paused[i]) for i in ids}
