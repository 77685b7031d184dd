"""Imports from the billing system, through real-looking files written here (each
encoding, XLSX, Chinese and English headers, every date and amount form), on SQLite
and PostgreSQL: all or nothing per file, idempotent by external id."""
from __future__ import annotations

import csv
import io
import uuid
from datetime import date, datetime, timedelta, timezone

import openpyxl
import pytest
from sqlalchemy import func, select

from fieldapp.domain.allocation import BillDue, PaymentIn, allocate
from fieldapp.domain.visits import check_visit
from fieldapp.extensions import db
from fieldapp.imports.pipeline import run_import
from fieldapp.models import (
    AuditEvent,
    Bill,
    Building,
    Community,
    Contact,
    ContactKind,
    FieldPayment,
    HeaderAlias,
    ImportKind,
    ImportStatus,
    Occupancy,
    Payment,
    Promise,
    PromiseStatus,
    Role,
    Unit,
)
from fieldapp.photos.storage import storage
from fieldapp.visits.services import record_visit

from .factories import TODAY, make_community, make_user

UNITS = [["小区", "楼栋", "单元", "房号", "楼层", "建筑面积", "房屋状态", "房屋编号"],
         ["阳光花园", "3栋", "2", "1502", "15", "89.5", "自住", "U-3-2-1502"],
         ["阳光花园", "3栋", "1", "1502", "", "102.3㎡", "出租", "U-3-1-1502"],
         ["阳光花园", "", "", "5-0301", "", "120", "空置", "U-5-0301"]]
BILLS = [["单据号", "房号", "收费项目", "计费开始", "计费结束", "应收金额（元）", "应缴日期"],
         ["B-1", "3-2-1502", "物业管理费", "2025/3/1", "2025/3/31", "1,234.50", "2025年3月15日"],
         ["B-2", "3栋2单元1502", "物业管理费", "2025-04-01", "2025-04-30", "¥1,234.50",
          "2025/4/15"],
         ["B-3", "3-1-1502", "水费", "2025.4.1", "2025.4.30", "￥80", "45762"],
         ["B-4", "5-0301", "停车费", "20250501", "20250531", "300.00元", "2025-05-15"]]


def write_csv(path, rows, encoding="utf-8"):
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def write_xlsx(path, rows):
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def run(kind, path, **kw):
    outcome = run_import(db.session, kind, path, today=TODAY, **kw)
    db.session.commit()
    return outcome


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def unit(ext: str) -> Unit:
    db.session.expire_all()
    return db.session.scalar(select(Unit).where(Unit.external_id == ext))


@pytest.fixture
def estate(app, tmp_path):
    """The units of UNITS, imported from a GB18030 file."""
    outcome = run(ImportKind.UNITS, write_csv(tmp_path / "units.csv", UNITS, "gb18030"))
    assert outcome.status == ImportStatus.DONE, outcome.problems
    return outcome


