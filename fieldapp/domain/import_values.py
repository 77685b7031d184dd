"""Values as billing systems export them: amounts with separators and ¥, dates in the
usual Chinese and ISO forms or as Excel serials, unit numbers like 3-2-1502 or
3栋2单元1502. Plain functions; each raises ValueError with a reason for the report."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

from ..limits import MAX_AMOUNT_FEN
from .money import AmountTooLarge, parse_yuan


class BadValue(ValueError):
    """A cell that cannot be read; `reason` is what the report says."""

    def __init__(self, reason):
        super().__init__(str(reason))
        self.reason = reason


def clean(value) -> str:
    """A cell as text: full-width digits and letters made plain (NFKC), trimmed."""
    if type(value) is str and value.isascii():
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = value if isinstance(value, str) else str(value)
    if text.isascii():
        return text.strip()
    return unicodedata.normalize("NFKC", text).strip()


_MINUS = ("-", "−", "－")
_YUAN = ("¥", "￥")


def parse_amount(value) -> int:
    """Signed yuan to fen: '1,234.50', '¥1234.5', '￥-80', '-¥80', '(80.00)', '80元',
    or a number from a spreadsheet. Refunds and reversals are negative."""
    if type(value) is str and (value.isascii() or value[:1] in _YUAN and value[1:].isascii()):
        # The common cell, '1,234.50', '¥80' or '80', without the general path's steps.
        whole, dot, cents = value.lstrip("¥￥").replace(",", "").partition(".")
        if whole.isdigit() and len(whole) <= 9 and (
                not dot or (cents.isdigit() and len(cents) <= 2)):
            fen = int(whole) * 100 + (int(cents.ljust(2, "0")) if dot else 0)
            if fen <= MAX_AMOUNT_FEN:
                return fen
    if isinstance(value, bool):
        raise BadValue(_l("Not an amount."))
    if isinstance(value, (int, float)):
        try:
            exact = Decimal(repr(value)) * 100
        except InvalidOperation:
            raise BadValue(_l("Not an amount.")) from None
        if not exact.is_finite() or exact != exact.to_integral_value():
            raise BadValue(_l("An amount has at most two decimals."))
        fen = int(exact)
        if abs(fen) > MAX_AMOUNT_FEN:
            raise BadValue(_l("The amount is too large."))
        return fen
    text = clean(value).replace(" ", "")
    if not text:
        raise BadValue(_l("The amount is missing."))
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    if text.endswith("元"):
        text = text[:-1]
    for symbol in ("¥", "￥"):
        text = text.replace(symbol, "")
    if text[:1] in _MINUS:
        negative, text = not negative, text[1:]
    elif text[:1] == "+":
        text = text[1:]
    try:
        fen = parse_yuan(text)
    except AmountTooLarge:
        raise BadValue(_l("The amount is too large.")) from None
    except ValueError:
        if re.fullmatch(r"\d+\.\d{3,}", text.replace(",", "")):
            raise BadValue(_l("An amount has at most two decimals.")) from None
        raise BadValue(_l("Not an amount: write it like 1,234.50 or ¥1234.5.")) from None
    return -fen if negative else fen


_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
                   r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 is 1900-01-01 (with Excel's leap-year bug)
_SERIALS = range(1, 2_958_466)  # Excel's last day is 9999-12-31


def excel_date(serial: float) -> date:
    """An Excel serial day number (1900 date system) as a date."""
    day = int(serial)  # a fraction is the time of day
    if day not in _SERIALS:
        raise BadValue(_l("Not a date."))
    return EXCEL_EPOCH + timedelta(days=day)


def parse_date(value) -> date:
    """2025-03-01, 2025/3/1, 2025.3.1, 2025年3月1日, 20250301, a time after it, an
    Excel serial (45717), or a date/datetime from a spreadsheet."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise BadValue(_l("Not a date."))
    if isinstance(value, (int, float)):
        return excel_date(value)
    text = clean(value)
    if not text:
        raise BadValue(_l("The date is missing."))
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    found = _DATE.fullmatch(text)
    if found is None and text.isdigit() and len(text) == 8:
        found = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text)
    if found is not None:
        try:
            return date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
        except ValueError:
            raise BadValue(_l("There is no such day.")) from None
    if re.fullmatch(r"\d{1,7}(\.\d+)?", text):
        return excel_date(float(text))
    raise BadValue(_l("Not a date: write it like 2025-03-01, 2025/3/1 or 2025年3月1日."))


