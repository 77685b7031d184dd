"""The words for each visit choice, in the order the form offers them."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

# The form asks who was met; a promise and a payment on the spot are asked apart.
FORM_OUTCOMES = [
    ("met_owner", _l("Met the owner")), ("met_occupant", _l("Met the occupant")),
    ("nobody_home", _l("Nobody home")), ("refused", _l("Refused")),
    ("wrong_contact", _l("Wrong contact")), ("vacant", _l("Vacant")),
]
# Every stored outcome, older visits' "promised" and "paid on the spot" included.
OUTCOMES = FORM_OUTCOMES + [("promised", _l("Promised to pay")),
                            ("paid_on_site", _l("Paid on the spot"))]
REASONS = [
    ("hardship", _l("Financial hardship")), ("service", _l("Dissatisfied with service")),
    ("fee_dispute", _l("Disputes the fee")), ("refusal", _l("Deliberate refusal")),
    ("forgot", _l("Forgot")), ("tenant_landlord", _l("Tenant/landlord unclear")),
    ("neighbour", _l("Neighbour dispute")), ("away", _l("Away long-term")),
    ("other", _l("Other")),
]
SERVICE_CATEGORIES = [
    ("lift", _l("Lift")), ("leak", _l("Leak")), ("cleaning", _l("Cleaning/garbage")),
    ("security", _l("Security")), ("greenery", _l("Greenery")), ("parking", _l("Parking")),
    ("other", _l("Other")),
]
NOTICE_TYPES = [
    ("none", _l("No notice")), ("reminder", _l("Reminder")),
    ("payment_notice", _l("Payment notice")), ("demand_letter", _l("Demand letter")),
    ("lawyer_letter", _l("Lawyer's letter")),
]
DELIVERIES = [
    ("handed", _l("Handed over")), ("door", _l("Posted on the door")),
    ("mailbox", _l("Mailbox")), ("registered_mail", _l("Registered mail")),
]


def choices() -> dict[str, list]:
    """What the visit form offers, in order."""
    return {"outcome": FORM_OUTCOMES, "reason": REASONS, "service_category": SERVICE_CATEGORIES,
            "notice_type": NOTICE_TYPES, "delivery": DELIVERIES}


def label(kind: str, key: str | None) -> str:
    """The display word for a stored key (enum value), or the key itself."""
    if key is None:
        return ""
    key = getattr(key, "value", key)
    words = OUTCOMES if kind == "outcome" else choices()[kind]
    return str(dict(words).get(key, key))


def date_chips(today, horizon_days: int) -> list[tuple[str, object]]:
    """Promise dates a thumb picks instead of a calendar: this Friday, +7 days, the end
    of the month, +14 days; only those within the policy's horizon, each once."""
    from datetime import timedelta
    friday = today + timedelta(days=(4 - today.weekday()) % 7 or 7)
    month_end = (today.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    if month_end <= today:
        month_end = (month_end + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    found, seen = [], set()
    for text, day in ((_l("This Friday"), friday), (_l("In 7 days"), today + timedelta(days=7)),
                      (_l("End of month"), month_end),
                      (_l("In 14 days"), today + timedelta(days=14))):
        if day not in seen and 0 < (day - today).days <= horizon_days:
            seen.add(day)
            found.append((str(text), day))
    return found
