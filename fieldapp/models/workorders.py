"""Complaints and the repair work orders they open: fix first, then collect."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, _enum, utcnow
from .visits import ServiceCategory

if TYPE_CHECKING:
    from .estate import Unit
    from .people import User
    from .visits import Photo, Visit


class WorkOrderStatus(str, enum.Enum):
    OPEN = "open"  # filed, waiting for an engineer
    ACCEPTED = "accepted"  # an engineer took it
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"  # repaired, with notes and after-photos


class Complaint(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    client_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"))
    category: Mapped[ServiceCategory] = mapped_column(_enum(ServiceCategory,
                                                            "complaint_category"))
    description: Mapped[str] = mapped_column(String(2000))
    created_by: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit] = relationship()
    visit: Mapped[Visit | None] = relationship()
    author: Mapped[User] = relationship()
    photos: Mapped[list[ComplaintPhoto]] = relationship(back_populates="complaint",
                                                        order_by="ComplaintPhoto.position")
    work_order: Mapped[WorkOrder] = relationship(back_populates="complaint", uselist=False)


class ComplaintPhoto(db.Model):
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"), primary_key=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photo.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    complaint: Mapped[Complaint] = relationship(back_populates="photos")
    photo: Mapped[Photo] = relationship()


class WorkOrder(db.Model):
    """While any work order of a unit is not closed, the unit is on dunning hold."""

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    category: Mapped[ServiceCategory] = mapped_column(_enum(ServiceCategory,
                                                            "work_order_category"))
    status: Mapped[WorkOrderStatus] = mapped_column(_enum(WorkOrderStatus, "work_order_status"),
                                                    default=WorkOrderStatus.OPEN)
    engineer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    repair_notes: Mapped[str] = mapped_column(String(2000), default="")
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    # The owner's verdict on the repair, recorded by the housekeeper afterwards.
    owner_satisfied: Mapped[bool | None] = mapped_column(Boolean)

    complaint: Mapped[Complaint] = relationship(back_populates="work_order")
    unit: Mapped[Unit] = relationship()
    engineer: Mapped[User | None] = relationship()
    events: Mapped[list[WorkOrderEvent]] = relationship(back_populates="work_order",
                                                        order_by="WorkOrderEvent.id")
    after_photos: Mapped[list[WorkOrderPhoto]] = relationship(back_populates="work_order",
                                                              order_by="WorkOrderPhoto.position")

    __table_args__ = (Index("ix_work_order_unit_status", "unit_id", "status"),)


class WorkOrderEvent(db.Model):
    """Each state change and note: the repair's own story, shown on the unit card."""

    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_order.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(20))  # filed, assigned, accepted, started, ...
    note: Mapped[str] = mapped_column(String(2000), default="")
    work_order: Mapped[WorkOrder] = relationship(back_populates="events")
    user: Mapped[User | None] = relationship()


class WorkOrderPhoto(db.Model):
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_order.id"), primary_key=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photo.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    work_order: Mapped[WorkOrder] = relationship(back_populates="after_photos")
    photo: Mapped[Photo] = relationship()
