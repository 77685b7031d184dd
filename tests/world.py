"""A small estate with one of everything, for tests that walk every route: two patches,
a unit in each, a visit with a photo, a complaint whose work order is assigned (with an
after-photo from an earlier repair, as a reopened order has), and a user of every role."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask import current_app

from fieldapp.domain.promises import Installment
from fieldapp.domain.visits import check_visit
from fieldapp.extensions import db
from fieldapp.limits import DEFAULT
from fieldapp.models import (
    InstallmentPlan,
    Notice,
    NoticeBatch,
    Photo,
    Role,
    ServiceCategory,
    StatementLink,
    Unit,
    User,
    Visit,
    Waiver,
    WorkOrder,
    WorkOrderPhoto,
)
from fieldapp.notices.services import issue_for_building, issue_notice, new_token
from fieldapp.photos.evidence import Upload, store_photos
from fieldapp.photos.storage import storage
from fieldapp.promises.services import create_plan
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
    notice: Notice  # issued for `other_unit` (`unit` is on hold), in `batch`
    batch: NoticeBatch
    statement_link: StatementLink  # shared for `unit`
    statement_token: str


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
    db.session.commit()
    with current_app.test_request_context():
        batch = issue_for_building(db.session, storage(), other_unit.building,
                                   users["supervisor"], today=TODAY,
                                   deadline=TODAY + timedelta(days=15))
        notice = issue_notice(db.session, storage(), other_unit, users["hk_other"],
                              "payment_notice", today=TODAY, deadline=TODAY + timedelta(days=15),
                              batch=batch)
    # Made directly, not shared: the unit's audit trail stays as the audit tests expect.
    token, digest = new_token()
    link = StatementLink(unit_id=unit.id, token_hash=digest, created_by=users["hk"].id,
                         expires_at=datetime.now(timezone.utc) + timedelta(days=30))
    db.session.add(link)
    db.session.commit()
    return World(unit=unit, other_unit=other_unit, order=order, visit=visit,
                 visit_photo=visit.photos[0].photo, complaint_photo=complaint.photos[0].photo,
                 after_photo=after, users=users, plan=plan, waiver=waiver, notice=notice,
                 batch=batch, statement_link=link, statement_token=token)