_BUILDING_SUFFIX = re.compile(r"(号楼|栋|幢|座|楼|号)$")
_UNIT_CODE = [
    # 3栋2单元1502室, 3号楼1502, A座2单元1502
    re.compile(r"(?P<b>[0-9A-Za-z]+)(?:号楼|栋|幢|座|楼)-?(?:(?P<e>[0-9A-Za-z]+)单元-?)?"
               r"(?P<n>[0-9A-Za-z]+)(?:室|号)?"),
    # 3-2-1502, 3-1502
    re.compile(r"(?P<b>[0-9A-Za-z]+)-(?:(?P<e>[0-9A-Za-z]+)-)?(?P<n>[0-9A-Za-z]+)"),
    # 2单元1502 (the building in its own column)
    re.compile(r"(?:(?P<e>[0-9A-Za-z]+)单元-?)?(?P<n>[0-9A-Za-z]+)(?:室|号)?"),
]


@dataclass(frozen=True)
class UnitCode:
    building: str | None  # as written, e.g. "3" from "3栋"; None when not in the code
    entrance: str  # "" when none
    room: str  # "1502"

    @property
    def number(self) -> str:
        """Unit.number: the room, after the entrance when there is one ("2-1502"), so
        that 1502 of entrance 1 and 1502 of entrance 2 are two units of one building."""
        return f"{self.entrance}-{self.room}" if self.entrance else self.room


def parse_unit_code(value) -> UnitCode:
    """'3-2-1502' and '3栋2单元1502' -> building 3, entrance 2, room 1502; '1502' ->
    room only (the building comes from its own column)."""
    text = clean(value).replace(" ", "").replace("—", "-").replace("_", "-")
    if not text:
        raise BadValue(_l("The unit number is missing."))
    for pattern in _UNIT_CODE:
        found = pattern.fullmatch(text)
        if found is not None:
            parts = found.groupdict()
            return UnitCode(parts.get("b"), parts.get("e") or "", parts["n"])
    raise BadValue(_l("Not a unit number: write it like 3-2-1502 or 3栋2单元1502."))


def building_key(name: str) -> str:
    """What two spellings of one building share: '3栋', '3幢', '3号楼', ' 3 ' -> '3';
    'B座' -> 'b'."""
    text = clean(name).replace(" ", "").lower()
    stripped = _BUILDING_SUFFIX.sub("", text)
    return stripped or text


def building_name(written: str) -> str:
    """The name a new building gets: '3' -> '3栋'; names with a suffix stay as written."""
    text = clean(written)
    return f"{text}栋" if text.isdigit() else text


def cached(parse, limit: int = 100_000):
    """`parse` remembering what it returned for each cell: a file repeats its dates,
    fee types and unit numbers on thousands of rows. Failures are not remembered."""
    memo: dict = {}
    get = memo.get

    def lookup(raw):
        value = get(raw)
        if value is None:
            value = parse(raw)
            if len(memo) < limit:
                memo[raw] = value
        return value
    lookup.memo = memo  # for callers that inline the lookup
    return lookup


def floor_of(room: str) -> int | None:
    """The floor a room number says: 1502 -> 15, 302 -> 3, 0302 -> 3; None otherwise."""
    if room.isdigit() and len(room) >= 3:
        return int(room[:-2])
    return None
