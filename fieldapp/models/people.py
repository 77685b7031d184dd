"""Users, their patches, sign-in sessions and throttling, and the append-only audit trail."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .base import UTCDateTime, _enum, utcnow

if TYPE_CHECKING:
    from .estate import Building


class Role(str, enum.Enum):
    HOUSEKEEPER = "housekeeper"
    SUPERVISOR = "supervisor"
    ENGINEER = "engineer"
    ADMIN = "admin"


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str] = mapped_column(String(80), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    locale: Mapped[str | None] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Units visited today move below those still to knock (a route list setting).
    visited_sink: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    assignments: Mapped[list[Assignment]] = relationship(back_populates="user",
                                                         cascade="all, delete-orphan")
    login_sessions: Mapped[list[LoginSession]] = relationship(back_populates="user",
                                                              cascade="all, delete-orphan")

    # Set by sign-in and by the user loader: "<user id>:<token>" and its session row.
    login_id = None
    login_session = None
    # A row is one object per database session; UserMixin's __eq__ would compare
    # get_id(), which names a sign-in, not a user.
    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__

    def get_id(self) -> str:
        """Flask-Login keeps the sign-in session's id, so revoking the session signs out."""
        if self.login_id is None:
            raise RuntimeError("sign in through auth.services.start_login_session")
        return self.login_id

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def building_ids(self) -> list[int]:
        return list(db.session.scalars(
            select(Assignment.building_id).where(Assignment.user_id == self.id)))


class Assignment(db.Model):
    """A housekeeper's patch is the set of buildings assigned to them."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id"), index=True)
    user: Mapped[User] = relationship(back_populates="assignments")
    building: Mapped[Building] = relationship(back_populates="assignments")

    __table_args__ = (UniqueConstraint("user_id", "building_id", name="uq_assignment"),)


class LoginSession(db.Model):
    """One signed-in browser. Only a hash of its token is stored; revoking the row refuses
    both its session cookie and its remember cookie."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user: Mapped[User] = relationship(back_populates="login_sessions")


class LoginThrottle(db.Model):
    """Failed sign-ins under one key: a username at an address, a device, or a username's
    ceiling across addresses (auth/throttle.py); usernames known or not alike."""

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEvent(db.Model):
    """Append-only: who did what to which record, when. `unit_id` names the unit the
    record belongs to, so a unit's whole trail is one indexed read."""

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    user: Mapped[User | None] = relationship()

    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),
                      Index("ix_audit_unit_at", "unit_id", "at"),
                      Index("ix_audit_user_at", "user_id", "at"))


def record_audit(user: User | None, action: str, entity: str, entity_id: int | None, *,
                 unit_id: int | None = None, **detail: Any) -> AuditEvent:
    event = AuditEvent(user_id=user.id if user else None, action=action, entity=entity,
                       entity_id=entity_id, unit_id=unit_id, detail=detail)
    db.session.add(event)
    return event
