"""Issuing notices: the facts of the day rendered once into a self-contained HTML
document, archived in the object store under its SHA-256, numbered from a counter row."""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import segno
from flask import current_app, render_template, url_for
from flask_babel import force_locale
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..config import ROOT
from ..domain.holds import DunningHold, ensure_can_dun, open_work_order
from ..domain.money import format_yuan
from ..domain.notice_text import fill
from ..domain.stages import suggested_notice
from ..models import (
    Building,
    Notice,
    NoticeBatch,
    NoticeCounter,
    NoticeTemplate,
    NoticeType,
    StatementLink,
    Unit,
    User,
    Visit,
    record_audit,
)
from ..models.base import insert_or_ignore
from ..photos.storage import Storage
from ..units.services import unit_card
from .wording import default_blocks

# A statement link printed on a notice works this long; one shared from the card less.
NOTICE_LINK_DAYS = 180
SHARE_LINK_DAYS = 30
DEFAULT_DEADLINE_DAYS = 15
COUNTER = "notice"


def template_blocks(session: Session, community_id: int, kind: str) -> dict[str, str]:
    """The community's text for this stage, or the default."""
    row = session.scalar(select(NoticeTemplate).where(
        NoticeTemplate.community_id == community_id, NoticeTemplate.kind == NoticeType(kind)))
    blocks = default_blocks(kind)
    if row is not None:
        blocks.update({k: v for k, v in row.blocks.items() if k in blocks})
    return blocks


def save_template(session: Session, community_id: int, kind: str, blocks: dict[str, str],
                  user: User) -> NoticeTemplate:
    row = session.scalar(select(NoticeTemplate).where(
        NoticeTemplate.community_id == community_id, NoticeTemplate.kind == NoticeType(kind)))
    if row is None:
        row = NoticeTemplate(community_id=community_id, kind=NoticeType(kind))
        session.add(row)
    row.blocks, row.updated_by = dict(blocks), user.id
    session.flush()
    record_audit(user, "notice.template", "notice_template", row.id, community=community_id,
                 kind=kind)
    session.commit()
    return row


def next_number(session: Session, year: int) -> str:
    """The next notice number of the company: one counter row incremented in place, so
    concurrent app servers queue on its row lock instead of reading max()+1 twice."""
    insert_or_ignore(session, NoticeCounter, ["name"], name=COUNTER, value=0)
    session.execute(update(NoticeCounter).where(NoticeCounter.name == COUNTER)
                    .values(value=NoticeCounter.value + 1))
    value = session.scalar(select(NoticeCounter.value).where(NoticeCounter.name == COUNTER))
    return f"{year}-{value:06d}"


def new_token() -> tuple[str, str]:
    """(token for the URL, its SHA-256 to store)."""
    token = secrets.token_urlsafe(24)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def qr_svg(url: str) -> str:
    """The statement link as an inline SVG QR code, drawn on the server."""
    return segno.make(url, error="m").svg_inline(scale=3, border=2, omitsize=False)


_CSS: dict[str, str] = {}


def notice_css() -> str:
    """The print stylesheet, inlined into each notice so the archive is self-contained."""
    if "css" not in _CSS:
        _CSS["css"] = (ROOT / "static" / "notice.css").read_text(encoding="utf-8")
    return _CSS["css"]


def _values(unit: Unit, card, number: str, issued_on: date, deadline: date,
            issuer: User) -> dict[str, str]:
    owner = unit.owner
    recipient = (owner.company or owner.name) if owner else f"{unit.label}业主"
    return {"recipient": recipient, "unit": f"{unit.building.community.name}{unit.label}",
            "community": unit.building.community.name, "building": unit.building.name,
            "address": unit.building.address, "arrears": format_yuan(card.arrears.arrears_fen),
            "late_fee": format_yuan(card.fee.outstanding_fen),
            "total": format_yuan(card.arrears.arrears_fen + card.fee.outstanding_fen),
            "deadline": f"{deadline.year}年{deadline.month}月{deadline.day}日",
            "issue_date": f"{issued_on.year}年{issued_on.month}月{issued_on.day}日",
            "days_overdue": str(card.days_overdue),
            "oldest_due": card.arrears.oldest_unpaid_due.isoformat()
            if card.arrears.oldest_unpaid_due else "",
            "notice_number": number, "issuer": issuer.display_name or issuer.username}


