"""The review's words, prepared once per language rather than once per row (as the route
list does: gettext per row was a third of its time), and flags said in them."""
from __future__ import annotations

from datetime import datetime, timezone, tzinfo

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..visits.choices import DELIVERIES, NOTICE_TYPES, OUTCOMES, REASONS, SERVICE_CATEGORIES

FLAG_KINDS = [
    ("far", _l("Far from the building")), ("no_position", _l("No position")),
    ("exif_old", _l("Photo taken long before")),
    ("exif_missing", _l("Photo without a capture time")),
    ("duplicate_photo", _l("Same photo on another unit")),
    ("near_duplicate", _l("Near-identical photo on another unit")),
    ("notice_no_photo", _l("Notice without a photo")), ("late_sync", _l("Synced late")),
    ("fast_travel", _l("Implausible speed")),
]

_WORDS: dict[str, dict] = {}


def review_words() -> dict:
    """The words in the current language; the same for every request in it."""
    locale = str(get_locale())
    if locale not in _WORDS:
        _WORDS[locale] = _words()
    return _WORDS[locale]


def _words() -> dict:
    return {
        "outcome": {k: str(t) for k, t in OUTCOMES},
        "reason": {k: str(t) for k, t in REASONS},
        "service_category": {k: str(t) for k, t in SERVICE_CATEGORIES},
        "notice_type": {k: str(t) for k, t in NOTICE_TYPES},
        "delivery": {k: str(t) for k, t in DELIVERIES},
        "kind": {k: str(t) for k, t in FLAG_KINDS},
        "select": _("Select %(unit)s", unit="{unit}"),
        "photo_n": _("Photo %(n)s of the visit", n="{n}"),
        "cphoto_n": _("Correction photo %(n)s", n="{n}"),
        "taken": _("Taken %(time)s", time="{time}"),
        "no_exif": _("No capture time"),
        "no_photos": _("No photos"),
        "reason_h": _("Reason"),
        "notice_h": _("Notice"),
        "notes_h": _("Notes"),
        "server_h": _("Server time"),
        "device_h": _("Phone time"),
        "unknown": _("not sent"),
        "where": _("%(m)s m from the building", m="{m}"),
        "accuracy": _("accurate to %(m)s m", m="{m}"),
        "no_where": _("No position to draw."),
        "flags_h": _("Flags"),
        "sent_back_h": _("Sent back:"),
        "correction_h": _("Correction %(time)s:", time="{time}"),
        "open_flagged": _("Open to review"),
        "approve": _("Approve visit"),
        "taken_at": _("Taken %(time)s", time="{time}").split("{time}")[0],
        "send_back": _("Send back"),
        "comment_label": _("What should be corrected?"),
        "flag": {
            "far": _("Logged %(m)s m from the building; the limit is %(limit)s m.",
                     m="{m}", limit="{limit}"),
            "exif_old": _("Photo %(n)s was taken %(hours)s h before the visit (%(time)s).",
                          n="{n}", hours="{hours}", time="{time}"),
            "exif_old_phone": _("Photo %(n)s was taken %(hours)s h before the visit "
                                "(%(time)s, as the phone reported).",
                                n="{n}", hours="{hours}", time="{time}"),
            "exif_missing": _("Photo %(n)s has no capture time.", n="{n}"),
            "duplicate_photo": _("Photo %(n)s is the same file as a photo of the visit to "
                                 "%(unit)s.", n="{n}", unit="{unit}"),
            "near_duplicate": _("Photo %(n)s looks like a photo of the visit to %(unit)s "
                                "(%(bits)s of 64 bits differ).",
                                n="{n}", unit="{unit}", bits="{bits}"),
            "notice_no_photo": _("%(notice)s recorded as delivered, with no photo.",
                                 notice="{notice}"),
            "late_sync": _("Reached the server %(hours)s h after the phone logged it.",
                           hours="{hours}"),
            "fast_travel": _("%(m)s m from the visit to %(unit)s in %(minutes)s min "
                             "(%(kmh)s km/h).", m="{m}", unit="{unit}", minutes="{minutes}",
                             kmh="{kmh}"),
        },
        "no_position": {
            "denied": _("No position: location was refused or turned off on the phone."),
            "unavailable": _("No position: the phone could not find one."),
            "timeout": _("No position: the phone took too long to find one."),
            "": _("No position: the phone sent none."),
        },
    }


def _fill(template: str, **values) -> str:
    for key, value in values.items():
        template = template.replace("{" + key + "}", str(value))
    return template


def _hours(value) -> str:
    """1 decimal below 10 hours, whole hours above: "2.5", "31"."""
    try:
        hours = float(value)
    except (TypeError, ValueError):
        return "?"
    return f"{hours:.1f}" if hours < 10 else f"{hours:.0f}"


def _local(iso: str, tz: tzinfo) -> str:
    try:
        moment = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return ""
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def flag_text(kind: str, detail: dict, words: dict, tz: tzinfo) -> str:
    """One flag in words, with its figures."""
    d = detail or {}
    said = words["flag"]
    if kind == "far":
        return _fill(said["far"], m=d.get("distance_m", "?"), limit=d.get("threshold_m", "?"))
    if kind == "no_position":
        return words["no_position"].get(d.get("geo_error", ""), words["no_position"][""])
    if kind == "exif_old":
        template = said["exif_old_phone"] if d.get("source") == "phone" else said["exif_old"]
        return _fill(template, n=d.get("n", "?"), hours=_hours(d.get("hours")),
                     time=_local(d.get("taken_at", ""), tz))
    if kind == "exif_missing":
        return _fill(said["exif_missing"], n=d.get("n", "?"))
    if kind in ("duplicate_photo", "near_duplicate"):
        return _fill(said[kind], n=d.get("n", "?"), unit=d.get("other_unit", "?"),
                     bits=d.get("bits", "?"))
    if kind == "notice_no_photo":
        return _fill(said[kind], notice=words["notice_type"].get(d.get("notice"), ""))
    if kind == "late_sync":
        return _fill(said[kind], hours=_hours(d.get("hours")))
    if kind == "fast_travel":
        return _fill(said[kind], m=d.get("metres", "?"), unit=d.get("other_unit", "?"),
                     minutes=d.get("minutes", "?"), kmh=d.get("kmh", "?"))
    return words["kind"].get(kind, kind)
