"""The set-up forms as plain checks: what was typed in, the values or a message per
field. The pages show the messages next to their fields and keep what was typed."""
from __future__ import annotations

import re
from typing import Any, Mapping
from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l

from ..auth.forms import LANGUAGES
from ..auth.services import MIN_PASSWORD_LENGTH
from ..limits import Limits
from ..models import Role
from .estate import BuildingValues, CommunityValues

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,59}")
KINDS = ("residential", "office_park")
# The zones a Chinese property company works in; any IANA name is accepted.
TIMEZONES = ("Asia/Shanghai", "Asia/Urumqi", "Asia/Hong_Kong", "Asia/Macau", "Asia/Taipei")
MAX_FLOORS = 200
_DEGREES = re.compile(r"-?[0-9]{1,3}(\.[0-9]{1,10})?")

Errors = dict[str, Any]


def _text(form: Mapping[str, str], name: str, limit: int, errors: Errors, *,
          required: bool = False) -> str:
    value = " ".join(form.get(name, "").split())
    if required and not value:
        errors[name] = _l("This is needed.")
    elif len(value) > limit:
        errors[name] = _l("At most %(n)s characters.", n=limit)
    return value


def _role(form: Mapping[str, str], errors: Errors) -> Role | None:
    try:
        return Role(form.get("role", ""))
    except ValueError:
        errors["role"] = _l("Choose a role.")
        return None


# As on the change-password form.
LONGEST_SECRET = 200


def check_password(form: Mapping[str, str], errors: Errors) -> str:
    password = form.get("password", "").strip()
    if len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = _l("At least %(min)d characters.", min=MIN_PASSWORD_LENGTH)
    elif len(password) > LONGEST_SECRET:
        errors["password"] = _l("At most %(n)s characters.", n=LONGEST_SECRET)
    return password


def check_new_user(form: Mapping[str, str], limits: Limits) -> tuple[dict | None, Errors]:
    errors: Errors = {}
    username = form.get("username", "").strip().lower()
    if not USERNAME.fullmatch(username):
        errors["username"] = _l("2 to 60 small letters, digits, dots, - or _, starting "
                                "with a letter or digit.")
    name = _text(form, "display_name", limits.text_limit("display_name"), errors)
    role = _role(form, errors)
    locale = form.get("locale", "zh_CN")
    if locale not in dict(LANGUAGES):
        errors["locale"] = _l("Choose a language.")
    password = check_password(form, errors)
    if errors:
        return None, errors
    return dict(username=username, display_name=name, role=role, locale=locale,
                password=password), {}


def check_user_edit(form: Mapping[str, str], limits: Limits) -> tuple[dict | None, Errors]:
    errors: Errors = {}
    name = _text(form, "display_name", limits.text_limit("display_name"), errors)
    role = _role(form, errors)
    return (None, errors) if errors else (dict(display_name=name, role=role), {})


def check_community(form: Mapping[str, str],
                    limits: Limits) -> tuple[CommunityValues | None, Errors]:
    errors: Errors = {}
    name = _text(form, "name", limits.text_limit("community_name"), errors, required=True)
    kind = form.get("kind", "")
    if kind not in KINDS:
        errors["kind"] = _l("Choose residential estate or office park.")
    zone = form.get("timezone", "").strip()
    if zone not in TIMEZONES and zone not in available_timezones():
        errors["timezone"] = _l("Choose a time zone.")
    return (None, errors) if errors else (CommunityValues(name, kind, zone), {})


def _degrees(text: str, most: int) -> float | None:
    text = text.strip()
    if not _DEGREES.fullmatch(text):
        return None
    value = float(text)
    return value if -most <= value <= most else None


def check_building(form: Mapping[str, str],
                   limits: Limits) -> tuple[BuildingValues | None, Errors]:
    """Coordinates are both given or both empty; "31.23, 121.47" pasted from a map into
    the latitude fills both."""
    errors: Errors = {}
    name = _text(form, "name", limits.text_limit("building_name"), errors, required=True)
    address = _text(form, "address", limits.text_limit("address"), errors)
    floors_text = form.get("floors", "").strip()
    floors = int(floors_text) if floors_text.isascii() and floors_text.isdigit() and \
        len(floors_text) <= 3 else 0
    if not 1 <= floors <= MAX_FLOORS:
        errors["floors"] = _l("Enter whole floors, from 1 to %(most)s.", most=MAX_FLOORS)
    lat_text, lon_text = form.get("lat", "").strip(), form.get("lon", "").strip()
    if "," in lat_text and not lon_text:
        lat_text, _, lon_text = (part.strip() for part in lat_text.partition(","))
    lat = lon = None
    if lat_text or lon_text:
        lat, lon = _degrees(lat_text, 90), _degrees(lon_text, 180)
        if lat is None:
            errors["lat"] = _l("Enter a latitude from -90 to 90, like 31.2304.")
        if lon is None:
            errors["lon"] = _l("Enter a longitude from -180 to 180, like 121.4737.")
    if errors:
        return None, errors
    return BuildingValues(name, address, floors, lat, lon), {}
