"""Deterministic demo data: a residential estate and a small office park, a year of
bills and payments with about a quarter of units behind, and the demo users.

Rows are generated in Python and bulk-inserted with explicit ids (SQLAlchemy Core),
so 120,000 units and 1.2 M bills take minutes, not hours. Each unit's allocation and
arrears summary are computed here with the same domain functions the app uses."""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from .domain.allocation import BillDue, PaymentIn, allocate
from .domain.arrears import arrears_of
from .domain.promises import monthly_dates, split_evenly
from .domain.summary import refresh_unit
from .models import (
    Assignment,
    Bill,
    Building,
    Community,
    Contact,
    ContactKind,
    InstallmentPlan,
    Occupancy,
    Payment,
    Policy,
    Promise,
    Role,
    Unit,
    UnitUse,
    User,
    Waiver,
    WaiverStatus,
)
from .models.bulk import driver

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程"
            "魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严")
DOUBLE_SURNAMES = ("欧阳", "司马", "上官", "诸葛")
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红鹏飞晨宇浩然子轩梓涵欣怡博文思远佳琪俊杰雨萱"
COMPANIES = ("科技", "信息", "文化传媒", "贸易", "咨询", "设计", "网络", "生物医药")
CITIES = ("上海", "杭州", "苏州", "南京")
CENTRE = (31.2304, 121.4737)
CHUNK = 10_000


def _name(rnd: random.Random) -> tuple[str, str]:
    surname = rnd.choice(DOUBLE_SURNAMES) if rnd.random() < 0.01 else rnd.choice(SURNAMES)
    given = "".join(rnd.choice(GIVEN) for _ in range(rnd.choice((1, 2, 2))))
    return surname + given, surname


def _phone(rnd: random.Random) -> str:
    return rnd.choice(("13", "15", "18", "17")) + str(rnd.randint(0, 9)) + \
        f"{rnd.randint(0, 99_999_999):08d}"


def _months(today: date, n: int = 12) -> list[date]:
    """First days of the last n months, oldest first, ending with today's month."""
    first = today.replace(day=1)
    out = []
    for i in range(n - 1, -1, -1):
        y, m = divmod(first.year * 12 + first.month - 1 - i, 12)
        out.append(date(y, m + 1, 1))
    return out


def _due(period_start: date, day: int) -> date:
    # Each building's billing cycle has its own due day, so a month behind can be
    # anywhere from a day to seven weeks overdue, and this month's bill may not be due.
    return period_start.replace(day=day)


class _Ids:
    """Explicit primary keys, so bulk inserts need not read ids back."""

    def __init__(self, session: Session):
        self.next = {m: (session.scalar(select(func.max(m.id))) or 0) + 1
                     for m in (Unit, Contact, Bill, Payment)}

    def take(self, model) -> int:
        value = self.next[model]
        self.next[model] += 1
        return value


def seed_demo(session: Session, *, units: int = 1200, seed: int = 1, today: date,
              password: str = "doorstep-demo", echo: Callable[[str], object] = print) -> dict:
    """Create the demo communities, units, bills, payments and users."""
    if session.scalar(select(func.count()).select_from(Unit)):
        raise RuntimeError("The database already has units; demo data needs an empty one.")
    rnd = random.Random(seed)  # nosec B311 -- repeatable demo data, nothing secret
    months = _months(today)
    estate_units = max(1, round(units * 0.92))
    park_units = max(0, units - estate_units)
    estate = _community(session, "翠湖花园", "residential")
    park = _community(session, "科创园", "office_park") if park_units else None
    estate_buildings = _buildings(session, rnd, estate, estate_units, office=False)
    park_buildings = _buildings(session, rnd, park, park_units, office=True) if park else []
    session.flush()

    ids = _Ids(session)
    counts = {"units": 0, "bills": 0, "payments": 0, "overdue_units": 0}
    rows: dict[str, list] = {"unit": [], "contact": [], "bill": [], "payment": []}
    plan = [(b, cap) for b, cap in estate_buildings] + [(b, cap) for b, cap in park_buildings]
    for building, slots in plan:
        for floor, number, use in slots:
            _unit(rnd, ids, rows, counts, building, floor, number, use, months, today)
            if len(rows["bill"]) >= CHUNK * 10:
                _flush(session, rows)
        if counts["units"] and counts["units"] % CHUNK < len(slots):
            echo(f"  {counts['units']:,} units")
    _flush(session, rows)
    _advance_sequences(session, (Unit, Contact, Bill, Payment))
    _users(session, password, [b for b, _ in estate_buildings], [b for b, _ in park_buildings])
    session.flush()
    counts.update(_promises(session, rnd, today))
    counts.update(_review_visits(session, rnd, today))
    counts.update(_notices(session, today, echo))
    return {"communities": 2 if park else 1,
            "buildings": len(estate_buildings) + len(park_buildings), **counts, "users": 6}


