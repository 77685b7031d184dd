"""Values as billing systems write them: amounts, dates, unit numbers and header names,
read by plain functions."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from fieldapp.domain.import_values import (
    BadValue,
    building_key,
    building_name,
    floor_of,
    parse_amount,
    parse_date,
    parse_unit_code,
)
from fieldapp.imports.headers import map_headers, normalise
from fieldapp.models import ImportKind


@pytest.mark.parametrize("written, fen", [
    ("1234.5", 123450), ("1,234.50", 123450), ("¥1,234.50", 123450), ("￥1234.5", 123450),
    ("1234.50元", 123450), (" 80 ", 8000), ("0.05", 5), ("-200", -20000), ("-¥200", -20000),
    ("￥-200.00", -20000), ("(200.00)", -20000), ("－200", -20000), ("１２３４.５", 123450),
    (1234.5, 123450), (80, 8000), (-12.3, -1230), ("1，234.50", 123450),
])
def test_amounts_in_every_written_form(written, fen):
    """Separators, ¥ or ￥, 元, a sign or brackets, full-width digits and spreadsheet
    numbers all read as signed fen."""
    assert parse_amount(written) == fen


@pytest.mark.parametrize("written", ["", "abc", "1.234", "1e5", "12.3.4", "NaN", "¥", "--5",
                                     "99999999999999", 0.001, float("inf"), True])
def test_amounts_that_are_not_amounts_are_refused(written):
    """Anything else is a bad value with a reason, never a guess."""
    with pytest.raises(BadValue) as e:
        parse_amount(written)
    assert str(e.value.reason)


@pytest.mark.parametrize("written", ["2025-03-01", "2025/3/1", "2025/03/01", "2025.3.1",
                                     "2025年3月1日", "2025年03月01日", "20250301",
                                     "2025-03-01 08:30:00", "2025/3/1 8:30", "45717", 45717,
                                     45717.75, date(2025, 3, 1), datetime(2025, 3, 1, 9, 0)])
def test_dates_in_every_written_form(written):
    """ISO, slashes, dots, 年月日, a time after the date, Excel serials (as text or
    number) and spreadsheet dates are all 1 March 2025."""
    assert parse_date(written) == date(2025, 3, 1)


@pytest.mark.parametrize("written", ["", "2025-02-30", "2025年13月1日", "March 1", "0",
                                     "3000000", "2025-3", True])
def test_dates_that_are_not_dates_are_refused(written):
    """An impossible day or a word is a bad value."""
    with pytest.raises(BadValue):
        parse_date(written)


@pytest.mark.parametrize("written, building, entrance, room, number", [
    ("3-2-1502", "3", "2", "1502", "2-1502"),
    ("3栋2单元1502", "3", "2", "1502", "2-1502"),
    ("3栋2单元1502室", "3", "2", "1502", "2-1502"),
    ("3号楼1502", "3", "", "1502", "1502"),
    ("3幢-1502", "3", "", "1502", "1502"),
    ("A座1502", "A", "", "1502", "1502"),
    ("3-1502", "3", "", "1502", "1502"),
    ("１２－１－０３０２", "12", "1", "0302", "1-0302"),
    ("1502", None, "", "1502", "1502"),
    ("2单元1502", None, "2", "1502", "2-1502"),
])
def test_unit_numbers_in_both_forms(written, building, entrance, room, number):
    """3-2-1502 and 3栋2单元1502 are building 3, entrance 2, room 1502."""
    code = parse_unit_code(written)
    assert (code.building, code.entrance, code.room, code.number) == \
        (building, entrance, room, number)


@pytest.mark.parametrize("written", ["", "3栋2单元", "三栋1502", "3/2/1502", "3--1502"])
def test_unit_numbers_that_say_nothing_are_refused(written):
    """A code that names no room is a bad value."""
    with pytest.raises(BadValue):
        parse_unit_code(written)


def test_building_spellings_share_a_key_and_new_ones_get_a_suffix():
    """3栋, 3幢 and 3号楼 are one building; a bare 3 is created as 3栋."""
    assert {building_key(n) for n in ("3栋", "3幢", "3号楼", " 3 ", "３栋")} == {"3"}
    assert building_key("B座") == "b"
    assert (building_name("3"), building_name("B座")) == ("3栋", "B座")


def test_floor_from_the_room_number():
    """1502 is on floor 15, 302 and 0302 on floor 3; B12 says nothing."""
    assert [floor_of(r) for r in ("1502", "302", "0302", "B12", "12")] == [15, 3, 3, None, None]


def test_headers_match_in_english_and_chinese_ignoring_brackets_and_case():
    """应收金额（元）, Due Date and 房号 find their fields; unknown columns are listed."""
    assert normalise("应收金额（元）") == "应收金额"
    assert normalise(" Due_Date* ") == "duedate"
    m = map_headers(ImportKind.BILLS, ["单据号", "房号", "应收金额（元）", "Due Date", "备注"])
    assert m.columns == {"external_id": 0, "unit": 1, "amount": 2, "due_date": 3}
    assert m.unused == ["备注"] and m.missing == []


def test_a_community_alias_maps_a_column_the_built_in_table_does_not_know():
    """本期应收 means nothing built in; with the community's alias it is the amount."""
    headers = ["单据号", "房号", "本期应收", "应缴日期"]
    assert map_headers(ImportKind.BILLS, headers).missing == ["amount"]
    assert map_headers(ImportKind.BILLS, headers, {"本期应收": "amount"}).missing == []
