"""Money as integer fen: yuan shown with separators and sign, yuan typed in any common
form, phone numbers masked in lists."""
from __future__ import annotations

import pytest

from fieldapp.domain.money import AmountTooLarge, format_yuan, mask_phone, parse_yuan


@pytest.mark.parametrize("fen,text", [(0, "0.00"), (5, "0.05"), (100, "1.00"),
                                      (123456789, "1,234,567.89"), (-12345, "-123.45"),
                                      (-5, "-0.05")])
def test_format_yuan(fen, text):
    """Two decimals, thousands separators, and a minus sign for credit."""
    assert format_yuan(fen) == text


@pytest.mark.parametrize("text,fen", [("8", 800), ("¥8", 800), ("￥8", 800),
                                      (" ￥1,280.5 ", 128_050), ("1，280.50", 128_050),
                                      ("0.10", 10), ("8.", 800),
                                      ("21474836.47", 2**31 - 1)])
def test_parse_yuan_accepts_what_people_type(text, fen):
    """Half- and full-width yen signs and separators, spaces and one decimal are fine."""
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("text", ["abc", "", "1.234", "Infinity", "NaN", "-3", "+3", "1e3",
                                  ".5", "1.2.3"])
def test_parse_yuan_refuses_what_is_not_a_plain_amount(text):
    """Signs, exponents, NaN, fractions of a fen and words are not amounts."""
    with pytest.raises(ValueError, match="^not a plain amount$") as refused:
        parse_yuan(text)
    assert not isinstance(refused.value, AmountTooLarge)


def test_parse_yuan_refuses_more_than_the_limit_saying_so():
    """One fen over the limit is refused as too large; the limit itself is fine."""
    assert parse_yuan("10.00", max_fen=1_000) == 1_000
    with pytest.raises(AmountTooLarge, match="^more than 1000 fen$"):
        parse_yuan("10.01", max_fen=1_000)
    with pytest.raises(AmountTooLarge):
        parse_yuan("21474836.48")


@pytest.mark.parametrize("phone,masked", [
    ("13812345678", "138****5678"),
    (" 13812345678 ", "138****5678"),
    ("+8613812345678", "+86****5678"),
    ("62345678", "******78"),  # a landline keeps its last two digits
    ("12345", "***45"),
    ("123", "*23"),
    ("12", "12"),
])
def test_mask_phone(phone, masked):
    """Mobiles show the prefix and last four; shorter numbers only their last two."""
    assert mask_phone(phone) == masked
