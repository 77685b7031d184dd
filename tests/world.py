"""A small estate with one of everything, for tests that walk every route: two patches,
a unit in each, a visit with a photo (sent back by a supervisor), a clean visit in the
other patch that was sent back and corrected with a photo, a complaint whose work order
is assigned (with an after-photo from an earlier repair, as a reopened order has), an
import job with a bad row, a community's column name, and a user of every role."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta, timezone

from fieldapp.domain.promises import Installment
from fieldapp.domain.visits import check_visit
from fieldapp.extensions import db
from fieldapp.limits import DEFAULT
from fieldapp.models import (
    Decision,
    HeaderAlias,
    ImportJob,
    ImportKind,
    ImportStatus,
    InstallmentPlan,
    ReviewDecision,
    Photo,
    Role,
    ServiceCategory,
    Unit,
    User,
    Visit,
    Waiver,
    WorkOrder,
    WorkOrderPhoto,
)
from fieldapp.photos.evidence import Upload, store_photos
from fieldapp.photos.storage import storage
from fieldapp.promises.services import create_plan
from fieldapp.review.services import correct_visit, decide
from fieldapp.visits.services import record_visit
from fieldapp.workorders.services import ComplaintInput, file_complaint

from .factories import TODAY, make_bill, make_building, make_community, make_unit, make_user
from .photos import make_jpeg

ROLES = ("anon", "hk", "hk_other", "engineer", "engineer_other", "supervisor", "admin")


@dataclass
class World:
    unit: Unit  # in the patch of `hk`
    other_unit: Unit  # in the patch of `hk_other`
    order: WorkOrder  # on `unit`, assigned to `engineer`
    visit: Visit  # at `unit`, by `hk`, with one photo
    visit_photo: Photo
    complaint_photo: Photo
    after_photo: Photo
    users: dict[str, User | None]
    plan: InstallmentPlan  # on `other_unit`
    waiver: Waiver  # pending, on `unit`
    clean_visit: Visit  # at `other_unit`, by `hk_other`, no flags, corrected, pending
    correction_photo: Photo  # of the correction of `clean_visit`
    import_job: ImportJob  # a bills file with a bad row, by `admin`
    header_alias: HeaderAlias  # a column name of the community's bills


def make_world() -> World:
    community = make_community()
    mine, theirs = make_building(community), make_building(community)
    unit, other_unit = make_unit(mine), make_unit(theirs)
    for u in (unit, other_unit):
        make_bill(u, 120_000, TODAY - timedelta(days=75))
    users = {"anon": None,
             "hk": make_user(Role.HOUSEKEEPER, buildings=[mine]),
             "hk_other": make_user(Role.HOUSEKEEPER, buildings=[theirs]),
             "engineer": make_user(Role.ENGINEER),
             "engineer_other": make_user(Role.ENGINEER),
             "supervisor": make_user(Role.SUPERVISOR),
             "admin": make_user(Role.ADMIN)}
    form = {"client_uuid": str(uuid.uuid4()), "outcome": "nobody_home",
            "notice_type": "reminder", "delivery": "door"}
    data = check_visit(form, photo_count=1, arrears_fen=unit.arrears_fen, today=TODAY,
                       promise_horizon_days=30)
    visit, _ = record_visit(db.session, storage(), unit, users["hk"], data,
                            [Upload("door.jpg", make_jpeg(color=(1, 2, 3)), {})],
                            today=TODAY, tz=timezone.utc)
    complaint, _ = file_complaint(
        db.session, storage(), unit, users["hk"],
        ComplaintInput(str(uuid.uuid4()), ServiceCategory.LEAK, "屋顶漏水"),
        [Upload("leak.jpg", make_jpeg(color=(4, 5, 6)), {})], tz=timezone.utc)
    order = complaint.work_order
    order.engineer_id = users["engineer"].id
    [(after, _)] = store_photos(db.session, storage(),
                                [Upload("after.jpg", make_jpeg(color=(7, 8, 9)), {})],
                                users["engineer"], timezone.utc, DEFAULT)
    order.after_photos.append(WorkOrderPhoto(photo=after, position=0))
    db.session.commit()
    plan = create_plan(db.session, other_unit, users["hk_other"],
                       [Installment(TODAY + timedelta(days=10), 60_000),
                        Installment(TODAY + timedelta(days=40), 60_000)], "hardship", TODAY)
    waiver = Waiver(unit_id=unit.id, amount_fen=100, reason="老人独居",
                    requested_by=users["hk"].id)
    db.session.add(waiver)
    # Sent back as a supervisor left it; the audit walk makes these events itself, and
    # the unit's trail stays the visit, the complaint and its work order.
    db.session.add(ReviewDecision(visit_id=visit.id, user_id=users["supervisor"].id,
                                  decision=Decision.SEND_BACK, comment="门牌看不清"))
    visit.review_status = "sent_back"
    job = ImportJob(kind=ImportKind.BILLS, filename="bills.csv", created_by=users["admin"].id,
                    status=ImportStatus.REJECTED, rows_done=3, rows_total=3, error_count=1,
                    errors=[[3, "应缴日期", "2025-02-30", "There is no such day."]],
                    report={"bad_rows": 1})
    alias = HeaderAlias(community_id=community.id, kind=ImportKind.BILLS, field="amount",
                        alias="本期应收")
    db.session.add_all([job, alias])
    db.session.commit()
    clean, correction = _clean_corrected_visit(other_unit, users)
    return World(unit=unit, other_unit=other_unit, order=order, visit=visit,
                 visit_photo=visit.photos[0].photo, complaint_photo=complaint.photos[0].photo,
                 after_photo=after, users=users, plan=plan, waiver=waiver, clean_visit=clean,
                 correction_photo=correction.photos[0].photo, import_job=job,
                 header_alias=alias)


def _clean_corrected_visit(unit: Unit, users):
    """A visit at the building with no photo to doubt, sent back and corrected."""
    building = unit.building
    form = {"client_uuid": str(uuid.uuid4()), "outcome": "vacant",
            "lat": str(building.lat), "lon": str(building.lon), "accuracy": "12"}
    data = check_visit(form, photo_count=0, arrears_fen=unit.arrears_fen, today=TODAY,
                       promise_horizon_days=30)
    visit, _ = record_visit(db.session, storage(), unit, users["hk_other"], data, [],
                            today=TODAY, tz=timezone.utc)
    decide(db.session, visit, users["supervisor"], Decision.SEND_BACK, "请补拍门牌")
    correction, _ = correct_visit(
        db.session, storage(), visit, users["hk_other"], "补拍了门牌",
        [Upload("plate.jpg", make_jpeg(color=(11, 12, 13), taken="2026:11:22 10:00:00"), {})],
        str(uuid.uuid4()), tz=timezone.utc, limits=DEFAULT)
    return visit, correction