def render_notice(session: Session, unit: Unit, kind: str, *, number: str, today: date,
                  deadline: date, issuer: User, statement_url: str):
    """The whole notice as one HTML document: inline CSS, the QR code inline, no links
    to anything outside it. Always in Chinese, the language of the owners. Returns
    (html, the unit card it was computed from)."""
    card = unit_card(session, unit, today)
    values = _values(unit, card, number, today, deadline, issuer)
    blocks = {k: fill(v, values) for k, v in
              template_blocks(session, unit.building.community_id, kind).items()}
    with force_locale("zh_CN"):
        html = render_template("notices/notice.html", unit=unit, card=card, blocks=blocks,
                               number=number, issued_on=today, deadline=deadline,
                               kind=kind, css=notice_css(), qr=qr_svg(statement_url),
                               statement_url=statement_url, values=values)
    return html, card


def statement_url(token: str) -> str:
    """The owner's link: on PUBLIC_URL when it is set, else on this request's address."""
    base = current_app.config.get("PUBLIC_URL")
    if base:
        return base + url_for("notices.statement", token=token)
    return url_for("notices.statement", token=token, _external=True)


@dataclass(frozen=True)
class Issued:
    notice: Notice
    html: bytes


def issue_notice(session: Session, store: Storage, unit: Unit, user: User, kind: str, *,
                 today: date, deadline: date, batch: NoticeBatch | None = None,
                 commit: bool = True) -> Notice:
    """Issue one notice: refused (DunningHold) while a repair is open. The link on it is
    the owner's statement, valid NOTICE_LINK_DAYS."""
    ensure_can_dun(session, unit.id)
    number = next_number(session, today.year)
    token, digest = new_token()
    url = statement_url(token)
    page, card = render_notice(session, unit, kind, number=number, today=today,
                               deadline=deadline, issuer=user, statement_url=url)
    html = page.encode("utf-8")
    sha = hashlib.sha256(html).hexdigest()
    notice = Notice(number=number, unit_id=unit.id, kind=NoticeType(kind), issued_by=user.id,
                    issued_at=datetime.now(timezone.utc), deadline=deadline,
                    arrears_fen=card.arrears.arrears_fen,
                    late_fee_fen=card.fee.outstanding_fen, sha256=sha,
                    size_bytes=len(html), batch=batch)
    store.put(notice.storage_key, html)
    session.add(notice)
    session.flush()
    session.add(StatementLink(unit_id=unit.id, token_hash=digest, created_by=user.id,
                              expires_at=datetime.now(timezone.utc)
                              + timedelta(days=NOTICE_LINK_DAYS),
                              channel="notice", notice_id=notice.id))
    record_audit(user, "notice.issue", "notice", notice.id, unit_id=unit.id,
                 number=number, kind=kind, sha256=sha)
    if commit:
        session.commit()
    return notice


def archived(store: Storage, notice: Notice) -> bytes:
    """The notice exactly as issued; refused if the stored bytes no longer match."""
    data = store.get(notice.storage_key)
    if hashlib.sha256(data).hexdigest() != notice.sha256:
        raise ValueError(f"notice {notice.id}: archived bytes do not match their SHA-256")
    return data


def skip_reason(session: Session, unit: Unit) -> dict | None:
    """Why a building's printing leaves this unit out, or None to print it."""
    order = open_work_order(session, unit.id)
    if order is not None:
        return {"reason": "hold", "work_order": order.id}
    if unit.promise_status == "open" or unit.plan_status == "on_track":
        return {"reason": "promise", "date": unit.next_promise_date.isoformat()
                if unit.next_promise_date else ""}
    return None


