"""A community's policy as an administrator types it, checked into the values a policy
version stores, with a message per field: bands in order of days (the first from day 1
or later), unique keys, stages never milder than the band before; rates in percent
converted exactly to parts per million."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from flask_babel import lazy_gettext as _l

from .arrears import (
    DUPLICATE_KEY,
    FIRST_DAY,
    MILDER_STAGE,
    NO_BANDS,
    NOT_INCREASING,
    UNKNOWN_STAGE,
    Band,
    band_problems,
)
from .latefee import PPM
from .stages import STAGES

MAX_BANDS = 10
MAX_BAND_DAYS = 3650
# A change may be dated up to this far ahead.
SCHEDULE_DAYS = 5 * 366
# Whole-number fields: (least, most).
WHOLE = {
    "late_fee_grace_days": (0, 365),
    "gps_threshold_m": (10, 5000),
    "promise_horizon_days": (1, 365),
    "promise_grace_days": (0, 30),
    "max_installments": (2, 60),
    "broken_promise_steps": (0, len(STAGES) - 1),
}
MAX_DAILY_PPM = PPM // 100  # 1 % a day
MAX_CAP_PPM = PPM  # the bill's own amount
_KEY = re.compile(r"[a-z0-9_-]{1,20}")

BAND_MESSAGES = {
    NO_BANDS: _l("Enter at least one band."),
    FIRST_DAY: _l("The first band starts at day 1 or later."),
    NOT_INCREASING: _l("Each band starts later than the band above it."),
    DUPLICATE_KEY: _l("Another band has this name."),
    UNKNOWN_STAGE: _l("Choose a stage."),
    MILDER_STAGE: _l("A later band cannot have a milder stage than the band above it."),
}


@dataclass(frozen=True)
class PolicyChange:
    values: dict[str, Any]  # POLICY_FIELDS -> value, as a policy version stores them
    valid_from: date
    note: str


def percent_to_ppm(text: str) -> int:
    """'0.03' (percent) -> 300 parts per million, exactly; ValueError when it is not a
    plain number or needs more than four decimals (finer than 1 ppm)."""
    cleaned = text.strip().rstrip("%").strip()
    if not re.fullmatch(r"[0-9]{1,7}(\.[0-9]{1,12})?", cleaned):
        raise ValueError("not a plain percentage")
    try:
        ppm = Decimal(cleaned) * (PPM // 100)
    except InvalidOperation:
        raise ValueError("not a plain percentage") from None
    if ppm != ppm.to_integral_value():
        raise ValueError("finer than one part per million")
    return int(ppm)


def ppm_to_percent(ppm: int | None) -> str:
    """300 -> '0.03'; None -> ''."""
    if ppm is None:
        return ""
    whole, rest = divmod(ppm, PPM // 100)
    decimals = f"{rest:04d}".rstrip("0")
    return f"{whole}.{decimals}" if decimals else str(whole)


def form_values(values: Mapping[str, Any], valid_from: date) -> dict[str, Any]:
    """A policy's values as the form shows them (the inverse of `check_policy`)."""
    form = {name: str(values[name]) for name in WHOLE}
    form["daily_rate"] = ppm_to_percent(values["late_fee_daily_ppm"])
    form["cap"] = ppm_to_percent(values["late_fee_cap_ppm"])
    form["plan_pauses_late_fee"] = "1" if values["plan_pauses_late_fee"] else ""
    for i, band in enumerate(values["bands"], start=1):
        form[f"band-{i}-key"] = str(band["key"])
        form[f"band-{i}-days"] = str(band["min_days"])
        form[f"band-{i}-stage"] = str(band.get("stage", band["key"]))
    form["valid_from"] = valid_from.isoformat()
    return form


def _whole(text: str, least: int, most: int) -> int | None:
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 6:
        return None
    value = int(text)
    return value if least <= value <= most else None