def test_units_from_gb18030_with_chinese_headers_create_community_and_buildings(estate):
    """Both unit number forms and a 小区 column: the community, two buildings and three
    units with floor, area and occupancy; 1502 of entrance 1 and 2 are two units."""
    assert estate.report["encoding"] == "gb18030"
    assert estate.report["counts"] == {"created": 3, "updated": 0, "unchanged": 0,
                                       "communities_created": 1, "buildings_created": 2,
                                       "summaries": 0}
    assert db.session.scalar(select(Community.name)) == "阳光花园"
    assert sorted(db.session.scalars(select(Building.name))) == ["3栋", "5栋"]
    a, b, c = unit("U-3-2-1502"), unit("U-3-1-1502"), unit("U-5-0301")
    assert (a.label, a.entrance, a.floor, a.area_m2, a.occupancy) == \
        ("3栋-2-1502", "2", 15, 89.5, Occupancy.OWNER)
    assert (b.label, b.floor, b.area_m2, b.occupancy) == ("3栋-1-1502", 15, 102.3,
                                                          Occupancy.TENANT)
    assert (c.label, c.floor, c.occupancy) == ("5栋-0301", 3, Occupancy.VACANT)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_bills_in_each_encoding_with_every_date_and_amount_form(estate, tmp_path, encoding):
    """UTF-8, UTF-8 with BOM, GB18030 and GBK are sniffed, not asked; separators, ¥, ￥
    and 元, and dates as 2025-04-01, 2025/4/15, 2025.4.1, 2025年3月15日, 20250501 or an
    Excel serial all land as the same bills. (GBK has only the full-width ￥.)"""
    rows = [[c.replace("¥", "￥") if encoding == "gbk" else c for c in r] for r in BILLS]
    outcome = run(ImportKind.BILLS, write_csv(tmp_path / "bills.csv", rows, encoding))
    assert outcome.status == ImportStatus.DONE, outcome.problems
    assert outcome.report["encoding"] == ("gb18030" if encoding == "gbk" else encoding)
    bills = {b.external_id: b for b in db.session.scalars(select(Bill))}
    assert {k: (b.amount_fen, b.due_date, b.period, b.fee_type) for k, b in bills.items()} == {
        "B-1": (123450, date(2025, 3, 15), "2025-03", "management"),
        "B-2": (123450, date(2025, 4, 15), "2025-04", "management"),
        "B-3": (8000, date(2025, 4, 15), "2025-04", "water"),
        "B-4": (30000, date(2025, 5, 15), "2025-05", "parking")}
    a = unit("U-3-2-1502")
    assert (a.arrears_fen, a.unpaid_fen, a.oldest_unpaid_due) == (246900, 246900,
                                                                   date(2025, 3, 15))


def test_xlsx_with_typed_cells_dates_and_serials(estate, tmp_path):
    """An Excel sheet: real date cells, numbers as amounts, a serial in a text date
    column and English headers."""
    rows = [["Bill ID", "Unit", "Fee", "Amount", "Due date"],
            ["X-1", "3-2-1502", "management", 1234.5, datetime(2025, 3, 15)],
            ["X-2", "3-2-1502", "water", 80, 45762],
            ["X-3", "5-0301", "parking", "1,000.00", "2025/5/15"]]
    outcome = run(ImportKind.BILLS, write_xlsx(tmp_path / "bills.xlsx", rows))
    assert outcome.status == ImportStatus.DONE, outcome.problems
    assert outcome.report["format"] == "xlsx"
    got = {b.external_id: (b.amount_fen, b.due_date) for b in db.session.scalars(select(Bill))}
    assert got == {"X-1": (123450, date(2025, 3, 15)), "X-2": (8000, date(2025, 4, 15)),
                   "X-3": (100000, date(2025, 5, 15))}


def test_several_bad_rows_are_all_reported_and_nothing_is_written(estate, tmp_path):
    """Every bad row is listed with its line, column and reason; the good rows of the
    same file are not written either."""
    rows = [BILLS[0], BILLS[1],
            ["B-5", "3-2-1502", "物业管理费", "", "", "12,34.5.6", "2025-06-15"],
            ["B-6", "9-9-999", "物业管理费", "", "", "100", "2025-02-30"],
            BILLS[2],
            ["B-1", "3-2-1502", "物业管理费", "", "", "100", "2025-06-15"],
            ["", "3-2-1502", "物业管理费", "", "", "-5", "2025-06-15"]]
    outcome = run(ImportKind.BILLS, write_csv(tmp_path / "bills.csv", rows))
    assert outcome.status == ImportStatus.REJECTED
    found = [(p.line, p.column) for p in outcome.problems]
    assert found == [(3, "应收金额（元）"), (4, "房号"), (4, "应缴日期"), (6, "单据号"),
                     (7, "单据号"), (7, "应收金额（元）")]
    assert outcome.report["bad_rows"] == 4
    assert "cannot be negative" in outcome.problems[5].reason
    assert count(Bill) == 0
    assert unit("U-3-2-1502").arrears_fen == 0