def _review_visits(session: Session, rnd: random.Random, today: date) -> dict[str, int]:
    """Visits with photos for the supervisor's review queue (fieldapp/demo_visits.py)."""
    from .clock import company_tz
    from .demo_visits import seed_review_visits
    from .photos.storage import storage
    return seed_review_visits(session, storage(), rnd, today, company_tz())
def _notices(session: Session, today: date, echo: Callable[[str], object]) -> dict[str, int]:
    """A few issued notices and one statement link, so those screens show something; the
    link's token is printed for the demo, as nothing else can show it again."""
    from flask import current_app

    from .domain.holds import open_work_order
    from .models import StatementLink, User
    from .notices.services import issue_notice, new_token
    from .photos.storage import storage
    supervisor = session.scalar(select(User).where(User.username == "supervisor"))
    units = session.scalars(select(Unit).where(Unit.arrears_fen > 0, Unit.on_hold.is_(False))
                            .order_by(Unit.oldest_unpaid_due, Unit.id).limit(3)).all()
    base = current_app.config.get("DEMO_BASE_URL") or current_app.config.get("PUBLIC_URL") \
        or "http://localhost:8000"
    with current_app.test_request_context(base_url=base):
        for kind, unit in zip(("demand_letter", "payment_notice", "reminder"), units):
            if open_work_order(session, unit.id) is None:
                issue_notice(session, storage(), unit, supervisor, kind, today=today,
                             deadline=today + timedelta(days=15), commit=False)
    if units:
        token, digest = new_token()
        session.add(StatementLink(unit_id=units[0].id, token_hash=digest,
                                  created_by=supervisor.id, channel="share",
                                  expires_at=datetime.now(timezone.utc) + timedelta(days=30)))
        echo(f"  statement link for {units[0].label}: {base}/s/{token}")
    return {"notices": min(len(units), 3)}


def _promises(session: Session, rnd: random.Random, today: date) -> dict[str, int]:
    """What a week of work leaves in each patch: promises due today and in the next
    days, some broken last week, a kept one, installment plans on track and behind, two
    households that broke two promises in a row, and waivers asked and decided."""
    made = {"promises": 0, "plans": 0, "waivers": 0}
    supervisor = session.scalar(select(User).where(User.role == Role.SUPERVISOR))
    for hk in session.scalars(select(User).where(User.role == Role.HOUSEKEEPER)
                              .order_by(User.username)):
        overdue = list(session.scalars(
            select(Unit).where(Unit.building_id.in_(hk.building_ids()), Unit.arrears_fen > 0)
            .order_by(Unit.id).limit(400)))
        picks = rnd.sample(overdue, min(len(overdue), 16))
        if len(picks) < 16:
            continue
        days = lambda n: today + timedelta(days=n)  # noqa: E731
        for unit, due in zip(picks[:5], (0, 0, 1, 2, 3)):
            _promise(session, unit, hk, days(-rnd.randint(3, 12)), days(due), made)
        for unit in picks[5:8]:  # broken last week: nothing came
            _promise(session, unit, hk, days(-20), days(-rnd.randint(4, 9)), made)
        for unit in picks[8:10]:  # two in a row: for the supervisor
            _promise(session, unit, hk, days(-60), days(-40), made)
            _promise(session, unit, hk, days(-30), days(-rnd.randint(4, 12)), made)
        kept = picks[10]
        _promise(session, kept, hk, days(-10), days(-2), made)
        session.add(Payment(unit_id=kept.id, amount_fen=min(kept.arrears_fen, 50_000),
                            paid_on=days(-3), method="wechat"))
        for unit, first in ((picks[11], 5), (picks[12], -20)):
            _plan(session, unit, hk, days(first - 10), days(first), made)
        for unit, status in ((picks[13], WaiverStatus.PENDING),
                             (picks[14], WaiverStatus.APPROVED),
                             (picks[15], WaiverStatus.DECLINED)):
            _waiver(session, rnd, unit, hk, supervisor, status, today, made)
        session.flush()
        for unit in picks:
            refresh_unit(session, unit.id, today)
    return made


