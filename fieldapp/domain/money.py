"""Money is integer fen; these helpers are the only place yuan strings are parsed."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation


def format_yuan(fen: int) -> str:
    """12345 -> '123.45', with thousands separators: 123456789 -> '1,234,567.89'."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{yuan:,}.{cents:02d}"


def parse_yuan(text: str) -> int:
    """'123.4' -> 12340 fen. Raises ValueError for anything not a plain amount."""
    cleaned = text.strip().replace(",", "").replace("¥", "").replace("￥", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError("not a number") from None
    if not value.is_finite() or value != value.quantize(Decimal("0.01")):
        raise ValueError("at most two decimals")
    return int((value * 100).to_integral_value(rounding=ROUND_HALF_UP))


def mask_phone(phone: str) -> str:
    """13812345678 -> 138****5678; short numbers keep only their last two digits."""
    digits = phone.strip()
    if len(digits) >= 11:
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) > 2:
        return "*" * (len(digits) - 2) + digits[-2:]
    return digits
