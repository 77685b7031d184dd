"""The five kinds of file: what a row of each must say, how it is matched to what is
already stored (by the billing system's id, else by its natural key), and how a file of
them is written."""
from __future__ import annotations

import re
from types import SimpleNamespace

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..domain.allocation import check_reversal
from ..domain.money import format_yuan
from ..domain.import_values import (
    BadValue,
    building_key,
    cached,
    building_name,
    clean,
    floor_of,
    parse_amount,
    parse_date,
    parse_unit_code,
)
from ..models import (
    Bill,
    Building,
    Community,
    Contact,
    ContactKind,
    FieldPayment,
    ImportKind,
    Occupancy,
    Payment,
    Policy,
    Unit,
    UnitUse,
    utcnow,
)
from ..models.bulk import insert_rows, next_ids, update_rows
from .pipeline import AMBIGUOUS, Importer, UnitIndex

IN_CHUNK = 5000

USES = {"住宅": UnitUse.RESIDENCE, "住宅用房": UnitUse.RESIDENCE, "住房": UnitUse.RESIDENCE,
        "公寓": UnitUse.RESIDENCE, "商铺": UnitUse.SHOP, "商业": UnitUse.SHOP, "店铺": UnitUse.SHOP,
        "底商": UnitUse.SHOP, "办公": UnitUse.OFFICE, "写字楼": UnitUse.OFFICE,
        "办公室": UnitUse.OFFICE, "车位": UnitUse.PARKING, "车库": UnitUse.PARKING,
        "停车位": UnitUse.PARKING, **{u.value: u for u in UnitUse}}
OCCUPANCIES = {"自住": Occupancy.OWNER, "业主自住": Occupancy.OWNER, "已入住": Occupancy.OWNER,
               "入住": Occupancy.OWNER, "出租": Occupancy.TENANT, "租赁": Occupancy.TENANT,
               "租户": Occupancy.TENANT, "空置": Occupancy.VACANT, "空房": Occupancy.VACANT,
               "未入住": Occupancy.VACANT, "未售": Occupancy.VACANT,
               **{o.value: o for o in Occupancy}}
CONTACT_KINDS = {"业主": ContactKind.OWNER, "产权人": ContactKind.OWNER, "房主": ContactKind.OWNER,
                 "租户": ContactKind.TENANT, "租客": ContactKind.TENANT,
                 "承租人": ContactKind.TENANT, "住户": ContactKind.TENANT,
                 "财务": ContactKind.FINANCE, "财务联系人": ContactKind.FINANCE,
                 **{k.value: k for k in ContactKind}}
FEE_TYPES = {"物业费": "management", "物业管理费": "management", "物业服务费": "management",
             "管理费": "management", "水费": "water", "公摊水费": "water", "电费": "electricity",
             "公摊电费": "electricity", "停车费": "parking", "车位费": "parking",
             "车位管理费": "parking"}
DOUBLE_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐")
_PERIOD = re.compile(r"(\d{4})\s*[-/.年]?\s*(\d{1,2})\s*月?")


def _choice(table: dict, what):
    def parse(raw):
        found = table.get(clean(raw).lower().replace(" ", ""))
        if found is None:
            raise BadValue(_l("Not one of: %(choices)s.", choices=what))
        return found
    return parse


def _int_in(low: int, high: int):
    def parse(raw):
        text = clean(raw)
        try:
            number = int(float(text)) if re.fullmatch(r"-?\d+(\.0+)?", text) else None
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            raise BadValue(_l("A whole number from %(low)s to %(high)s.", low=low, high=high))
        return number
    return parse


def _float_in(low: float, high: float, units: tuple[str, ...] = ()):
    def parse(raw):
        text = clean(raw).replace(",", "")
        for unit in units:
            text = text.removesuffix(unit)
        try:
            number = float(text)
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            raise BadValue(_l("A number from %(low)s to %(high)s.", low=low, high=high))
        return number
    return parse


