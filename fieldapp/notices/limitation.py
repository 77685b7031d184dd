"""The limitation clock read from the database: the documented demands of a unit (notices
delivered, promises, payments) fed to the plain rule in domain/limitation.py."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo

from sqlalchemy import Date, Select, case, cast, exists, literal, null, select, union_all
from sqlalchemy.orm import Session

from ..domain.limitation import Demand, latest_due_at_risk, limitation_ends
from ..models import Bill, NoticeType, Payment, Promise, Unit, Visit, VisitPhoto
from ..models.base import UTCDateTime


def demands_of(session: Session, unit_ids: list[int], tz: tzinfo, *,
               paid_on: dict[int, list[date]] | None = None,
               records: bool = True) -> dict[int, list[Demand]]:
    """unit id -> its documented demands: notices delivered (proven by a photo),
    promises made and payments received; one statement for all three. `paid_on`: the
    days of the units' payments, when the caller has read them; `records=False`: the
    units have no visits and no promises. With both, no statement at all."""
    found: dict[int, list[Demand]] = defaultdict(list)
    if not unit_ids:
        return found
    parts = []
    if records:
        has_photo = exists().where(VisitPhoto.visit_id == Visit.id)
        parts.append(select(Visit.unit_id, literal("notice").label("kind"),
                            Visit.created_at.label("at"), cast(null(), Date).label("on"),
                            case((has_photo, 1), else_=0).label("proven"))
                     .where(Visit.unit_id.in_(unit_ids), Visit.notice_type != NoticeType.NONE))
        parts.append(select(Promise.unit_id, literal("promise"), cast(null(), UTCDateTime),
                            Promise.made_on, literal(1)).where(Promise.unit_id.in_(unit_ids)))
    if paid_on is None:
        parts.append(select(Payment.unit_id, literal("payment"), cast(null(), UTCDateTime),
                            Payment.paid_on, literal(1))
                     .where(Payment.unit_id.in_(unit_ids), Payment.amount_fen > 0))
    else:
        for unit_id, days in paid_on.items():
            found[unit_id] += [Demand(day, "payment", True) for day in days]
    if parts:
        statement = parts[0] if len(parts) == 1 else union_all(*parts)
        for unit_id, kind, at, on, proven in session.execute(statement):
            day = _local_day(at, tz) if kind == "notice" else _as_date(on)
            found[unit_id].append(Demand(day, kind, bool(proven)))
    return found


def _local_day(at, tz: tzinfo) -> date:
    if isinstance(at, str):  # SQLite hands a union's moments back as text
        at = datetime.fromisoformat(at)
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at.astimezone(tz).date()


def _as_date(on) -> date:
    return date.fromisoformat(on) if isinstance(on, str) else on


def _unpaid_bills(session: Session, unit_ids: list[int], today: date,
                  due_by: date | None = None) -> dict[int, list[tuple[int, date]]]:
    query = select(Bill.unit_id, Bill.id, Bill.due_date).where(
        Bill.unit_id.in_(unit_ids), Bill.paid_fen < Bill.amount_fen, Bill.due_date < today)
    if due_by is not None:
        query = query.where(Bill.due_date <= due_by)
    bills: dict[int, list[tuple[int, date]]] = defaultdict(list)
    for unit_id, bill_id, due in session.execute(query):
        bills[unit_id].append((bill_id, due))
    return bills


def bill_ends(session: Session, unit_id: int, bills: list[tuple[int, date]],
              tz: tzinfo, *, paid_on: list[date] | None = None,
              records: bool = True) -> dict[int, date]:
    """bill id -> the day its limitation period ends, for these (id, due) bills.
    `paid_on` and `records` as for `demands_of`."""
    if not bills:  # nothing overdue: no demand to read
        return {}
    demands = demands_of(session, [unit_id], tz, records=records,
                         paid_on=None if paid_on is None else {unit_id: paid_on})
    return limitation_ends(bills, demands[unit_id])


@dataclass(frozen=True)
class AtRisk:
    unit: Unit
    ends_on: date
    days_left: int


def units_at_risk(session: Session, today: date, tz: tzinfo, within_days: int = 90,
                  scope: Select | None = None) -> list[AtRisk]:
    """Units with an overdue bill whose period ends within `within_days` (or has
    ended), soonest first. Only bills old enough to end that soon are read."""
    due_by = latest_due_at_risk(today, within_days)
    candidates = select(Bill.unit_id).where(Bill.paid_fen < Bill.amount_fen,
                                            Bill.due_date <= due_by).distinct()
    if scope is not None:
        candidates = candidates.where(Bill.unit_id.in_(scope))
    ids = list(session.scalars(candidates))
    bills = _unpaid_bills(session, ids, today, due_by)
    demands = demands_of(session, ids, tz)
    horizon = today + timedelta(days=within_days)
    ends = {}
    for unit_id in ids:
        found = limitation_ends(bills[unit_id], demands[unit_id]).values()
        if found and min(found) <= horizon:
            ends[unit_id] = min(found)
    units = {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_(list(ends))))}
    rows = [AtRisk(units[i], end, (end - today).days) for i, end in ends.items()]
    return sorted(rows, key=lambda r: (r.ends_on, r.unit.id))