def test_the_fast_path_checks_what_the_careful_path_checks(estate, tmp_path):
    """Common rows take a quicker parser: an end date with no start date is still
    checked, and a blank fee type is still the management fee."""
    rows = [BILLS[0],
            ["B-7", "3-2-1502", " ", "", "2025-06-31", "100", "2025-06-15"]]
    outcome = run(ImportKind.BILLS, write_csv(tmp_path / "bad-end.csv", rows))
    assert outcome.status == ImportStatus.REJECTED
    assert [(p.line, p.column) for p in outcome.problems] == [(2, "计费结束")]
    rows[1][4] = "2025-06-30"
    outcome = run(ImportKind.BILLS, write_csv(tmp_path / "good-end.csv", rows))
    assert outcome.status == ImportStatus.DONE, outcome.problems
    bill = db.session.scalar(select(Bill).where(Bill.external_id == "B-7"))
    assert (bill.fee_type, bill.period, bill.amount_fen) == ("management", "2025-06", 10000)


def test_a_missing_column_is_named_with_the_names_it_may_have(estate, tmp_path):
    """A file without a due date column is refused before any row is read."""
    rows = [["单据号", "房号", "应收金额"], ["B-1", "3-2-1502", "100"]]
    outcome = run(ImportKind.BILLS, write_csv(tmp_path / "bills.csv", rows))
    assert outcome.status == ImportStatus.REJECTED
    [problem] = outcome.problems
    assert problem.line == 1 and "应缴日期" in problem.reason


def test_the_same_file_twice_changes_nothing(estate, tmp_path):
    """A second import of the same bills finds every row unchanged and moves no unit."""
    path = write_csv(tmp_path / "bills.csv", BILLS)
    run(ImportKind.BILLS, path)
    before = {u.id: u.updated_at for u in db.session.scalars(select(Unit))}
    again = run(ImportKind.BILLS, path)
    assert again.report["counts"] == {"created": 0, "updated": 0, "unchanged": 4,
                                      "summaries": 0}
    assert count(Bill) == 4
    db.session.expire_all()
    assert {u.id: u.updated_at for u in db.session.scalars(select(Unit))} == before


def test_a_changed_row_updates_its_record_by_external_id(estate, tmp_path):
    """A bill whose amount changed in the billing system is updated, not added."""
    run(ImportKind.BILLS, write_csv(tmp_path / "bills.csv", BILLS))
    changed = [row[:] for row in BILLS]
    changed[1][5] = "1,000.00"
    outcome = run(ImportKind.BILLS, write_csv(tmp_path / "bills2.csv", changed))
    assert outcome.report["counts"]["updated"] == 1
    assert outcome.report["counts"]["unchanged"] == 3
    assert count(Bill) == 4
    assert unit("U-3-2-1502").arrears_fen == 100000 + 123450


PAYMENTS = [["单据号", "房屋编号", "实收金额", "缴费日期", "账单编号", "缴费方式", "冲销单据号"],
            ["P-1", "U-3-2-1502", "1,500.00", "2025/3/20", "", "微信", ""],
            ["P-2", "U-3-2-1502", "-300", "2025/3/25", "", "微信", "P-1"],
            ["P-3", "U-3-1-1502", "80", "2025-04-20", "B-3", "现金", ""],
            ["P-4", "U-3-1-1502", "-30", "2025-04-21", "", "现金", ""]]


def test_payments_with_a_reversal_and_a_refund(estate, tmp_path):
    """A partial reversal counts the payment as smaller, a refund re-opens the newest
    bill; the unit's arrears are those allocation gives; re-importing changes nothing."""
    run(ImportKind.BILLS, write_csv(tmp_path / "bills.csv", BILLS))
    outcome = run(ImportKind.PAYMENTS, write_csv(tmp_path / "payments.csv", PAYMENTS))
    assert outcome.status == ImportStatus.DONE, outcome.problems
    p1, p2 = (db.session.scalar(select(Payment).where(Payment.external_id == e))
              for e in ("P-1", "P-2"))
    assert p2.reverses_id == p1.id and p2.amount_fen == -30000
    a = unit("U-3-2-1502")
    bills = list(db.session.scalars(select(Bill).where(Bill.unit_id == a.id)))
    expected = allocate([BillDue(b.id, b.amount_fen, b.due_date) for b in bills],
                        [PaymentIn(p1.id, 150000), PaymentIn(p2.id, -30000, reverses=p1.id)])
    assert {b.id: b.paid_fen for b in bills} == expected.paid_fen
    assert a.arrears_fen == 246900 - 120000
    assert unit("U-3-1-1502").arrears_fen == 3000
    again = run(ImportKind.PAYMENTS, write_csv(tmp_path / "payments.csv", PAYMENTS))
    assert again.report["counts"]["unchanged"] == 4 and count(Payment) == 4