def _period(raw) -> str:
    try:
        day = parse_date(raw)
        return f"{day.year:04d}-{day.month:02d}"
    except BadValue:
        pass
    found = _PERIOD.fullmatch(clean(raw))
    if found is None or not 1 <= int(found.group(2)) <= 12:
        raise BadValue(_l("Not a period: write it like 2025-03 or 2025年3月."))
    return f"{int(found.group(1)):04d}-{int(found.group(2)):02d}"


def surname_of(name: str) -> str:
    return name[:2] if name[:2] in DOUBLE_SURNAMES else name[:1]


def _chunks(items: list, size: int = IN_CHUNK):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _by_external_id(session, columns, ext_column, wanted: list[str], model) -> dict:
    """Stored rows whose billing id is among `wanted`: all of them read at once while
    the table is small next to the file, else looked up a chunk at a time."""
    stored = session.scalar(select(func.count()).select_from(model)
                            .where(ext_column.is_not(None))) or 0
    found = {}
    if stored <= 2 * len(wanted):
        for row in session.execute(select(*columns).where(ext_column.is_not(None))):
            found[row.external_id] = row
        return found
    for chunk in _chunks(wanted):
        for row in session.execute(select(*columns).where(ext_column.in_(chunk))):
            found[row.external_id] = row
    return found


class CommunityIndex:
    """Communities by name and buildings by community and name; new ones on demand."""

    def __init__(self, session, default_id: int | None):
        self.session = session
        self.default_id = default_id
        self.by_name = {clean(name): cid for cid, name in session.execute(
            select(Community.id, Community.name))}
        self.buildings: dict[tuple, int] = {}
        for bid, cid, name in session.execute(select(Building.id, Building.community_id,
                                                     Building.name)):
            key = (cid, building_key(name))
            self.buildings[key] = AMBIGUOUS if key in self.buildings else bid
        self.new_communities: dict[str, str] = {}
        self.new_buildings: dict[tuple, dict] = {}

    def community(self, name: str):
        """A community id, or ("new", name) for one the file names that is not stored."""
        if not name:
            return self.default_id
        if name in self.by_name:
            return self.by_name[name]
        self.new_communities.setdefault(name, name)
        return ("new", name)

    def create(self) -> None:
        """Make the new communities (with the default policy) and buildings."""
        for name in self.new_communities:
            community = Community(name=name[:120])
            self.session.add_all([community, Policy(community=community)])
            self.session.flush()
            self.by_name[name] = community.id
        for (cid, bkey), values in self.new_buildings.items():
            real = self.by_name[cid[1]] if isinstance(cid, tuple) else cid
            building = Building(community_id=real, **values)
            self.session.add(building)
            self.session.flush()
            self.buildings[(cid, bkey)] = building.id

    def community_id(self, cid) -> int:
        return self.by_name[cid[1]] if isinstance(cid, tuple) else cid


class BuildingsImporter(Importer):
    kind = ImportKind.BUILDINGS

    def __init__(self, *args):
        super().__init__(*args)
        self.index = CommunityIndex(self.session, self.community_id)
        self.records: list = []
        self.seen: dict[tuple, int] = {}

    def parse_row(self, line, cells):
        errors = self.problem_count
        name = self.text(cells, "name", 40, line)
        if not name and self.problem_count == errors:
            self.bad(line, "name", "", _l("This column is empty: it is needed."))
        community = self.text(cells, "community", 120, line)
        address = self.text(cells, "address", 200, line)
        floors = self.value(line, cells, "floors", _int_in(1, 200))
        lat = self.value(line, cells, "lat", _float_in(-90, 90))
        lon = self.value(line, cells, "lon", _float_in(-180, 180))
        if (lat is None) != (lon is None) and self.problem_count == errors:
            self.bad(line, "lat" if lat is None else "lon", "",
                     _l("Give both latitude and longitude, or neither."))
        if self.problem_count > errors:
            return
        cid = self.index.community(community)
        if cid is None:
            self.bad(line, "community", "", _no_community())
            return
        key = (cid, building_key(name))
        if key in self.seen:
            self.bad(line, "name", name, _again(self.seen[key]))
            return
        self.seen[key] = line
        self.records.append((line, key, name, address, floors, lat, lon))

    def check_all(self):
        for line, key, name, *_ in self.records:
            if self.index.buildings.get(key) == AMBIGUOUS:
                self.bad(line, "name", name, _l("Two buildings of this community have this "
                                                "name already."))

    def write(self):
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        existing = {b.id: b for b in self.session.scalars(select(Building))}
        for line, key, name, address, floors, lat, lon in self.records:
            building_id = self.index.buildings.get(key)
            if building_id is None:
                values = dict(name=building_name(name), address=address, floors=floors or 1,
                              lat=lat, lon=lon)
                self.index.new_buildings[key] = values
                counts["created"] += 1
                continue
            b = existing[building_id]
            changes = {k: v for k, v in (("address", address or None), ("floors", floors),
                                         ("lat", lat), ("lon", lon))
                       if v is not None and getattr(b, k) != v}
            for k, v in changes.items():
                setattr(b, k, v)
            counts["updated" if changes else "unchanged"] += 1
        counts["communities_created"] = len(self.index.new_communities)
        self.index.create()
        self.session.flush()
        return counts


