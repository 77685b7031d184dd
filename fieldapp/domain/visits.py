"""What a visit must say, by outcome: one validator for the form page, the JSON
contract and the offline queue. Takes plain values; returns parsed data or errors."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from flask_babel import lazy_gettext as _l

from ..limits import DEFAULT, Limits
from ..models import Delivery, NoticeType, Outcome, Reason, ServiceCategory
from .money import AmountTooLarge, format_yuan, parse_yuan

# Someone was met and did not pay: the reason is what the supervisor needs.
NEEDS_REASON = {Outcome.MET_OWNER, Outcome.MET_OCCUPANT, Outcome.REFUSED, Outcome.PROMISED}
# Who was met and what they promised or paid are two questions: meeting someone can
# carry a promise, a payment on the spot, or both. "promised" and "paid_on_site" stay
# accepted as outcomes for visits queued by older pages.
MET = {Outcome.MET_OWNER, Outcome.MET_OCCUPANT}
TEXT_FIELDS = ("reason_detail", "notes", "payment_ref")
# More than a household owes is a typing slip, not a payment taken at the door.
MAX_FIELD_PAYMENT_FEN = 100_000_000
GEO_ERRORS = {"1": "denied", "2": "unavailable", "3": "timeout"}


@dataclass
class VisitData:
    client_uuid: str
    outcome: Outcome
    reason: Reason | None = None
    service_category: ServiceCategory | None = None
    reason_detail: str = ""
    notice_type: NoticeType = NoticeType.NONE
    delivery: Delivery | None = None
    promise_date: date | None = None
    promise_amount_fen: int | None = None
    paid_amount_fen: int | None = None
    payment_ref: str = ""
    notes: str = ""
    lat: float | None = None
    lon: float | None = None
    accuracy_m: float | None = None
    geo_error: str = ""
    device_time: datetime | None = None
    errors: dict[str, str] = field(default_factory=dict)


def _choice(enum_cls, raw: str, name: str, errors: dict, required: bool = False):
    if not raw:
        if required:
            errors[name] = _l("Please choose one.")
        return None
    try:
        return enum_cls(raw)
    except ValueError:
        errors[name] = _l("Unknown choice.")
        return None


def _float(raw: str, lo: float, hi: float) -> float | None:
    try:
        value = float(raw[:40])
    except ValueError:
        return None
    return value if lo <= value <= hi else None  # NaN compares false: refused too


def device_time(raw: str) -> datetime | None:
    """The phone's clock when the visit was logged, in UTC; None if unreadable."""
    try:
        moment = datetime.fromisoformat(raw[:40].replace("Z", "+00:00"))
        moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return None


def check_visit(form: dict[str, str], *, photo_count: int, arrears_fen: int, today: date,
                promise_horizon_days: int, limits: Limits = DEFAULT) -> VisitData:
    """Parse and check a submitted visit. `errors` maps field names to messages."""
    get = lambda name: (form.get(name) or "").strip()  # noqa: E731
    errors: dict[str, str] = {}
    client_uuid = get("client_uuid")
    try:
        client_uuid = str(uuid.UUID(client_uuid))
    except ValueError:
        errors["client_uuid"] = _l("This form is missing its id; please reload it.")
    outcome = _choice(Outcome, get("outcome"), "outcome", errors, required=True)
    data = VisitData(client_uuid=client_uuid, outcome=outcome, errors=errors)

    for name in TEXT_FIELDS:
        if len(get(name)) > limits.text_limit(name):
            errors[name] = _l("At most %(n)s characters.", n=limits.text_limit(name))
    data.notes = get("notes")

    promising = outcome == Outcome.PROMISED or (outcome in MET and bool(get("promise_date")))
    paying = outcome == Outcome.PAID_ON_SITE or (outcome in MET and get("paid") == "1")
    if promising:
        _check_promise(get, data, errors, arrears_fen, today, promise_horizon_days)
    if paying:
        data.paid_amount_fen = _amount(get("paid_amount"), "paid_amount", errors)
        data.payment_ref = get("payment_ref")
        if not data.payment_ref:
            errors["payment_ref"] = _l("Please enter the receipt or transfer reference.")
    paid_in_full = data.paid_amount_fen is not None and data.paid_amount_fen >= arrears_fen
    if outcome in NEEDS_REASON and not paid_in_full:
        data.reason = _choice(Reason, get("reason"), "reason", errors, required=True)
        if data.reason == Reason.SERVICE:
            data.service_category = _choice(ServiceCategory, get("service_category"),
                                            "service_category", errors, required=True)
        data.reason_detail = get("reason_detail")
        if data.reason == Reason.OTHER and not data.reason_detail:
            errors["reason_detail"] = _l("Please say what the reason is.")

    data.notice_type = _choice(NoticeType, get("notice_type"), "notice_type",
                               errors) or NoticeType.NONE
    if data.notice_type != NoticeType.NONE:
        data.delivery = _choice(Delivery, get("delivery"), "delivery", errors, required=True)
        if photo_count == 0:
            errors["photos"] = _l("A delivered notice needs at least one photo as evidence.")


    data.lat = _float(get("lat"), -90, 90)
    data.lon = _float(get("lon"), -180, 180)
    if data.lat is None or data.lon is None:
        data.lat = data.lon = None
    data.accuracy_m = _float(get("accuracy"), 0, 100_000) if data.lat is not None else None
    data.geo_error = GEO_ERRORS.get(get("geo_error"), "")
    data.device_time = device_time(get("device_time"))
    return data


def _amount(raw: str, name: str, errors: dict) -> int | None:
    if not raw:
        errors[name] = _l("Please enter the amount.")
        return None
    try:
        fen = parse_yuan(raw, max_fen=MAX_FIELD_PAYMENT_FEN)
    except AmountTooLarge:
        errors[name] = _l("At most ¥%(max)s at a time.", max=format_yuan(MAX_FIELD_PAYMENT_FEN))
        return None
    except ValueError:
        errors[name] = _l("Enter an amount in yuan, like 1280 or 1280.50.")
        return None
    if fen <= 0:
        errors[name] = _l("The amount must be more than zero.")
        return None
    return fen


def _check_promise(get, data: VisitData, errors: dict, arrears_fen: int, today: date,
                   horizon_days: int) -> None:
    raw = get("promise_date")
    if not raw:
        errors["promise_date"] = _l("Please enter the promised date.")
    else:
        try:
            promised = date.fromisoformat(raw)
        except ValueError:
            errors["promise_date"] = _l("Enter a date like 2026-12-01.")
        else:
            if promised <= today:
                errors["promise_date"] = _l("The promised date must be in the future.")
            elif promised > today + timedelta(days=horizon_days):
                errors["promise_date"] = _l(
                    "At most %(days)s days ahead; for longer, agree an installment plan.",
                    days=horizon_days)
            else:
                data.promise_date = promised
    amount = _amount(get("promise_amount"), "promise_amount", errors)
    if amount is not None and amount > arrears_fen:
        errors["promise_amount"] = _l("More than the arrears (¥%(max)s).",
                                      max=format_yuan(arrears_fen))
        amount = None
    data.promise_amount_fen = amount