@pytest.mark.parametrize("row, column, words", [
    (["P-9", "U-3-2-1502", "-2000", "2025/3/26", "", "", "P-1"], "冲销单据号", "more than"),
    (["P-9", "U-3-2-1502", "-10", "2025/3/26", "", "", "P-404"], "冲销单据号", "No payment"),
    (["P-9", "U-3-2-1502", "10", "2025/3/26", "", "", "P-1"], "实收金额", "negative"),
    (["P-9", "U-3-2-1502", "-10", "2025/3/26", "", "", "P-2"], "冲销单据号", "itself"),
    (["P-9", "U-3-1-1502", "-10", "2025/3/26", "", "", "P-1"], "冲销单据号", "another unit"),
    (["P-9", "U-3-2-1502", "-10", "2025/3/1", "", "", "P-1"], "冲销单据号", "before"),
    (["P-9", "U-3-2-1502", "10", "2025/3/26", "B-3", "", ""], "账单编号", "another unit"),
    (["P-9", "U-3-2-1502", "0", "2025/3/26", "", "", ""], "实收金额", "zero"),
])
def test_bad_reversals_and_payments_are_bad_rows(estate, tmp_path, row, column, words):
    """A reversal of more than is left, of no payment, positive, of a reversal, of
    another unit's payment or dated before it; a bill of another unit; zero."""
    run(ImportKind.BILLS, write_csv(tmp_path / "bills.csv", BILLS))
    run(ImportKind.PAYMENTS, write_csv(tmp_path / "payments.csv", PAYMENTS[:3]))
    outcome = run(ImportKind.PAYMENTS, write_csv(tmp_path / "more.csv", [PAYMENTS[0], row]))
    assert outcome.status == ImportStatus.REJECTED
    [problem] = outcome.problems
    assert (problem.line, problem.column) == (2, column)
    assert words in problem.reason
    assert count(Payment) == 2


def test_a_refund_larger_than_all_paid_rolls_back_the_whole_file(estate, tmp_path):
    """The refund is found only when the unit is allocated, after the rows were
    written: the whole file is rolled back, the good payments of other units too."""
    run(ImportKind.BILLS, write_csv(tmp_path / "bills.csv", BILLS))
    rows = [*PAYMENTS[:3], ["P-7", "U-5-0301", "-50", "2025-05-20", "", "", ""]]
    outcome = run(ImportKind.PAYMENTS, write_csv(tmp_path / "payments.csv", rows))
    assert outcome.status == ImportStatus.REJECTED
    assert [(p.line, p.column, p.value) for p in outcome.problems] == [(4, "实收金额", "-50.00")]
    assert count(Payment) == 0
    assert unit("U-3-2-1502").arrears_fen == 246900


def test_a_bad_units_file_creates_no_community_or_building(app, tmp_path):
    """A units file with one bad row leaves no trace: no community, building or unit."""
    rows = [*UNITS, ["阳光花园", "7栋", "", "B1", "", "", "", "U-7"]]
    outcome = run(ImportKind.UNITS, write_csv(tmp_path / "units.csv", rows))
    assert outcome.status == ImportStatus.REJECTED
    assert [(p.line, p.column) for p in outcome.problems] == [(5, "楼层")]
    assert (count(Community), count(Building), count(Unit)) == (0, 0, 0)


