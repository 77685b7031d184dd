"""Recording a visit: photos through the pipeline, one row per client_uuid, the unit's
summary updated in the same transaction."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import date, datetime, timezone, tzinfo

from geopy.distance import geodesic
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain.summary import refresh_promises
from ..domain.visits import VisitData
from ..limits import DEFAULT, Limits
from ..models import FieldPayment, Policy, Promise, Unit, User, Visit, VisitPhoto, record_audit
from ..photos.evidence import Upload, store_photos
from ..photos.pipeline import sha256_of
from ..photos.storage import Storage
from ..review.flags import flag_visit
from ..workorders.services import ComplaintInput, file_complaint


class ClientUuidReused(Exception):
    """Same client_uuid, different visit: never merge two visits into one."""


def payload_sha256(unit_id: int, data: VisitData, photo_shas: list[str]) -> str:
    """What makes two submissions the same visit: every field and every photo."""
    fields = {k: v for k, v in asdict(data).items() if k not in ("errors", "device_time")}
    body = json.dumps({"unit": unit_id, "fields": fields, "photos": sorted(photo_shas)},
                      sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def find_repeat(session: Session, unit: Unit, user: User, data: VisitData,
                uploads: list[Upload]) -> Visit | None:
    """The stored visit if this exact submission was already taken."""
    visit = session.scalar(select(Visit).where(Visit.client_uuid == data.client_uuid))
    if visit is None:
        return None
    digest = payload_sha256(unit.id, data, [sha256_of(u.data) for u in uploads])
    if visit.user_id != user.id or visit.unit_id != unit.id or visit.payload_sha256 != digest:
        raise ClientUuidReused(data.client_uuid)
    return visit


def record_visit(session: Session, store: Storage, unit: Unit, user: User, data: VisitData,
                 uploads: list[Upload], *, today: date, tz: tzinfo,
                 limits: Limits = DEFAULT,
                 complaint: ComplaintInput | None = None) -> tuple[Visit, bool]:
    """Store the visit once. Returns (visit, created); a repeat returns the first one."""
    repeat = find_repeat(session, unit, user, data, uploads)
    if repeat is not None:
        return repeat, False
    photos = store_photos(session, store, uploads, user, tz, limits)
    policy = session.scalar(select(Policy).where(
        Policy.community_id == unit.building.community_id))
    visit = Visit(client_uuid=data.client_uuid, unit_id=unit.id, user_id=user.id,
                  payload_sha256=payload_sha256(unit.id, data, [p.sha256 for p, _ in photos]),
                  created_at=datetime.now(timezone.utc), device_time=data.device_time,
                  outcome=data.outcome, reason=data.reason,
                  service_category=data.service_category, reason_detail=data.reason_detail,
                  notice_type=data.notice_type, delivery=data.delivery, notes=data.notes,
                  lat=data.lat, lon=data.lon, accuracy_m=data.accuracy_m,
                  geo_error=data.geo_error)
    building = unit.building
    if data.lat is not None and building.lat is not None:
        # One distance per visit, to the building: the review flags far-away visits.
        visit.distance_m = round(geodesic((data.lat, data.lon),
                                          (building.lat, building.lon)).meters, 1)
        visit.far_from_building = visit.distance_m > policy.gps_threshold_m
    for position, (photo, meta) in enumerate(photos):
        visit.photos.append(VisitPhoto(photo=photo, position=position, client_meta=meta))
    if data.promise_date is not None:
        visit.promise = Promise(unit_id=unit.id, due_date=data.promise_date,
                                amount_fen=data.promise_amount_fen, made_on=today,
                                created_by=user.id)
    if data.paid_amount_fen is not None:
        visit.field_payment = FieldPayment(unit_id=unit.id, amount_fen=data.paid_amount_fen,
                                           reference=data.payment_ref)
    session.add(visit)
    try:
        session.flush()
    except IntegrityError:
        # A concurrent copy of the same submission won the unique index.
        session.rollback()
        stored = find_repeat(session, unit, user, data, uploads)
        if stored is None:
            raise
        return stored, False
    if complaint is not None:
        file_complaint(session, store, unit, user, complaint, uploads, tz=tz, visit=visit,
                       limits=limits, commit=False)
    _update_unit_summary(session, unit, visit, today)
    flags = flag_visit(session, visit, unit, policy, tz)
    record_audit(user, "visit.create", "visit", visit.id, unit_id=unit.id,
                 outcome=data.outcome.value, photos=len(photos), flags=len(flags))
    session.commit()
    return visit, True


def _update_unit_summary(session: Session, unit: Unit, visit: Visit, today: date) -> None:
    unit.last_visit_at = visit.created_at
    unit.last_visit_outcome = visit.outcome.value
    if visit.promise is not None or visit.field_payment is not None:
        session.flush()
        refresh_promises(session, unit.id, today)
