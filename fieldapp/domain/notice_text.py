"""A notice template's text blocks: placeholders filled from the notice's facts, and the
check that keeps a broken template from being saved. Plain functions of plain values."""
from __future__ import annotations

import re
from typing import Mapping

from flask_babel import lazy_gettext as _l

# What a block may name, in braces: {total}.
PLACEHOLDERS = ("recipient", "unit", "community", "building", "address", "arrears",
                "late_fee", "total", "deadline", "issue_date", "days_overdue", "oldest_due",
                "notice_number", "issuer")
# Every block, in the order the editor shows them; all are required but `closing`.
BLOCKS = ("title", "greeting", "body", "legal_basis", "consequences", "closing",
          "sender", "sender_address", "contact", "how_to_pay")
OPTIONAL = {"closing"}
# The body must say how much and by when: a notice without them is no demand.
BODY_NEEDS = ("total", "deadline")

_TOKEN = re.compile(r"\{([^{}]*)\}")


def placeholders_in(text: str) -> list[str]:
    return _TOKEN.findall(text)


def check_blocks(blocks: Mapping[str, str], max_len: int) -> dict[str, str]:
    """block name -> what is wrong with it; empty when the template can be saved."""
    errors: dict[str, object] = {}
    for name in BLOCKS:
        text = (blocks.get(name) or "").strip()
        if not text:
            if name not in OPTIONAL:
                errors[name] = _l("This part of the notice is required.")
            continue
        if len(text) > max_len:
            errors[name] = _l("At most %(n)s characters.", n=max_len)
            continue
        unknown = [p for p in placeholders_in(text) if p not in PLACEHOLDERS]
        if unknown:
            errors[name] = _l("Unknown placeholder {%(name)s}.", name=unknown[0])
            continue
        if _TOKEN.sub("", text).count("{") or _TOKEN.sub("", text).count("}"):
            errors[name] = _l("A brace is not closed: write placeholders like {total}.")
            continue
        if name == "body":
            missing = [p for p in BODY_NEEDS if p not in placeholders_in(text)]
            if missing:
                errors[name] = _l("The body must name {%(name)s}.", name=missing[0])
    return {k: str(v) for k, v in errors.items()}


def fill(text: str, values: Mapping[str, str]) -> str:
    """The block with each placeholder replaced (a checked template names only known
    ones; anything else is left as typed)."""
    return _TOKEN.sub(lambda m: str(values.get(m.group(1), m.group(0))), text)