def test_a_payment_reported_at_the_door_is_confirmed_not_counted_twice(estate, tmp_path):
    """The housekeeper's receipt number on an imported payment confirms the door
    payment: the money counts once, and a second import confirms nothing more."""
    run(ImportKind.BILLS, write_csv(tmp_path / "bills.csv", BILLS))
    a = unit("U-3-2-1502")
    hk = make_user(Role.HOUSEKEEPER, buildings=[a.building])
    form = {"client_uuid": str(uuid.uuid4()), "outcome": "paid_on_site",
            "paid_amount": "500", "payment_ref": "WX-778"}
    data = check_visit(form, photo_count=0, arrears_fen=a.arrears_fen, today=TODAY,
                       promise_horizon_days=30)
    record_visit(db.session, storage(), a, hk, data, [], today=TODAY, tz=timezone.utc)
    db.session.commit()
    rows = [["单据号", "房号", "实收金额", "缴费日期", "参考号"],
            ["P-10", "3-2-1502", "500", "2025-11-20", "wx-778"]]
    outcome = run(ImportKind.PAYMENTS, write_csv(tmp_path / "payments.csv", rows))
    assert outcome.report["counts"]["confirmed"] == 1
    fp = db.session.scalar(select(FieldPayment))
    payment = db.session.scalar(select(Payment))
    assert fp.confirmed_payment_id == payment.id
    assert unit("U-3-2-1502").arrears_fen == 246900 - 50000
    again = run(ImportKind.PAYMENTS, write_csv(tmp_path / "payments.csv", rows))
    assert again.report["counts"]["confirmed"] == 0 and count(Payment) == 1


def test_an_import_keeps_promises_up_to_date(estate, tmp_path):
    """A payment that covers an open promise makes it kept, and the unit's row says so."""
    run(ImportKind.BILLS, write_csv(tmp_path / "bills.csv", BILLS))
    a = unit("U-3-2-1502")
    db.session.add(Promise(unit_id=a.id, made_on=TODAY - timedelta(days=5),
                           due_date=TODAY + timedelta(days=5), amount_fen=100000))
    db.session.commit()
    rows = [["单据号", "房屋编号", "实收金额", "缴费日期"],
            ["P-20", "U-3-2-1502", "1000", (TODAY - timedelta(days=1)).isoformat()]]
    run(ImportKind.PAYMENTS, write_csv(tmp_path / "payments.csv", rows))
    db.session.expire_all()
    assert db.session.scalar(select(Promise.status)) == PromiseStatus.KEPT
    assert unit("U-3-2-1502").promise_status == "kept"


def test_contacts_are_matched_by_customer_id_or_by_unit_and_kind(estate, tmp_path):
    """An owner's new phone updates the owner; a tenant is added; the same file again
    changes nothing."""
    rows = [["房屋编号", "业主姓名", "联系电话", "身份", "客户编号"],
            ["U-3-2-1502", "王建国", "13812345678", "业主", ""],
            ["U-3-1-1502", "欧阳娜", "13900001111", "租户", "C-9"]]
    first = run(ImportKind.CONTACTS, write_csv(tmp_path / "c.csv", rows))
    assert first.report["counts"]["created"] == 2
    rows[1][2] = "13812340000"
    second = run(ImportKind.CONTACTS, write_csv(tmp_path / "c2.csv", rows))
    assert second.report["counts"] == {"created": 0, "updated": 1, "unchanged": 1,
                                       "summaries": 0}
    owner = db.session.scalar(select(Contact).where(Contact.kind == ContactKind.OWNER))
    tenant = db.session.scalar(select(Contact).where(Contact.kind == ContactKind.TENANT))
    assert (owner.phone, owner.surname) == ("13812340000", "王")
    assert (tenant.surname, tenant.external_id) == ("欧阳", "C-9")


def test_buildings_file_sets_address_floors_and_coordinates(app, tmp_path):
    """A buildings file creates its community and buildings, then updates them."""
    rows = [["小区", "楼栋", "地址", "总层数", "纬度", "经度"],
            ["阳光花园", "3栋", "上海市浦东新区阳光路3号", "18", "31.2", "121.5"]]
    assert run(ImportKind.BUILDINGS, write_csv(tmp_path / "b.csv", rows)
               ).report["counts"]["created"] == 1
    rows[1][3] = "20"
    again = run(ImportKind.BUILDINGS, write_csv(tmp_path / "b.csv", rows))
    assert again.report["counts"]["updated"] == 1
    b = db.session.scalar(select(Building))
    assert (b.name, b.address, b.floors, b.lat, b.lon) == \
        ("3栋", "上海市浦东新区阳光路3号", 20, 31.2, 121.5)


