"""The route list's words and links, prepared once per page rather than once per row:
gettext and URL building were a third of the page's time (bench/route_list.py)."""
from __future__ import annotations

from flask import url_for
from flask_babel import get_locale, get_translations
from flask_babel import gettext as _

from ..domain.stages import STAGE_LABELS
from ..visits.choices import OUTCOMES

_SENTINEL = 987654321


def unit_link(endpoint: str, **args) -> str:
    """A URL pattern for every unit of the page: routing stays the one source of URLs."""
    return url_for(endpoint, unit_id=_SENTINEL, **args).replace(str(_SENTINEL), "{id}", 1)


def _days(n: int) -> str:
    text = get_translations().ungettext("%(num)s day overdue", "%(num)s days overdue", n)
    return text.replace("%(num)s", "{n}")


_WORDS: dict[str, dict] = {}


def route_words() -> dict:
    """The words in the current language; the same for every request in it."""
    locale = str(get_locale())
    if locale not in _WORDS:
        _WORDS[locale] = _words()
    return _WORDS[locale]


def _words() -> dict:
    return {
        "stage": {key: str(text) for key, text in STAGE_LABELS.items()},
        "outcome": {key: str(text) for key, text in OUTCOMES},
        # Chinese has one plural form, English two: n == 1 picks the singular.
        "day_one": _days(1),
        "day_many": _days(2),
        "late_fee": _("late fee ¥%(fee)s", fee="{fee}"),
        "metres": _("%(m)s m", m="{m}"),
        "visited": _("Visited %(date)s: %(outcome)s", date="{date}", outcome="{outcome}"),
        "visited_today": _("Visited today: %(outcome)s", outcome="{outcome}"),
        "visit_button": _("Visit"),
        "log_visit": _("Log a visit to %(unit)s", unit="{unit}"),
        "promised_for": _("Promised for %(date)s", date="{date}"),
        "promise_due": _("Promise due %(date)s", date="{date}"),
        "promise_kept": _("Promise kept %(date)s", date="{date}"),
        "promise_broken": _("Promise broken %(date)s", date="{date}"),
        "plan_on_track": _("Installment plan on track"),
        "plan_behind": _("Installment plan behind"),
        "flagged": _("Two promises broken: for the supervisor"),
        "on_hold": _("On hold: repair pending"),
        "rectified": _("Rectified"),
        "waived": _("Late fee waived"),
    }