class UnitsImporter(Importer):
    kind = ImportKind.UNITS

    def __init__(self, *args):
        super().__init__(*args)
        self.index = CommunityIndex(self.session, self.community_id)
        self.records: list = []
        self.seen_ext: dict[str, int] = {}
        self.seen_code: dict[tuple, int] = {}
        self.plan: list = []

    def parse_row(self, line, cells):
        errors = self.problem_count
        raw = self.raw(cells, "unit")
        try:
            code = parse_unit_code(raw)
        except BadValue as e:
            self.bad(line, "unit", clean(raw), e.reason)
            code = None
        building = self.text(cells, "building", 40, line)
        entrance = self.text(cells, "entrance", 10, line)
        community = self.text(cells, "community", 120, line)
        ext = self.text(cells, "external_id", 64, line)
        floor = self.value(line, cells, "floor", _int_in(-10, 200))
        area = self.value(line, cells, "area", _float_in(0, 100_000, ("㎡", "m²", "m2",
                                                                        "平方米", "平米")))
        use = self.value(line, cells, "use", _choice(USES, "住宅 / 商铺 / 办公 / 车位"))
        occupancy = self.value(line, cells, "occupancy",
                               _choice(OCCUPANCIES, "自住 / 出租 / 空置"))
        if code is None:
            return
        building = building or code.building
        entrance = code.entrance or entrance
        if not building:
            self.bad(line, "building", "", _l("Give the building: in its own column or in "
                                              "the unit number (3-2-1502)."))
        number = f"{entrance}-{code.room}" if entrance else code.room
        if len(number) > 20:
            self.bad(line, "unit", clean(raw), _l("At most %(n)s characters.", n=20))
        if floor is None:
            floor = floor_of(code.room)
            if floor is None and self.problem_count == errors:
                self.bad(line, "floor", "", _l("Give the floor: the unit number does not "
                                               "say it."))
        if self.problem_count > errors:
            return
        cid = self.index.community(community)
        if cid is None:
            self.bad(line, "community", "", _no_community())
            return
        key = (cid, building_key(building), number.lower())
        if key in self.seen_code:
            self.bad(line, "unit", clean(raw), _again(self.seen_code[key]))
            return
        if ext and ext in self.seen_ext:
            self.bad(line, "external_id", ext, _again(self.seen_ext[ext]))
            return
        self.seen_code[key] = line
        if ext:
            self.seen_ext[ext] = line
        self.records.append((line, key, building, entrance, number, floor, area, use, occupancy,
                             ext or None))

    def check_all(self):
        stored = {}
        by_code = {}
        for u in self.session.execute(select(Unit.id, Unit.building_id, Unit.number,
                                             Unit.external_id, Unit.floor, Unit.entrance,
                                             Unit.area_m2, Unit.use, Unit.occupancy)):
            stored[u.id] = u
            by_code[(u.building_id, u.number.lower())] = u
        by_ext = {u.external_id: u for u in stored.values() if u.external_id}
        for record in self.records:
            line, (cid, bkey, number_key), building, *_rest, ext = record
            if self.index.buildings.get((cid, bkey)) == AMBIGUOUS:
                self.bad(line, "building", building, _l("Two buildings of this community "
                                                        "have this name already."))
                continue
            building_id = self.index.buildings.get((cid, bkey))
            at_code = by_code.get((building_id, number_key)) if building_id else None
            at_ext = by_ext.get(ext) if ext else None
            if at_ext is not None and at_code is not None and at_ext.id != at_code.id:
                self.bad(line, "unit", record[4], _l("Another unit (billing id %(id)s) has this "
                                                     "number.", id=at_code.external_id or "—"))
                continue
            if at_ext is None and at_code is not None and at_code.external_id and ext:
                self.bad(line, "external_id", ext, _l("This unit has billing id %(id)s in "
                                                      "Doorstep.", id=at_code.external_id))
                continue
            self.plan.append((record, at_ext or at_code))

    def write(self):
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        for record, _stored in self.plan:
            line, key, building, *_ = record
            bkey = key[:2]
            if self.index.buildings.get(bkey) is None:
                floors = max(record[5], 1)
                values = self.index.new_buildings.setdefault(
                    bkey, dict(name=building_name(building), address="", floors=floors))
                values["floors"] = max(values["floors"], floors)
        counts["communities_created"] = len(self.index.new_communities)
        counts["buildings_created"] = len(self.index.new_buildings)
        self.index.create()
        now = utcnow()
        new, changed = [], []
        for record, stored in self.plan:
            line, key, _b, entrance, number, floor, area, use, occupancy, ext = record
            building_id = self.index.buildings[key[:2]]
            if stored is None:
                new.append((building_id, number, floor, entrance, area or 0.0,
                            (use or UnitUse.RESIDENCE).value,
                            (occupancy or Occupancy.OWNER).value, ext, 0, 0, 0, 0, False, now))
                continue
            current = {"building_id": stored.building_id, "number": stored.number,
                       "floor": stored.floor, "entrance": stored.entrance,
                       "area_m2": stored.area_m2, "use": stored.use.value,
                       "occupancy": stored.occupancy.value, "external_id": stored.external_id}
            given = {"building_id": building_id, "number": number, "floor": floor,
                     "entrance": entrance or None, "area_m2": area,
                     "use": use.value if use else None,
                     "occupancy": occupancy.value if occupancy else None, "external_id": ext}
            merged = {k: current[k] if v is None else v for k, v in given.items()}
            if merged != current:
                changed.append({"id": stored.id, **merged, "updated_at": now})
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
        insert_rows(self.session, Unit.__table__,
                    ["building_id", "number", "floor", "entrance", "area_m2", "use",
                     "occupancy", "external_id", "late_fee_waived_fen", "unpaid_fen",
                     "arrears_fen", "broken_promises_in_row", "on_hold", "updated_at"], new)
        update_rows(self.session, Unit.__table__,
                    ["building_id", "number", "floor", "entrance", "area_m2", "use", "occupancy",
                     "external_id", "updated_at"], changed)
        counts["created"] = len(new)
        self.session.expire_all()
        return counts