def test_a_community_alias_lets_a_column_through(estate, tmp_path):
    """本期应收 is not a known name; once the community adds it, the file imports."""
    rows = [["单据号", "房号", "本期应收", "应缴日期"], ["B-1", "3-2-1502", "100", "2025-03-15"]]
    path = write_csv(tmp_path / "bills.csv", rows)
    community_id = db.session.scalar(select(Community.id))
    assert run(ImportKind.BILLS, path).status == ImportStatus.REJECTED
    db.session.add(HeaderAlias(community_id=community_id, kind=ImportKind.BILLS,
                               field="amount", alias="本期应收"))
    db.session.commit()
    assert run(ImportKind.BILLS, path).status == ImportStatus.DONE


def test_a_dry_run_counts_everything_and_writes_nothing(estate, tmp_path):
    """Check only: the counts of a real import, and no bill, summary or audit event."""
    events = count(AuditEvent)
    outcome = run(ImportKind.BILLS, write_csv(tmp_path / "bills.csv", BILLS), dry_run=True)
    assert outcome.status == ImportStatus.DONE
    assert outcome.report["counts"]["created"] == 4
    assert (count(Bill), count(AuditEvent)) == (0, events)
    assert unit("U-3-2-1502").arrears_fen == 0


def test_an_import_is_one_audit_event_with_its_counts(estate, tmp_path):
    """One event per file, not per row, carrying the file name and the counts."""
    run(ImportKind.BILLS, write_csv(tmp_path / "bills.csv", BILLS))
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "import.bills"))
    assert event.detail["file"] == "bills.csv"
    assert (event.detail["rows"], event.detail["created"]) == (4, 4)


def test_two_communities_need_one_to_be_chosen_for_unit_numbers(estate, tmp_path):
    """With a second community holding a 3栋 too, a bare unit number names the chosen
    community's unit, and without a choice it is ambiguous."""
    other = make_community(name="绿地")
    run(ImportKind.UNITS, write_csv(tmp_path / "u.csv", [UNITS[0], ["绿地", "3栋", "2", "1502",
                                                                     "", "", "", "G-1"]]))
    rows = [["单据号", "房号", "应收金额", "应缴日期"], ["B-1", "3-2-1502", "100", "2025-03-15"]]
    path = write_csv(tmp_path / "bills.csv", rows)
    unsure = run(ImportKind.BILLS, path)
    assert unsure.status == ImportStatus.REJECTED and "community" in unsure.problems[0].reason
    assert run(ImportKind.BILLS, path, community_id=other.id).status == ImportStatus.DONE
    assert db.session.scalar(select(Bill.unit_id)) == unit("G-1").id


def test_a_file_that_is_not_a_table_fails_with_a_reason(app, tmp_path):
    """Binary junk and an empty file are failures that say why."""
    junk = tmp_path / "junk.csv"
    junk.write_bytes(b"\x00\x01\x02garbage")
    assert "not a CSV" in run(ImportKind.BILLS, junk).message
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert "empty" in run(ImportKind.BILLS, empty).message


def test_the_sample_files_of_the_readme_import_in_order(app):
    """tests/data/import/ holds one sample per kind; imported in the README's order they
    build a small estate with its arrears, and a second round changes nothing."""
    from pathlib import Path
    folder = Path(__file__).parent / "data" / "import"
    kinds = ["buildings", "units", "contacts", "bills", "payments"]
    for kind in kinds:
        outcome = run(ImportKind(kind), folder / f"{kind}.csv")
        assert outcome.status == ImportStatus.DONE, (kind, outcome.problems, outcome.message)
    assert (count(Building), count(Unit), count(Contact), count(Bill), count(Payment)) == \
        (2, 4, 4, 4, 5)
    assert unit("YG-1-1-0301").arrears_fen == 123450
    assert unit("YG-1-2-0301").arrears_fen == 20000
    assert unit("YG-2-101").arrears_fen == 5000
    for kind in kinds:
        counts = run(ImportKind(kind), folder / f"{kind}.csv").report["counts"]
        assert counts["created"] == counts["updated"] == 0, (kind, counts)
