"""One photo in its context (a visit, a correction of one, a complaint, or a work order's
after-photos) with
its neighbours, for users who may see what it is evidence of; and where to go back to."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Union

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import (
    ComplaintPhoto,
    CorrectionPhoto,
    Photo,
    Unit,
    User,
    Visit,
    VisitCorrection,
    VisitPhoto,
    WorkOrder,
    WorkOrderPhoto,
)
from ..workorders.access import WORKS_ON_REPAIRS
from .access import visible_visit_ids, visible_work_order_ids

Kind = Literal["visits", "corrections", "complaints", "workorders"]
PhotoLink = Union[VisitPhoto, CorrectionPhoto, ComplaintPhoto, WorkOrderPhoto]


@dataclass(frozen=True)
class PhotoInContext:
    kind: Kind
    owner_id: int  # the visit, correction, complaint or work order the photos belong to
    unit: Unit
    visit: Visit | None
    work_order: WorkOrder | None
    links: list[PhotoLink]  # in the order they were taken
    n: int  # 1-based

    @property
    def photo(self) -> Photo:
        return self.links[self.n - 1].photo

    @property
    def count(self) -> int:
        return len(self.links)

    @property
    def prev_n(self) -> int | None:
        return self.n - 1 if self.n > 1 else None

    @property
    def next_n(self) -> int | None:
        return self.n + 1 if self.n < self.count else None

    @property
    def reported_taken_at(self) -> str:
        """The capture time the phone read before downscaling stripped EXIF, as the
        phone's own wall clock ("2026-11-21 09:15"), or "" when it sent none."""
        meta = getattr(self.links[self.n - 1], "client_meta", None) or {}
        try:
            taken = datetime.strptime(str(meta.get("exif_taken_at", "")), "%Y:%m:%d %H:%M:%S")
        except ValueError:
            return ""
        return taken.strftime("%Y-%m-%d %H:%M")


def photo_in_context(session: Session, kind: Kind, owner_id: int, n: int,
                     user: User) -> PhotoInContext | None:
    """Photo n of a visit, complaint or work order the user may see; None otherwise
    (also when there is no photo n), so existence does not leak."""
    visit = order = None
    if kind == "visits":
        visit = session.scalar(select(Visit).where(
            Visit.id == owner_id, Visit.id.in_(visible_visit_ids(user))))
        if visit is None:
            return None
        links, unit = visit.photos, visit.unit
    elif kind == "corrections":
        correction = session.scalar(select(VisitCorrection).where(
            VisitCorrection.id == owner_id,
            VisitCorrection.visit_id.in_(visible_visit_ids(user))))
        if correction is None:
            return None
        visit = correction.visit
        links, unit = correction.photos, visit.unit
    else:
        owner = WorkOrder.complaint_id if kind == "complaints" else WorkOrder.id
        order = session.scalar(select(WorkOrder).where(
            owner == owner_id, WorkOrder.id.in_(visible_work_order_ids(user))))
        if order is None:
            return None
        links = order.complaint.photos if kind == "complaints" else order.after_photos
        unit = order.unit
    if not 1 <= n <= len(links):
        return None
    return PhotoInContext(kind, owner_id, unit, visit, order, list(links), n)


def home_of(shown: PhotoInContext, user: User) -> tuple[str, dict]:
    """The page that shows these photos, to go back to when the viewer was not told:
    the work order page for those who work on repairs, a correction's visit, else the
    unit card."""
    if shown.work_order is not None and user.role in WORKS_ON_REPAIRS:
        return "workorders.show", {"order_id": shown.work_order.id}
    if shown.kind == "corrections":
        return "visits.show", {"visit_id": shown.visit.id}
    return "units.card", {"unit_id": shown.unit.id}