def _promise(session, unit, hk, made_on, due, made, amount=None) -> None:
    session.add(Promise(unit_id=unit.id, made_on=made_on, due_date=due, created_by=hk.id,
                        amount_fen=amount or max(100, min(unit.arrears_fen, 50_000))))
    made["promises"] += 1


def _plan(session, unit, hk, made_on, first, made) -> None:
    shares = split_evenly(unit.arrears_fen, 3)
    plan = InstallmentPlan(unit_id=unit.id, created_by=hk.id, made_on=made_on,
                           total_fen=unit.arrears_fen, reason="经济困难")
    for seq, (due, fen) in enumerate(zip(monthly_dates(first, 3), shares), start=1):
        plan.installments.append(Promise(unit_id=unit.id, seq=seq, made_on=made_on,
                                         due_date=due, amount_fen=fen, created_by=hk.id))
    session.add(plan)
    made["plans"] += 1
    made["promises"] += 3


def _waiver(session, rnd, unit, hk, supervisor, status, today, made) -> None:
    asked = datetime.combine(today - timedelta(days=rnd.randint(1, 4)), time(2),
                             tzinfo=timezone.utc)
    waiver = Waiver(unit_id=unit.id, amount_fen=rnd.randint(5, 40) * 100,
                    reason=rnd.choice(("独居老人，收入困难", "工单处理期间产生的违约金",
                                       "业主首次逾期，已承诺补缴")),
                    requested_by=hk.id, requested_at=asked, status=status)
    if status != WaiverStatus.PENDING:
        waiver.decided_by, waiver.decided_at = supervisor.id, asked + timedelta(hours=20)
        waiver.comment = "同意" if status == WaiverStatus.APPROVED else "不符合减免条件"
    if status == WaiverStatus.APPROVED:
        unit.late_fee_waived_fen += waiver.amount_fen
    session.add(waiver)
    made["waivers"] += 1


def _community(session: Session, name: str, kind: str) -> Community:
    community = Community(name=name, kind=kind, timezone="Asia/Shanghai")
    session.add_all([community, Policy(community=community)])
    return community


def _buildings(session: Session, rnd: random.Random, community: Community, n_units: int,
               office: bool) -> list[tuple[Building, list[tuple[int, str, UnitUse]]]]:
    """Buildings of about 100 units: high-rise (18-32 floors, shops on the ground
    floor of some) and low-rise (6 floors); office towers for the park."""
    result, left, i = [], n_units, 0
    while left > 0:
        i += 1
        high = office or i % 3 != 0
        floors = rnd.randint(18, 32) if high else 6
        per_floor = max(1, min(4, round(100 / floors + 0.49)))
        if office:
            per_floor = max(1, min(per_floor, 3))
        slots = []
        shops = high and not office and i % 2 == 1
        for floor in range(1, floors + 1):
            for k in range(1, per_floor + 1):
                use = UnitUse.OFFICE if office else (
                    UnitUse.SHOP if shops and floor == 1 else UnitUse.RESIDENCE)
                slots.append((floor, f"{floor}{k:02d}", use))
        slots = slots[:left]
        left -= len(slots)
        angle = i * 0.7
        building = Building(
            community=community, name=f"{chr(64 + i)}座" if office and i <= 26 else f"{i}栋",
            address=f"{rnd.choice(CITIES)}市{'张江路' if office else '翠湖路'}{100 + i * 8}号",
            lat=round(CENTRE[0] + 0.0025 * (i % 7) * (1 if i % 2 else -1) * (0.5 + angle % 1), 6),
            lon=round(CENTRE[1] + 0.0022 * (i % 5) * (1 if i % 3 else -1), 6), floors=floors)
        session.add(building)
        result.append((building, slots))
    return result


