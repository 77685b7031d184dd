"""The header table: for each kind of file, its fields and the column names that mean
them, in English and as Chinese billing systems export them. A community adds its own
names on the import page (HeaderAlias); these are the built-in ones."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from ..models import ImportKind


@dataclass(frozen=True)
class Field:
    name: str
    label: object
    aliases: tuple[str, ...]
    required: bool = False


# Columns that name the unit a contact, bill or payment belongs to.
UNIT_REF = (
    Field("unit_external_id", _l("Unit id in the billing system"),
          ("房屋编号", "房屋ID", "房产编号", "资源编号", "房屋编码", "unit_id", "unit_external_id")),
    Field("unit", _l("Unit number"), ("房号", "房间号", "房屋", "房间", "单元房号", "unit",
                                      "unit_number", "room")),
    Field("building", _l("Building"), ("楼栋", "楼号", "楼栋名称", "楼宇", "building")),
    Field("entrance", _l("Entrance"), ("单元", "单元号", "entrance")),
)
COMMUNITY = Field("community", _l("Community"), ("小区", "项目", "小区名称", "项目名称",
                                                 "管理处", "community"))

FIELDS: dict[ImportKind, tuple[Field, ...]] = {
    ImportKind.BUILDINGS: (
        Field("name", _l("Building"), ("楼栋", "楼栋名称", "楼号", "楼宇", "building", "name"),
              required=True),
        COMMUNITY,
        Field("address", _l("Address"), ("地址", "楼栋地址", "详细地址", "address")),
        Field("floors", _l("Floors"), ("楼层数", "总层数", "层数", "总楼层", "floors")),
        Field("lat", _l("Latitude"), ("纬度", "lat", "latitude")),
        Field("lon", _l("Longitude"), ("经度", "lon", "lng", "longitude")),
    ),
    ImportKind.UNITS: (
        Field("unit", _l("Unit number"), UNIT_REF[1].aliases, required=True),
        Field("external_id", _l("Unit id in the billing system"), UNIT_REF[0].aliases +
              ("external_id",)),
        UNIT_REF[2], UNIT_REF[3], COMMUNITY,
        Field("floor", _l("Floor"), ("楼层", "所在楼层", "floor")),
        Field("area", _l("Floor area (m²)"), ("建筑面积", "面积", "计费面积", "area", "area_m2")),
        Field("use", _l("Use"), ("房屋用途", "用途", "房屋类型", "物业类型", "use")),
        Field("occupancy", _l("Occupancy"), ("房屋状态", "居住状态", "入住状态", "occupancy")),
    ),
    ImportKind.CONTACTS: (
        *UNIT_REF,
        Field("name", _l("Name"), ("业主姓名", "客户姓名", "客户名称", "姓名", "联系人", "业主",
                                   "name"), required=True),
        Field("external_id", _l("Customer id"), ("客户编号", "客户ID", "联系人编号", "contact_id",
                                                 "external_id")),
        Field("phone", _l("Phone"), ("联系电话", "手机号", "手机号码", "手机", "电话", "phone",
                                     "mobile")),
        Field("kind", _l("Owner, tenant or finance"), ("身份", "客户类型", "联系人类型", "类型",
                                                       "kind", "role")),
        Field("company", _l("Company"), ("公司", "公司名称", "单位名称", "company")),
    ),
    ImportKind.BILLS: (
        Field("external_id", _l("Bill id"), ("单据号", "账单编号", "账单号", "应收单号", "bill_id",
                                             "external_id"), required=True),
        *UNIT_REF,
        Field("fee_type", _l("Fee type"), ("费用类型", "收费项目", "费项", "费用名称", "fee_type",
                                           "fee")),
        Field("period", _l("Period"), ("账期", "所属期", "计费月份", "所属月份", "period")),
        Field("period_start", _l("Billed from"), ("计费开始", "计费开始日期", "开始日期",
                                                  "计费起始日期", "period_start")),
        Field("period_end", _l("Billed until"), ("计费结束", "计费结束日期", "结束日期",
                                                 "计费截止日期", "period_end")),
        Field("amount", _l("Amount"), ("应收金额", "应收", "应缴金额", "金额", "amount",
                                       "amount_due"), required=True),
        Field("due_date", _l("Due date"), ("应缴日期", "应收日期", "缴费期限", "到期日", "due_date",
                                           "due"), required=True),
    ),
    ImportKind.PAYMENTS: (
        Field("external_id", _l("Payment id"), ("单据号", "收据号", "收款单号", "缴费单号", "流水号",
                                                "payment_id", "external_id"), required=True),
        *UNIT_REF,
        Field("amount", _l("Amount"), ("实收金额", "缴费金额", "收款金额", "金额", "amount"),
              required=True),
        Field("paid_on", _l("Paid on"), ("缴费日期", "收款日期", "实收日期", "支付日期", "paid_on",
                                         "date"), required=True),
        Field("bill", _l("Bill id it pays"), ("账单编号", "应收单号", "关联账单", "bill_id", "bill")),
        Field("method", _l("Method"), ("缴费方式", "支付方式", "收款方式", "method")),
        Field("reverses", _l("Payment id it reverses"), ("冲销单据号", "原单据号", "被冲销单据",
                                                          "冲红单号", "reverses")),
        Field("reference", _l("Reference given at the door"), ("参考号", "交易号", "凭证号",
                                                                "收据编号", "reference")),
    ),
}

KIND_LABELS = {
    ImportKind.BUILDINGS: _l("Buildings"),
    ImportKind.UNITS: _l("Units"),
    ImportKind.CONTACTS: _l("Contacts"),
    ImportKind.BILLS: _l("Bills"),
    ImportKind.PAYMENTS: _l("Payments"),
}

_BRACKETS = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]")
_SPACE = re.compile(r"[\s_\-:：*]+")


def normalise(header) -> str:
    """'应收金额（元）', ' Due_Date ', 'DUE DATE*' -> '应收金额', 'duedate', 'duedate'."""
    text = unicodedata.normalize("NFKC", str(header or "")).replace("\ufeff", "")
    text = _BRACKETS.sub("", text)
    return _SPACE.sub("", text).lower()


def field(kind: ImportKind, name: str) -> Field:
    return next(f for f in FIELDS[kind] if f.name == name)


@dataclass(frozen=True)
class Mapping:
    """Which column of the file holds which field."""

    columns: dict[str, int]  # field name -> column index
    headers: list[str]  # as written in the file
    unused: list[str]  # headers no field takes
    missing: list[str]  # required fields with no column
    doubled: list[tuple[str, list[str]]]  # a field named by two columns


def map_headers(kind: ImportKind, headers: list, extra: dict[str, str] | None = None) -> Mapping:
    """Match the file's header row against the built-in names and `extra` (normalised
    alias -> field, the community's own). The first column that names a field wins."""
    lookup: dict[str, str] = {}
    for f in FIELDS[kind]:
        for alias in (f.name, *f.aliases):
            lookup.setdefault(normalise(alias), f.name)
    lookup.update(extra or {})
    columns: dict[str, int] = {}
    seen: dict[str, list[str]] = {}
    unused = []
    written = [str(h if h is not None else "").strip() for h in headers]
    for i, header in enumerate(written):
        name = lookup.get(normalise(header))
        if name is None:
            if header:
                unused.append(header)
            continue
        seen.setdefault(name, []).append(header)
        columns.setdefault(name, i)
    missing = [f.name for f in FIELDS[kind] if f.required and f.name not in columns]
    doubled = [(name, hs) for name, hs in seen.items() if len(hs) > 1]
    return Mapping(columns, written, unused, missing, doubled)
