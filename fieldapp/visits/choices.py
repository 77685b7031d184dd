"""The words for each visit choice, in the order the form offers them."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

OUTCOMES = [
    ("met_owner", _l("Met the owner")), ("met_occupant", _l("Met the occupant")),
    ("promised", _l("Promised to pay")), ("paid_on_site", _l("Paid on the spot")),
    ("nobody_home", _l("Nobody home")), ("refused", _l("Refused")),
    ("wrong_contact", _l("Wrong contact")), ("vacant", _l("Vacant")),
]
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
    return {"outcome": OUTCOMES, "reason": REASONS, "service_category": SERVICE_CATEGORIES,
            "notice_type": NOTICE_TYPES, "delivery": DELIVERIES}


def label(kind: str, key: str | None) -> str:
    """The display word for a stored key (enum value), or the key itself."""
    if key is None:
        return ""
    key = getattr(key, "value", key)
    return str(dict(choices()[kind]).get(key, key))
