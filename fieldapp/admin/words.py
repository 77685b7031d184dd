"""What roles, community kinds and coordinate sources are called on the set-up pages."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

ROLE_LABELS = {
    "housekeeper": _l("Housekeeper"),
    "supervisor": _l("Supervisor"),
    "engineer": _l("Engineer"),
    "admin": _l("Administrator"),
}

KIND_LABELS = {
    "residential": _l("Residential estate"),
    "office_park": _l("Office park"),
}

SOURCE_LABELS = {
    "manual": _l("set by hand"),
    "geocoded": _l("from the address"),
    "import": _l("imported"),
}

STATUS_LABELS = {
    "active": _l("Active"),
    "inactive": _l("Deactivated"),
    "all": _l("All"),
}


def role_label(role) -> str:
    value = getattr(role, "value", role)
    return str(ROLE_LABELS.get(value, value))


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


def source_label(source: str | None) -> str:
    return str(SOURCE_LABELS.get(source or "", ""))


POLICY_LABELS = {
    "bands": _l("Aging bands"),
    "late_fee_grace_days": _l("Grace days"),
    "late_fee_daily_ppm": _l("Daily late fee"),
    "late_fee_cap_ppm": _l("Late fee cap"),
    "gps_threshold_m": _l("GPS distance"),
    "promise_horizon_days": _l("Promise horizon"),
    "promise_grace_days": _l("Promise grace days"),
    "max_installments": _l("Most installments"),
    "plan_pauses_late_fee": _l("No late fee during a plan"),
    "broken_promise_steps": _l("Steps up after a broken promise"),
}


def policy_value(name: str, value) -> str:
    """One policy value as the history shows it: bands as 'day stage', rates in percent."""
    from ..domain.policy import ppm_to_percent
    from ..domain.stages import stage_label
    if name == "bands":
        return " · ".join(f"{b['min_days']} {stage_label(b.get('stage', b['key']))}"
                          for b in value)
    if name == "late_fee_daily_ppm":
        return str(_l("%(rate)s %% a day", rate=ppm_to_percent(value)))
    if name == "late_fee_cap_ppm":
        return str(_l("none")) if value is None else \
            str(_l("%(rate)s %% of the bill", rate=ppm_to_percent(value)))
    if name == "plan_pauses_late_fee":
        return str(_l("yes") if value else _l("no"))
    if name == "gps_threshold_m":
        return f"{value} m"
    return str(value)
