"""Money is integer fen; these helpers are the only place yuan strings are parsed."""
from __future__ import annotations

import re

from ..limits import MAX_AMOUNT_FEN


def format_yuan(fen: int) -> str:
    """12345 -> '123.45', with thousands separators: 123456789 -> '1,234,567.89'."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{yuan:,}.{cents:02d}"


# Digits, optionally a point and at most two decimals: no exponents, signs or NaN.
_AMOUNT = re.compile(r"(\d{1,30})(?:\.(\d{0,2}))?")


class AmountTooLarge(ValueError):
    """A well-formed amount beyond what can be stored."""


def parse_yuan(text: str, *, max_fen: int = MAX_AMOUNT_FEN) -> int:
    """'123.4' -> 12340 fen. Raises ValueError for anything not a plain amount of at
    most `max_fen` (the database's integer), so no input can overflow a column."""
    cleaned = text.strip().replace(",", "").replace("，", "").replace("¥", "").replace("￥", "")
    found = _AMOUNT.fullmatch(cleaned)
    if found is None:
        raise ValueError("not a plain amount")
    fen = int(found.group(1)) * 100 + int((found.group(2) or "").ljust(2, "0"))
    if fen > max_fen:
        raise AmountTooLarge(f"more than {max_fen} fen")
    return fen


def mask_phone(phone: str) -> str:
    """13812345678 -> 138****5678; short numbers keep only their last two digits."""
    digits = phone.strip()
    if len(digits) >= 11:
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) > 2:
        return "*" * (len(digits) - 2) + digits[-2:]
    return digits