def issue_for_building(session: Session, store: Storage, building: Building, user: User, *,
                       today: date, deadline: date) -> NoticeBatch:
    """Each overdue unit of the building gets its stage's notice, floor by floor; units on
    dunning hold or with an open promise or plan are skipped, and the batch says why."""
    from ..domain.arrears import bands_from_policy, days_overdue, overdue_band, with_earliest_band
    bands = with_earliest_band(bands_from_policy(building.community.policy.bands))
    batch = NoticeBatch(building_id=building.id, issued_by=user.id, skipped=[])
    session.add(batch)
    skipped = []
    units = session.scalars(select(Unit).where(Unit.building_id == building.id,
                                               Unit.arrears_fen > 0)
                            .order_by(Unit.floor, Unit.number))
    for unit in list(units):
        reason = skip_reason(session, unit)
        if reason is not None:
            skipped.append({"unit_id": unit.id, "label": unit.label, **reason})
            continue
        band = overdue_band(days_overdue(unit.oldest_unpaid_due, today), bands)
        issue_notice(session, store, unit, user, suggested_notice(band.stage if band else None),
                     today=today, deadline=deadline, batch=batch, commit=False)
    batch.skipped = skipped
    session.flush()
    record_audit(user, "notice.batch", "notice_batch", batch.id, building=building.id,
                 issued=len(batch.notices), skipped=len(skipped))
    session.commit()
    return batch


_STYLE = re.compile(r"<style>(.*?)</style>", re.S)
_ARTICLE = re.compile(r'<article class="notice[ "].*?</article>', re.S)


def archived_parts(html: bytes) -> tuple[str, str]:
    """(its stylesheet, its notice element), cut from an archived document byte for byte,
    so a building's printing shows each notice as issued."""
    text = html.decode("utf-8")
    return _STYLE.search(text).group(1), _ARTICLE.search(text).group(0)


def undelivered_notices(session: Session, unit_id: int) -> list[Notice]:
    """The unit's issued notices no visit has delivered yet, newest first."""
    delivered = select(Visit.notice_id).where(Visit.notice_id.is_not(None))
    return list(session.scalars(select(Notice).where(
        Notice.unit_id == unit_id, Notice.id.not_in(delivered))
        .order_by(Notice.issued_at.desc(), Notice.id.desc())))


def unit_notices(session: Session, unit_id: int) -> list[tuple[Notice, Visit | None]]:
    """Every notice of the unit with the visit that delivered it, newest first."""
    rows = session.execute(select(Notice, Visit).outerjoin(Visit, Visit.notice_id == Notice.id)
                           .where(Notice.unit_id == unit_id)
                           .order_by(Notice.issued_at.desc(), Notice.id.desc()))
    return [(n, v) for n, v in rows]


__all__ = ["DunningHold", "DEFAULT_DEADLINE_DAYS", "SHARE_LINK_DAYS"]


def statement_texts(session: Session, unit: Unit, card, link: StatementLink,
                    today: date) -> dict[str, str]:
    """How to pay and whom to call, as the community's reminder says them."""
    issuer = session.get(User, link.created_by)
    values = _values(unit, card, "", today, today, issuer)
    blocks = template_blocks(session, unit.building.community_id, "reminder")
    return {k: fill(blocks[k], values) for k in ("how_to_pay", "contact")}


@dataclass(frozen=True)
class CardPanel:
    """What the unit card shows of notices, links and the limitation clock."""
    limitation_end: date | None
    ends_soon: bool
    notices: list
    links: list[StatementLink]


def card_panel(session: Session, unit: Unit, card, today: date, tz,
               now: datetime) -> CardPanel:
    """At most three statements: the demands (visits and promises; none for a unit with
    neither), the notices, the live links (those the card's `history` says the unit
    has)."""
    from ..domain.limitation import ends_soon
    from ..units.services import UnitHistory
    from .limitation import bill_ends
    from .statements import live_links
    # The card has read the payments, and knows whether there are visits or promises.
    records = bool(card.history & (UnitHistory.VISITS | UnitHistory.PROMISES |
                                   UnitHistory.PLANS))
    ends = bill_ends(session, unit.id, [(line.bill.id, line.bill.due_date)
                                        for line in card.lines if line.overdue], tz,
                     paid_on=card.paid_on, records=records)
    end = min(ends.values()) if ends else None
    notices = unit_notices(session, unit.id)[:10] \
        if UnitHistory.NOTICES in card.history else []
    links = live_links(session, unit.id, now) \
        if UnitHistory.STATEMENT_LINKS in card.history else []
    return CardPanel(end, ends_soon(end, today), notices, links)


def picked_notice(session: Session, unit_id: int, raw: str) -> Notice | None:
    """The issued, undelivered notice of this unit a visit form names, if it is one."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10:
        return None
    return next((n for n in undelivered_notices(session, unit_id) if n.id == int(raw)), None)
