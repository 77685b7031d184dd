""""Today" in the company's time zone: days overdue and bands are counted in it."""
from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app


def company_tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["FIELDAPP_TZ"])


def today() -> date:
    # Tests and the benchmark pin the date so results do not drift with the calendar.
    fixed = current_app.config.get("FIXED_TODAY")
    if fixed:
        return fixed if isinstance(fixed, date) else date.fromisoformat(fixed)
    return datetime.now(company_tz()).date()


def day_start() -> datetime:
    """Midnight at the start of today, in the company's time zone."""
    return datetime.combine(today(), time(), company_tz())