def check_bands(form: Mapping[str, str]) -> tuple[list[Band], dict[str, Any]]:
    """Band rows band-N-key/-days/-stage (N from 1) as typed: a row without days or
    name is left out; a row without a name is named after its stage."""
    rows: list[tuple[int, Band]] = []
    errors: dict[str, Any] = {}
    for n in range(1, MAX_BANDS + 1):
        key = form.get(f"band-{n}-key", "").strip().lower()
        days_text = form.get(f"band-{n}-days", "").strip()
        stage = form.get(f"band-{n}-stage", "").strip()
        if not key and not days_text:
            continue
        days = _whole(days_text, 0, MAX_BAND_DAYS)
        if days is None:
            errors[f"band-{n}-days"] = _l("Enter whole days, from 1 to %(most)s.",
                                          most=MAX_BAND_DAYS)
            continue
        if key and not _KEY.fullmatch(key):
            errors[f"band-{n}-key"] = _l("Use up to 20 letters, digits, - or _.")
            continue
        if not key:
            taken = {band.key for _, band in rows}
            key = stage if stage not in taken else f"{stage}-{days}"
        rows.append((n, Band(key, days, stage)))
    if errors:
        return [], errors
    for index, field, problem in band_problems([band for _, band in rows]):
        name = f"band-{rows[index][0]}-{field}" if index >= 0 else "band-1-days"
        errors.setdefault(name, BAND_MESSAGES[problem])
    return [band for _, band in rows], errors


def check_policy(form: Mapping[str, str], *, today: date,
                 note_limit: int = 200) -> tuple[PolicyChange | None, dict[str, Any]]:
    """The change an administrator asked for, or the message per field that is wrong."""
    bands, errors = check_bands(form)
    values: dict[str, Any] = {
        "bands": [{"key": b.key, "min_days": b.min_days, "stage": b.stage} for b in bands]}
    for name, (least, most) in WHOLE.items():
        value = _whole(form.get(name, ""), least, most)
        if value is None:
            errors[name] = _l("Enter a whole number from %(least)s to %(most)s.",
                              least=least, most=most)
        values[name] = value
    try:
        values["late_fee_daily_ppm"] = percent_to_ppm(form.get("daily_rate", ""))
        if values["late_fee_daily_ppm"] > MAX_DAILY_PPM:
            raise ValueError("too high")
    except ValueError:
        errors["daily_rate"] = _l("Enter a percentage from 0 to 1, like 0.03, with at "
                                  "most four decimals.")
    cap = form.get("cap", "").strip()
    try:
        values["late_fee_cap_ppm"] = percent_to_ppm(cap) if cap else None
        if cap and not 0 < values["late_fee_cap_ppm"] <= MAX_CAP_PPM:
            raise ValueError("out of range")
    except ValueError:
        errors["cap"] = _l("Enter a percentage above 0 and at most 100, or leave it "
                           "empty for no cap.")
    values["plan_pauses_late_fee"] = form.get("plan_pauses_late_fee") == "1"
    valid_from = _valid_from(form.get("valid_from", ""), today, errors)
    note = form.get("note", "").strip()
    if len(note) > note_limit:
        errors["note"] = _l("At most %(n)s characters.", n=note_limit)
    if errors:
        return None, errors
    return PolicyChange(values, valid_from, note), {}


def _valid_from(text: str, today: date, errors: dict[str, Any]) -> date:
    text = text.strip()
    if not text:
        return today
    try:
        day = date.fromisoformat(text[:10]) if len(text) == 10 else None
    except ValueError:
        day = None
    if day is None:
        errors["valid_from"] = _l("Enter a date like %(example)s.",
                                  example=today.isoformat())
    elif day < today:
        errors["valid_from"] = _l("A change takes effect today or later: the past "
                                  "is not rewritten.")
    elif day > today + timedelta(days=SCHEDULE_DAYS):
        errors["valid_from"] = _l("At most five years ahead.")
    else:
        return day
    return today