def _unit(rnd, ids, rows, counts, building, floor, number, use, months, today) -> None:
    unit_id = ids.take(Unit)
    counts["units"] += 1
    area = round(rnd.uniform(20, 40), 1) if use == UnitUse.PARKING else \
        round(rnd.uniform(60, 160) if use == UnitUse.RESIDENCE else rnd.uniform(80, 400), 1)
    occupancy = Occupancy.VACANT if rnd.random() < 0.03 else (
        Occupancy.TENANT if rnd.random() < 0.15 else Occupancy.OWNER)
    ext = f"U-{unit_id:06d}"
    if use == UnitUse.OFFICE:
        company = f"{rnd.choice(CITIES)}{rnd.choice(SURNAMES)}{rnd.choice(GIVEN)}" \
                  f"{rnd.choice(COMPANIES)}有限公司"
        name, surname = _name(rnd)
        rows["contact"].append(dict(id=ids.take(Contact), unit_id=unit_id,
                                    kind=ContactKind.FINANCE, name=name, surname=surname,
                                    phone=_phone(rnd), company=company))
    elif occupancy != Occupancy.VACANT or rnd.random() < 0.5:
        name, surname = _name(rnd)
        rows["contact"].append(dict(id=ids.take(Contact), unit_id=unit_id,
                                    kind=ContactKind.OWNER, name=name, surname=surname,
                                    phone=_phone(rnd), company=""))
    if occupancy == Occupancy.TENANT:
        name, surname = _name(rnd)
        rows["contact"].append(dict(id=ids.take(Contact), unit_id=unit_id,
                                    kind=ContactKind.TENANT, name=name, surname=surname,
                                    phone=_phone(rnd), company=""))

    due_day = 1 + (building.id * 7) % 28
    bills = []
    rate = rnd.uniform(2.5, 4.0) if use != UnitUse.OFFICE else rnd.uniform(6.0, 9.0)
    shared = use == UnitUse.SHOP  # shops pay their own metered water and electricity
    for start in months:
        period = start.strftime("%Y-%m")
        fees = [("management", int(area * rate * 100))]
        if shared:
            fees.append(("water", rnd.randint(800, 2_500)))
            fees.append(("electricity", rnd.randint(1_000, 4_000)))
        if use == UnitUse.PARKING:
            fees = [("parking", 30_000)]
        for fee_type, amount in fees:
            bills.append(dict(id=ids.take(Bill), unit_id=unit_id, fee_type=fee_type,
                              period=period, amount_fen=amount, paid_fen=0,
                              due_date=_due(start, due_day),
                              external_id=f"B-{ext}-{period}-{fee_type}"))

    # About a quarter fall behind, starting at a random month; top floors of the
    # high-rise buildings (leaking roofs) twice as often.
    top = floor >= building.floors - 1 and building.floors > 6
    behind = rnd.random() < (0.42 if top else 0.21)
    stop = len(months)
    if behind:
        # Spread over every band: stop paying 1-12 months ago.
        stop = max(0, len(months) - rnd.choice((1, 1, 2, 2, 3, 3, 4, 5, 7, 9, 12)))
    due_now = [b for b in bills if b["due_date"] < today]
    paid_until = {b["id"] for b in due_now if months.index(date.fromisoformat(
        b["period"] + "-01")) < stop}
    payments = []
    owed_paid = sum(b["amount_fen"] for b in due_now if b["id"] in paid_until)
    if behind and rnd.random() < 0.3 and stop < len(months):
        owed_paid += rnd.randint(1, 9) * 1_000  # a partial payment towards the next bill
    remaining = owed_paid
    month_i = 0
    while remaining > 0:
        amount = min(remaining, rnd.randint(30_000, 150_000))
        day = min(today - timedelta(days=1),
                  _due(months[min(month_i, len(months) - 1)], due_day)
                  - timedelta(days=rnd.randint(0, 10)))
        named = None
        if rnd.random() < 0.05:
            candidates = [b for b in due_now if b["id"] in paid_until]
            named = rnd.choice(candidates)["id"] if candidates else None
        payments.append(dict(id=ids.take(Payment), unit_id=unit_id, bill_id=named,
                             amount_fen=amount, paid_on=day,
                             external_id=f"P-{ext}-{len(payments) + 1}",
                             method=rnd.choice(("wechat", "alipay", "bank", "cash"))))
        remaining -= amount
        month_i += 1

    result = allocate([BillDue(b["id"], b["amount_fen"], b["due_date"]) for b in bills],
                      [PaymentIn(p["id"], p["amount_fen"], p["bill_id"]) for p in payments])
    for b in bills:
        b["paid_fen"] = result.paid_fen[b["id"]]
    a = arrears_of([_Row(b) for b in bills], today)
    counts["overdue_units"] += a.arrears_fen > 0
    counts["bills"] += len(bills)
    counts["payments"] += len(payments)
    rows["unit"].append(dict(
        id=unit_id, building_id=building.id, number=number, floor=floor, entrance="",
        area_m2=area, use=use, occupancy=occupancy, external_id=ext, late_fee_waived_fen=0,
        unpaid_fen=a.unpaid_fen, arrears_fen=a.arrears_fen, oldest_unpaid_due=a.oldest_unpaid_due,
        arrears_valid_until=a.valid_until, on_hold=False))
    rows["bill"].extend(bills)
    rows["payment"].extend(payments)


