"""The review as services: the queue of visits waiting, a supervisor's decision (one at a
time or many clean ones at once), and the housekeeper's correction. Each change is one
transaction with its audit event; the visit as submitted is never touched, only its
`review_status`, and that with a conditional update so two reviewers cannot both win."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ..access import SEES_ALL_UNITS, patch_building_ids
from ..extensions import db
from ..limits import Limits
from ..models import (
    Building,
    CorrectionPhoto,
    Decision,
    FlagKind,
    Outcome,
    ReviewDecision,
    ReviewStatus,
    Role,
    Unit,
    User,
    Visit,
    VisitCorrection,
    VisitFlag,
    VisitPhoto,
    record_audit,
    utcnow,
)
from ..models.base import fixed
from ..models.idlist import in_ids, uses_arrays
from ..photos.evidence import Upload, store_photos
from ..photos.storage import Storage

PAGE_SIZE = 20
FLAG_FILTERS = ("any", "none", *(k.value for k in FlagKind))


class Refused(Exception):
    """A decision or correction the rules do not allow; the message says why."""

    def __init__(self, message, status: int = 422, field: str = "form"):
        super().__init__(message)  # lazy: said in the language of the request that shows it
        self.message, self.status, self.field = message, status, field


class CorrectionUuidReused(Exception):
    """Same client_uuid, another visit or person: never merge two corrections."""


@dataclass(frozen=True)
class QueueFilters:
    hk_id: int | None = None
    community_id: int | None = None  # a building, when chosen, is of this community
    building_id: int | None = None
    day: date | None = None
    outcome: str | None = None
    flag: str | None = None  # any, none, or a FlagKind value
    before_id: int | None = None  # the page continues below this visit


@dataclass(frozen=True)
class QueuePage:
    visits: list[Visit]
    next_before: int | None
    waiting: int  # every visit waiting for review, whatever the filters


def scoped(query, user: User):
    """Visits of the units this user may see (supervisors: all, with no subquery)."""
    ids = patch_building_ids(user)
    if ids is None:
        return query
    return query.where(Visit.unit_id.in_(select(Unit.id).where(
        in_ids(Unit.building_id, ids, uses_arrays(db.session)))))


def _filtered(query, f: QueueFilters, tz: tzinfo):
    if f.hk_id is not None:
        query = query.where(Visit.user_id == f.hk_id)
    if f.building_id is not None:
        query = query.where(Visit.unit_id.in_(select(Unit.id).where(
            Unit.building_id == f.building_id)))
    elif f.community_id is not None:
        query = query.where(Visit.unit_id.in_(select(Unit.id).join(
            Building, Building.id == Unit.building_id).where(
            Building.community_id == f.community_id)))
    if f.day is not None:
        start = datetime.combine(f.day, time(), tz)
        query = query.where(Visit.created_at >= start,
                            Visit.created_at < start + timedelta(days=1))
    if f.outcome:
        query = query.where(Visit.outcome == Outcome(f.outcome))
    if f.flag == "any":
        query = query.where(exists().where(VisitFlag.visit_id == Visit.id))
    elif f.flag == "none":
        query = query.where(~exists().where(VisitFlag.visit_id == Visit.id))
    elif f.flag:
        query = query.where(exists().where(VisitFlag.visit_id == Visit.id,
                                           VisitFlag.kind == FlagKind(f.flag)))
    return query


def queue_page(session: Session, user: User, f: QueueFilters, tz: tzinfo,
               size: int = PAGE_SIZE) -> QueuePage:
    """Visits waiting for review, newest first, one page at a time by keyset."""
    query = _filtered(scoped(select(Visit).where(
        Visit.review_status == ReviewStatus.PENDING.value), user), f, tz)
    if f.before_id is not None:
        anchor = session.get(Visit, f.before_id)
        if anchor is not None:
            query = query.where((Visit.created_at < anchor.created_at) | (
                (Visit.created_at == anchor.created_at) & (Visit.id < anchor.id)))
    visits = list(session.scalars(
        query.options(joinedload(Visit.unit).joinedload(Unit.building), joinedload(Visit.user),
                      selectinload(Visit.flags),
                      selectinload(Visit.photos).joinedload(VisitPhoto.photo),
                      selectinload(Visit.corrections).selectinload(VisitCorrection.photos),
                      selectinload(Visit.decisions))
        .order_by(Visit.created_at.desc(), Visit.id.desc()).limit(size + 1)))
    more = len(visits) > size
    visits = visits[:size]
    waiting = session.scalar(scoped(select(func.count()).select_from(Visit).where(
        Visit.review_status == ReviewStatus.PENDING.value), user))
    return QueuePage(visits, visits[-1].id if more else None, waiting)


def get_visit_or_404(session: Session, visit_id: int, user: User) -> Visit:
    from flask import abort
    visit = session.scalar(scoped(select(Visit).where(Visit.id == visit_id), user)) \
        if user.role != Role.ENGINEER else None
    if visit is None:
        abort(404)
    return visit


def _move(session: Session, visit: Visit, frm: ReviewStatus, to: ReviewStatus) -> bool:
    """Change the review status only if it still is `frm`: the first of two wins."""
    result = session.execute(update(Visit).where(
        Visit.id == visit.id, Visit.review_status == frm.value)
        .values(review_status=to.value).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return False
    set_committed_value(visit, "review_status", to.value)
    return True


NOT_PENDING = {
    ReviewStatus.APPROVED.value: _l("This visit has already been approved."),
    ReviewStatus.SENT_BACK.value: _l("This visit was sent back and waits for the "
                                     "housekeeper's correction."),
}
OPEN_FIRST = _l("This visit has flags: open it and look at them before approving.")


def decide(session: Session, visit: Visit, reviewer: User, decision: Decision, comment: str,
           seen_flags: set[int] | None = None) -> ReviewDecision:
    """Approve, or send back with a comment. A flagged visit is approved only by someone
    who was shown every one of its flags (`seen_flags`, from the page they decided on)."""
    if reviewer.role not in SEES_ALL_UNITS:
        raise Refused(_l("Only a supervisor reviews visits."), 403)
    if visit.review_status != ReviewStatus.PENDING.value:
        raise Refused(NOT_PENDING.get(visit.review_status, NOT_PENDING["approved"]), 409)
    if decision == Decision.SEND_BACK and not comment:
        raise Refused(_l("Say what the housekeeper should correct."), 422, "comment")
    flags = {f.id for f in session.scalars(select(VisitFlag).where(
        VisitFlag.visit_id == visit.id))}
    if decision == Decision.APPROVE and not flags <= (seen_flags or set()):
        raise Refused(OPEN_FIRST, 409)
    to = ReviewStatus.APPROVED if decision == Decision.APPROVE else ReviewStatus.SENT_BACK
    if not _move(session, visit, ReviewStatus.PENDING, to):
        session.rollback()
        raise Refused(_l("Someone else has just decided this visit."), 409)
    row = ReviewDecision(visit_id=visit.id, user_id=reviewer.id, decision=decision,
                         comment=comment, at=utcnow())
    session.add(row)
    session.flush()
    record_audit(reviewer, f"review.{decision.value}", "visit", visit.id,
                 unit_id=visit.unit_id, comment=comment[:200], flags=len(flags))
    session.commit()
    return row


@dataclass(frozen=True)
class BulkResult:
    approved: list[Visit]
    flagged: list[Visit]  # not approved: to be opened first
    gone: int  # no longer waiting (decided meanwhile) or not found


def approve_many(session: Session, reviewer: User, visit_ids: list[int]) -> BulkResult:
    """Approve the clean ones among these visits in one transaction; flagged ones are
    left for the reviewer to open."""
    if reviewer.role not in SEES_ALL_UNITS:
        raise Refused(_l("Only a supervisor reviews visits."), 403)
    visits = list(session.scalars(scoped(select(Visit).where(
        Visit.id.in_(visit_ids), Visit.review_status == ReviewStatus.PENDING.value), reviewer)
        .options(selectinload(Visit.flags), joinedload(Visit.unit).joinedload(Unit.building))
        .order_by(Visit.id)))
    approved, flagged = [], []
    for visit in visits:
        if visit.flags:
            flagged.append(visit)
            continue
        if _move(session, visit, ReviewStatus.PENDING, ReviewStatus.APPROVED):
            session.add(ReviewDecision(visit_id=visit.id, user_id=reviewer.id,
                                       decision=Decision.APPROVE, comment="", at=utcnow()))
            record_audit(reviewer, "review.approve", "visit", visit.id, unit_id=visit.unit_id,
                         comment="", flags=0, bulk=True)
            approved.append(visit)
    session.commit()
    return BulkResult(approved, flagged, len(set(visit_ids)) - len(approved) - len(flagged))


def find_correction(session: Session, client_uuid: str, visit: Visit,
                    user: User) -> VisitCorrection | None:
    """The stored correction if this exact form was already sent."""
    found = session.scalar(select(VisitCorrection).where(
        VisitCorrection.client_uuid == client_uuid))
    if found is not None and (found.visit_id != visit.id or found.user_id != user.id):
        raise CorrectionUuidReused(client_uuid)
    return found


def correct_visit(session: Session, store: Storage, visit: Visit, user: User, note: str,
                  uploads: list[Upload], client_uuid: str, *, tz: tzinfo,
                  limits: Limits) -> tuple[VisitCorrection, bool]:
    """A note, photos or both, added to a visit that was sent back; the visit goes back
    to the queue. Returns (correction, created); the same form twice is one correction."""
    repeat = find_correction(session, client_uuid, visit, user)
    if repeat is not None:
        return repeat, False
    if user.role != Role.HOUSEKEEPER:
        raise Refused(_l("Only the housekeeper corrects a visit."), 403)
    if visit.review_status != ReviewStatus.SENT_BACK.value:
        raise Refused(_l("This visit is not waiting for a correction."), 409)
    if not note and not uploads:
        raise Refused(_l("Add a note, photos or both."), 422, "note")
    photos = store_photos(session, store, uploads, user, tz, limits)
    correction = VisitCorrection(client_uuid=client_uuid, visit_id=visit.id, user_id=user.id,
                                 note=note, created_at=utcnow())
    for position, (photo, meta) in enumerate(photos):
        correction.photos.append(CorrectionPhoto(photo=photo, position=position,
                                                 client_meta=meta))
    session.add(correction)
    if not _move(session, visit, ReviewStatus.SENT_BACK, ReviewStatus.PENDING):
        session.rollback()
        raise Refused(_l("This visit is not waiting for a correction."), 409)
    session.flush()
    record_audit(user, "review.correct", "visit", visit.id, unit_id=visit.unit_id,
                 correction_id=correction.id, photos=len(photos))
    session.commit()
    return correction, True


def history(visit: Visit) -> list[tuple[datetime, str, object]]:
    """The visit's review, oldest first: decisions and corrections."""
    entries = [(d.at, "decision", d) for d in visit.decisions]
    entries += [(c.created_at, "correction", c) for c in visit.corrections]
    return sorted(entries, key=lambda e: (e[0], e[1]))


def last_send_back(visit: Visit) -> ReviewDecision | None:
    backs = [d for d in visit.decisions if d.decision == Decision.SEND_BACK]
    return backs[-1] if backs else None


def sent_back_to(session: Session, user: User, limit: int = 50) -> list[Visit]:
    """The user's own visits a supervisor sent back, newest first, for Today."""
    return list(session.scalars(scoped(select(Visit).where(
        Visit.user_id == user.id, Visit.review_status == fixed(ReviewStatus.SENT_BACK.value)),
        user)
        .options(joinedload(Visit.unit).joinedload(Unit.building),
                 selectinload(Visit.decisions).joinedload(ReviewDecision.user))
        .order_by(Visit.created_at.desc()).limit(limit)))


def waiting_count(session: Session, user: User) -> int:
    return session.scalar(scoped(select(func.count()).select_from(Visit).where(
        Visit.review_status == ReviewStatus.PENDING.value), user)) or 0