class ContactsImporter(Importer):
    kind = ImportKind.CONTACTS

    def __init__(self, *args):
        super().__init__(*args)
        self.units = UnitIndex(self.session, self.community_id)
        self.records: list = []
        self.seen: dict = {}

    def parse_row(self, line, cells):
        errors = self.problem_count
        unit_id = self.units.resolve(self, line, cells)
        name = self.text(cells, "name", 80, line)
        if not name and self.problem_count == errors:
            self.bad(line, "name", "", _l("This column is empty: it is needed."))
        ext = self.text(cells, "external_id", 64, line)
        phone = self.text(cells, "phone", 20, line)
        if phone and not re.fullmatch(r"[0-9+\-() ]{3,20}", phone):
            self.bad(line, "phone", phone, _l("Not a phone number."))
        kind = self.value(line, cells, "kind", _choice(CONTACT_KINDS, "业主 / 租户 / 财务"))
        company = self.text(cells, "company", 120, line)
        if self.problem_count > errors or unit_id is None:
            return
        kind = kind or ContactKind.OWNER
        key = ("ext", ext) if ext else ("unit", unit_id, kind, name)
        if key in self.seen:
            self.bad(line, "external_id" if ext else "name", ext or name, _again(self.seen[key]))
            return
        self.seen[key] = line
        self.records.append((line, unit_id, kind, name, phone, company, ext or None))

    def write(self):
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        by_ext, by_unit = {}, {}
        for c in self.session.execute(select(Contact.id, Contact.unit_id, Contact.kind,
                                             Contact.name, Contact.phone, Contact.company,
                                             Contact.external_id)):
            if c.external_id:
                by_ext[c.external_id] = c
            by_unit.setdefault((c.unit_id, c.kind), []).append(c)
        new, changed, taken = [], [], set()
        for line, unit_id, kind, name, phone, company, ext in self.records:
            stored = by_ext.get(ext) if ext else None
            if stored is None:
                same_kind = [c for c in by_unit.get((unit_id, kind), []) if c.id not in taken
                             and not (ext and c.external_id)]
                stored = next((c for c in same_kind if c.name == name), None)
                if stored is None and len(same_kind) == 1:
                    stored = same_kind[0]  # the owner changed: one owner per unit
            if stored is None:
                new.append((unit_id, kind.value, name, surname_of(name), phone, company, ext))
                continue
            taken.add(stored.id)
            values = {"unit_id": unit_id, "kind": kind.value, "name": name,
                      "surname": surname_of(name), "phone": phone or stored.phone,
                      "company": company or stored.company,
                      "external_id": ext or stored.external_id}
            now = {"unit_id": stored.unit_id, "kind": stored.kind.value, "name": stored.name,
                   "surname": surname_of(stored.name), "phone": stored.phone,
                   "company": stored.company, "external_id": stored.external_id}
            if values != now:
                changed.append({"id": stored.id, **values})
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
        insert_rows(self.session, Contact.__table__,
                    ["unit_id", "kind", "name", "surname", "phone", "company", "external_id"],
                    new)
        update_rows(self.session, Contact.__table__,
                    ["unit_id", "kind", "name", "surname", "phone", "company", "external_id"],
                    changed)
        counts["created"] = len(new)
        return counts