class _Row:
    __slots__ = ("amount_fen", "paid_fen", "due_date")

    def __init__(self, b: dict):
        self.amount_fen, self.paid_fen, self.due_date = b["amount_fen"], b["paid_fen"], \
            b["due_date"]


def _flush(session: Session, rows: dict[str, list]) -> None:
    postgres = session.get_bind().dialect.name == "postgresql"
    for model, key in ((Unit, "unit"), (Contact, "contact"), (Bill, "bill"),
                       (Payment, "payment")):
        batch = rows[key]
        if postgres:
            copy_rows(session, model.__table__, batch)
        else:
            for i in range(0, len(batch), CHUNK):
                session.execute(insert(model), batch[i:i + CHUNK])
        batch.clear()


def _advance_sequences(session: Session, models) -> None:
    """Rows were written with explicit ids: PostgreSQL's sequences must move past them,
    or the next ordinary insert collides."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for model in models:
        table = model.__table__.name  # our own model's name, not input
        sql = (f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "  # nosec B608
               f"COALESCE((SELECT max(id) FROM \"{table}\"), 0) + 1, false)")
        session.execute(text(sql))


def copy_rows(session: Session, table, rows: list[dict]) -> None:
    """PostgreSQL COPY, several times faster than multi-row INSERT for bulk loads; the
    columns' Python-side defaults are filled in, as an ORM insert would."""
    if not rows:
        return
    columns = list(table.columns)
    defaults = {}
    for c in columns:
        if c.default is not None and not c.default.is_sequence:
            arg = c.default.arg
            defaults[c.name] = arg if not callable(arg) else (lambda f=arg: f(None))
    names = [c.name for c in columns if c.name in rows[0] or c.name in defaults]
    raw = driver(session)  # inside the session's transaction (transactions.py)
    with raw.cursor() as cur, cur.copy(
            f'COPY "{table.name}" ({", ".join(names)}) FROM STDIN') as copy:
        for row in rows:
            values = []
            for name in names:
                if name in row:
                    value = row[name]
                else:
                    value = defaults[name]
                    value = value() if callable(value) else value
                values.append(value.value if hasattr(value, "value") and
                              not isinstance(value, (int, float)) else value)
            copy.write_row(values)


def _users(session: Session, password: str, estate: list[Building],
           park: list[Building]) -> None:
    """housekeeper1..3 split the estate; housekeeper3 also has the office park."""
    people = [("housekeeper1", "王晓梅", Role.HOUSEKEEPER), ("housekeeper2", "李建国",
              Role.HOUSEKEEPER), ("housekeeper3", "陈静", Role.HOUSEKEEPER),
              ("supervisor", "张主管", Role.SUPERVISOR), ("engineer", "赵工", Role.ENGINEER),
              ("admin", "管理员", Role.ADMIN)]
    third = max(1, -(-len(estate) // 3))
    patches = [estate[:third], estate[third:2 * third], estate[2 * third:] + park]
    for i, (username, display, role) in enumerate(people):
        user = User(username=username, display_name=display, role=role)
        user.set_password(password)
        if role == Role.HOUSEKEEPER:
            for b in patches[i]:
                user.assignments.append(Assignment(building=b))
        session.add(user)