class BillsImporter(Importer):
    kind = ImportKind.BILLS

    def __init__(self, *args):
        super().__init__(*args)
        self.units = UnitIndex(self.session, self.community_id)
        self.records: list = []
        self.seen: dict[str, int] = {}
        self.fast = None

    def use(self, mapping):
        super().use(mapping)
        self.fast = None if mapping.missing else self._fast_parser(mapping.columns)

    def _fast_parser(self, columns):
        """The common row, parsed without the per-cell bookkeeping: text cells, nothing
        wrong. Anything else (or any doubt) returns None and takes the careful path."""
        unit_of = self.units.fast(columns)
        if unit_of is None:
            return None
        amounts = parse_amount
        # Memo lookups inlined (`get(raw) or parse(raw)`): a million rows repeat a few
        # dozen dates and fee types, and a call per cell is most of the time.
        dates = cached(parse_date)
        date_get = dates.memo.get
        fees = cached(lambda raw: FEE_TYPES.get(clean(raw), clean(raw)))
        fee_get = fees.memo.get
        periods = cached(_period)
        months = cached(lambda day: f"{day.year:04d}-{day.month:02d}")
        month_get = months.memo.get
        i_ext, i_amount, i_due = columns["external_id"], columns["amount"], columns["due_date"]
        i_fee, i_period = columns.get("fee_type"), columns.get("period")
        i_start, i_end = columns.get("period_start"), columns.get("period_end")

        def parse(cells):
            ext = cells[i_ext].strip()
            unit_id = unit_of(cells)
            amount = amounts(cells[i_amount])
            if not ext or len(ext) > 64 or unit_id is None or amount < 0:
                return None
            raw = cells[i_due]
            due = date_get(raw) or dates(raw)
            if i_fee is not None and (raw := cells[i_fee]):
                fee = fee_get(raw) or fees(raw) or "management"
            else:
                fee = "management"
            if i_start is not None and (raw := cells[i_start]):
                start = date_get(raw) or dates(raw)
                if i_end is not None and (raw := cells[i_end]) and \
                        (date_get(raw) or dates(raw)) < start:
                    return None
            else:
                start = None
                if i_end is not None and cells[i_end]:
                    dates(cells[i_end])  # a bad end date takes the careful path
            if i_period is not None and cells[i_period]:
                period = periods(cells[i_period])
            else:
                day = start or due
                period = month_get(day) or months(day)
            if len(fee) > 30:
                return None
            return (ext, unit_id, fee, period, amount, due)
        return parse

    def parse_row(self, line, cells):
        if self.fast is not None:
            try:
                record = self.fast(cells)
            except (BadValue, ValueError, IndexError, AttributeError, TypeError):
                record = None
            if record is not None and record[0] not in self.seen:
                self.seen[record[0]] = line
                self.records.append(record)
                return
        self.parse_carefully(line, cells)

    def parse_carefully(self, line, cells):
        errors = self.problem_count
        ext = self.text(cells, "external_id", 64, line)
        if not ext and self.problem_count == errors:
            self.bad(line, "external_id", "", _l("This column is empty: it is needed."))
        unit_id = self.units.resolve(self, line, cells)
        fee = self.text(cells, "fee_type", 30, line) or "management"
        fee = FEE_TYPES.get(fee, fee)
        amount = self.value(line, cells, "amount", parse_amount, required=True)
        if amount is not None and amount < 0:
            self.bad(line, "amount", self.raw(cells, "amount"),
                     _l("A bill cannot be negative: a credit is a refund in the payments "
                        "file."))
        due = self.value(line, cells, "due_date", parse_date, required=True)
        start = self.value(line, cells, "period_start", parse_date)
        end = self.value(line, cells, "period_end", parse_date)
        if start and end and end < start:
            self.bad(line, "period_end", clean(self.raw(cells, "period_end")),
                     _l("The billing period ends before it starts."))
        period = self.value(line, cells, "period", _period)
        if self.problem_count > errors or unit_id is None:
            return
        if ext in self.seen:
            self.bad(line, "external_id", ext, _again(self.seen[ext]))
            return
        self.seen[ext] = line
        period = period or (f"{start.year:04d}-{start.month:02d}" if start else
                            f"{due.year:04d}-{due.month:02d}")
        self.records.append((ext, unit_id, fee, period, amount, due))

    def write(self):
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        stored = _by_external_id(
            self.session, (Bill.id, Bill.unit_id, Bill.fee_type, Bill.period, Bill.amount_fen,
                           Bill.due_date, Bill.external_id), Bill.external_id,
            [r[0] for r in self.records], Bill)
        new, changed = [], []
        for ext, unit_id, fee, period, amount, due in self.records:
            old = stored.get(ext)
            if old is None:
                new.append((unit_id, fee, period, amount, 0, due, ext))
                self.unit_ids.add(unit_id)
            elif (old.unit_id, old.fee_type, old.period, old.amount_fen, old.due_date) != \
                    (unit_id, fee, period, amount, due):
                # paid_fen is allocated again below; 0 keeps the check while amounts move.
                changed.append({"id": old.id, "unit_id": unit_id, "fee_type": fee,
                                "period": period, "amount_fen": amount, "paid_fen": 0,
                                "due_date": due})
                self.unit_ids.update((unit_id, old.unit_id))
            else:
                counts["unchanged"] += 1
        insert_rows(self.session, Bill.__table__,
                    ["unit_id", "fee_type", "period", "amount_fen", "paid_fen", "due_date",
                     "external_id"], new)
        update_rows(self.session, Bill.__table__,
                    ["unit_id", "fee_type", "period", "amount_fen", "paid_fen", "due_date"],
                    changed)
        counts["created"], counts["updated"] = len(new), len(changed)
        return counts


class PaymentsImporter(Importer):
    kind = ImportKind.PAYMENTS

    def __init__(self, *args):
        super().__init__(*args)
        self.units = UnitIndex(self.session, self.community_id)
        self.records: dict[str, SimpleNamespace] = {}
        self.confirmed = 0

    def parse_row(self, line, cells):
        errors = self.problem_count
        ext = self.text(cells, "external_id", 64, line)
        if not ext and self.problem_count == errors:
            self.bad(line, "external_id", "", _l("This column is empty: it is needed."))
        unit_id = self.units.resolve(self, line, cells)
        amount = self.value(line, cells, "amount", parse_amount, required=True)
        if amount == 0:
            self.bad(line, "amount", self.raw(cells, "amount"), _l("A payment of zero is no "
                                                                   "payment."))
        paid_on = self.value(line, cells, "paid_on", parse_date, required=True)
        bill = self.text(cells, "bill", 64, line)
        method = self.text(cells, "method", 20, line)
        reverses = self.text(cells, "reverses", 64, line)
        reference = self.text(cells, "reference", 64, line)
        if self.problem_count > errors or unit_id is None:
            return
        if ext in self.records:
            self.bad(line, "external_id", ext, _again(self.records[ext].line))
            return
        self.records[ext] = SimpleNamespace(
            line=line, id=ext, ext=ext, unit_id=unit_id, amount_fen=amount, paid_on=paid_on,
            bill=bill or None, method=method, reverses=reverses or None,
            reference=reference or ext, bill_id=None, reverses_id=None)

    def check_all(self):
        s = self.session
        wanted = list(self.records)
        self.stored = _by_external_id(
            s, (Payment.id, Payment.unit_id, Payment.amount_fen, Payment.paid_on,
                Payment.bill_id, Payment.method, Payment.reverses_id, Payment.external_id),
            Payment.external_id, wanted + [r.reverses for r in self.records.values()
                                           if r.reverses], Payment)
        bill_exts = sorted({r.bill for r in self.records.values() if r.bill})
        bills = {}
        for chunk in _chunks(bill_exts):
            for b in s.execute(select(Bill.id, Bill.unit_id, Bill.external_id)
                               .where(Bill.external_id.in_(chunk))):
                bills[b.external_id] = b
        for r in self.records.values():
            if r.bill is None:
                continue
            b = bills.get(r.bill)
            if b is None:
                self.bad(r.line, "bill", r.bill, _l("No bill has this id: import the bills "
                                                    "first."))
            elif b.unit_id != r.unit_id:
                self.bad(r.line, "bill", r.bill, _l("This bill belongs to another unit."))
            else:
                r.bill_id = b.id
        self._check_reversals()

    def _check_reversals(self):
        stored_ids = {row.id: ext for ext, row in self.stored.items()}
        targets = {r.reverses for r in self.records.values() if r.reverses}
        reversed_before: dict[str, int] = {}
        target_ids = [self.stored[t].id for t in targets if t in self.stored]
        for chunk in _chunks(target_ids):
            for rev in self.session.execute(
                    select(Payment.reverses_id, Payment.external_id, Payment.amount_fen)
                    .where(Payment.reverses_id.in_(chunk))):
                if rev.external_id not in self.records:  # a row of this file replaces it
                    ext = stored_ids[rev.reverses_id]
                    reversed_before[ext] = reversed_before.get(ext, 0) - rev.amount_fen
        for r in sorted(self.records.values(), key=lambda r: r.line):
            if r.reverses is None:
                continue
            target = self.records.get(r.reverses)
            if target is None and r.reverses in self.stored:
                old = self.stored[r.reverses]
                target = SimpleNamespace(id=r.reverses, amount_fen=old.amount_fen,
                                         reverses=old.reverses_id, paid_on=old.paid_on,
                                         unit_id=old.unit_id)
            if target is None:
                self.bad(r.line, "reverses", r.reverses, _l("No payment has this id."))
                continue
            if target.unit_id != r.unit_id:
                self.bad(r.line, "reverses", r.reverses, _l("That payment belongs to another "
                                                            "unit."))
                continue
            why = check_reversal(r, target, reversed_before.get(r.reverses, 0))
            if why:
                self.bad(r.line, "reverses" if r.amount_fen < 0 else "amount", r.reverses, why)
                continue
            reversed_before[r.reverses] = reversed_before.get(r.reverses, 0) - r.amount_fen

    def write(self):
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        fresh = [r for r in self.records.values() if r.ext not in self.stored]
        ids = iter(next_ids(self.session, Payment.__table__, len(fresh)))
        for r in fresh:
            r.payment_id = next(ids)
        for r in self.records.values():
            if r.ext in self.stored:
                r.payment_id = self.stored[r.ext].id
        by_ext = {r.ext: r.payment_id for r in self.records.values()}
        for r in self.records.values():
            if r.reverses:
                r.reverses_id = by_ext.get(r.reverses) or self.stored[r.reverses].id
            if r.amount_fen < 0 and r.reverses is None:
                self.blame(r.unit_id, r.line, format_yuan(r.amount_fen))
        changed = []
        for r in self.records.values():
            old = self.stored.get(r.ext)
            if old is None:
                self.unit_ids.add(r.unit_id)
                continue
            now = (r.unit_id, r.amount_fen, r.paid_on, r.bill_id, r.method, r.reverses_id)
            if now != (old.unit_id, old.amount_fen, old.paid_on, old.bill_id, old.method,
                       old.reverses_id):
                changed.append({"id": old.id, "unit_id": r.unit_id, "amount_fen": r.amount_fen,
                                "paid_on": r.paid_on, "bill_id": r.bill_id, "method": r.method,
                                "reverses_id": r.reverses_id})
                self.unit_ids.update((r.unit_id, old.unit_id))
            else:
                counts["unchanged"] += 1
        columns = ["id", "unit_id", "bill_id", "amount_fen", "paid_on", "external_id", "method",
                   "reverses_id"]
        # A reversal's payment must be stored before it.
        for reversals in (False, True):
            insert_rows(self.session, Payment.__table__, columns, [
                (r.payment_id, r.unit_id, r.bill_id, r.amount_fen, r.paid_on, r.ext, r.method,
                 r.reverses_id) for r in fresh if (r.reverses is not None) == reversals])
        update_rows(self.session, Payment.__table__,
                    ["unit_id", "amount_fen", "paid_on", "bill_id", "method", "reverses_id"],
                    changed)
        counts["created"], counts["updated"] = len(fresh), len(changed)
        counts["confirmed"] = self._confirm_field_payments()
        return counts

    def _confirm_field_payments(self) -> int:
        """A payment reported at the door is confirmed by the imported payment that
        carries its reference (or whose id it is), on the same unit: counted once."""
        units = sorted({r.unit_id for r in self.records.values()})
        waiting: dict[tuple, list[int]] = {}
        for chunk in _chunks(units):
            for fp in self.session.execute(
                    select(FieldPayment.id, FieldPayment.unit_id, FieldPayment.reference)
                    .where(FieldPayment.unit_id.in_(chunk),
                           FieldPayment.confirmed_payment_id.is_(None))
                    .order_by(FieldPayment.id)):
                waiting.setdefault((fp.unit_id, _ref(fp.reference)), []).append(fp.id)
        if not waiting:
            return 0
        confirming = set()
        ids = [r.payment_id for r in self.records.values()]
        for chunk in _chunks(ids):
            confirming.update(self.session.scalars(
                select(FieldPayment.confirmed_payment_id)
                .where(FieldPayment.confirmed_payment_id.in_(chunk))))
        matches = []
        for r in sorted(self.records.values(), key=lambda r: r.line):
            if r.amount_fen <= 0 or r.payment_id in confirming:
                continue
            queue = waiting.get((r.unit_id, _ref(r.reference)))
            if queue:
                matches.append({"id": queue.pop(0), "confirmed_payment_id": r.payment_id})
                self.unit_ids.add(r.unit_id)
        update_rows(self.session, FieldPayment.__table__, ["confirmed_payment_id"], matches)
        return len(matches)


def _ref(text: str) -> str:
    return clean(text).replace(" ", "").upper()


def _again(line: int):
    return _l("The same record is on line %(line)s already.", line=line)


def _no_community():
    return _l("Which community? Choose it on the import page (--community), or add a "
              "小区 column.")


IMPORTERS = {k.kind: k for k in (BuildingsImporter, UnitsImporter, ContactsImporter,
                                 BillsImporter, PaymentsImporter)}
