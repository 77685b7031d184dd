"""Authentication with a throttle on failed attempts (see throttle.py), server-side
sign-in sessions that sign-out can revoke, and password changes."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import g, has_request_context
from sqlalchemy import String, bindparam, cast, func, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import Assignment, EstateVersion, LoginSession, User, record_audit, utcnow
from . import throttle
from .throttle import Device, as_aware

# Compared against when the user does not exist, so both paths cost the same.
_DUMMY_HASH = generate_password_hash("not-a-password", method="scrypt")
# last_seen_at is a hint for the device list, not a log: one write per few minutes is enough.
TOUCH_EVERY = timedelta(minutes=5)
USER_AGENT_LENGTH = 200
MIN_PASSWORD_LENGTH = 10


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    retry_after: int = 0  # seconds; > 0 means refused without checking the password
    other_device_works: bool = False  # the wait binds this browser, not the user's own phone


def authenticate(session: Session, username: str, password: str, *, address: str,
                 device: Device | None, free_attempts: int, ceiling: int,
                 now: datetime | None = None) -> LoginResult:
    """Check the password unless this browser must wait first; an unknown username takes
    exactly the same path, so the answers never tell who exists."""
    now = now or utcnow()
    key = username.strip().lower()
    trusted = device is not None and device.username == key
    judged_by = throttle.counters(key, address, device if trusted else None,
                                  free_attempts=free_attempts, ceiling=ceiling)
    wait = throttle.wait_seconds(session, judged_by, now)
    if wait:
        return LoginResult(None, wait, other_device_works=not trusted)

    user = session.scalar(select(User).where(User.username == key))
    ok = user.check_password(password) if user else check_password_hash(_DUMMY_HASH, password)
    if ok and user.active:
        throttle.forget(session, judged_by[0])
        return LoginResult(user)
    for counter in judged_by:
        throttle.count_failure(session, counter, now)
    return LoginResult(None)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_login_session(user: User, *, user_agent: str, address: str = "",
                        now: datetime | None = None) -> str:
    """A new sign-in session for this browser; its id is what Flask-Login keeps."""
    token = secrets.token_urlsafe(32)
    now = now or utcnow()
    # revoked_at is set, not left out, so a bulk revoke later in this session shows on it.
    login = LoginSession(user=user, token_hash=_token_hash(token), created_at=now,
                         last_seen_at=now, user_agent=user_agent[:USER_AGENT_LENGTH],
                         revoked_at=None)
    db.session.add(login)
    db.session.flush()
    user.login_id, user.login_session = f"{user.id}:{token}", login
    record_audit(user, "user.sign_in", "user", user.id, login_session=login.id, address=address)
    return user.login_id


# The user, the sign-in session and the user's patch in one statement: every signed-in
# request starts here, and on PostgreSQL each statement is a round trip.
_SIGNED_IN = select(
    User, LoginSession,
    select(func.aggregate_strings(cast(Assignment.building_id, String), ","))
    .where(Assignment.user_id == User.id).correlate(User).scalar_subquery(),
    select(EstateVersion.n).where(EstateVersion.id == 1).scalar_subquery(),
).join(LoginSession, LoginSession.user_id == User.id).where(
    LoginSession.token_hash == bindparam("token_hash"), LoginSession.revoked_at.is_(None),
    User.active.is_(True))


def load_signed_in(login_id: str, *, now: datetime | None = None) -> User | None:
    """The active user of a live sign-in session "<user id>:<token>", found by one join."""
    user_id, _, token = login_id.partition(":")
    if not token:
        return None  # a bare user id from before sign-in sessions
    found = db.session.execute(_SIGNED_IN, {"token_hash": _token_hash(token)}).first()
    if found is None or str(found.User.id) != user_id:
        return None
    user, login, patch, estate_version = found
    user.login_id, user.login_session = login_id, login
    if has_request_context():  # the patch, read with the user (access.patch_building_ids)
        g.patch_of = (user.id, tuple(int(i) for i in patch.split(",")) if patch else ())
        g.estate_version = estate_version  # and the rules' count (route.rules)
    _touch(login, now or utcnow())
    return user


def _touch(login: LoginSession, now: datetime) -> None:
    # The loader runs before the view writes anything, so this commit carries only the touch.
    if now - as_aware(login.last_seen_at) >= TOUCH_EVERY:
        login.last_seen_at = now
        db.session.commit()


def end_login_session(user: User, *, now: datetime | None = None) -> None:
    """Sign-out: this browser's session is refused from now on, remember cookie included."""
    login = user.login_session
    login.revoked_at = now or utcnow()
    record_audit(user, "user.sign_out", "user", user.id, login_session=login.id)


def active_login_sessions(user: User) -> list[LoginSession]:
    """The user's signed-in devices, most recently seen first."""
    return list(db.session.scalars(
        select(LoginSession).where(LoginSession.user_id == user.id,
                                   LoginSession.revoked_at.is_(None))
        .order_by(LoginSession.last_seen_at.desc(), LoginSession.id.desc())))


def signed_in_users(*, exclude: User) -> list[tuple[User, int]]:
    """Other users with live sessions and how many, for an admin's sign-out buttons."""
    count = func.count(LoginSession.id)
    rows = db.session.execute(
        select(User, count).join(LoginSession, LoginSession.user_id == User.id)
        .where(LoginSession.revoked_at.is_(None), User.id != exclude.id)
        .group_by(User.id).order_by(User.username))
    return [(user, n) for user, n in rows]


def _revoke(user: User, *, keep: LoginSession | None, now: datetime) -> int:
    query = update(LoginSession).where(LoginSession.user_id == user.id,
                                       LoginSession.revoked_at.is_(None))
    if keep is not None:
        query = query.where(LoginSession.id != keep.id)
    return db.session.execute(query.values(revoked_at=now)).rowcount


def sign_out_everywhere(user: User, *, by: User, now: datetime | None = None) -> int:
    """Revoke every session of user, by the user themself or by an admin; how many."""
    revoked = _revoke(user, keep=None, now=now or utcnow())
    action = "user.sign_out_everywhere" if by.id == user.id else "user.revoke_sessions"
    record_audit(by, action, "user", user.id, revoked=revoked)
    return revoked


def set_password(user: User, new: str, *, keep_session: LoginSession | None,
                 by: User | None = None, now: datetime | None = None,
                 temporary: bool = False) -> int:
    """A new password signs out every other session of the user (every one when
    keep_session is None): whoever knew the old one is out. A temporary one (an
    administrator's reset) must be replaced by the user before anything else. Returns
    how many sessions ended."""
    if len(new) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"The password needs at least {MIN_PASSWORD_LENGTH} characters.")
    user.set_password(new)
    user.must_change_password = temporary
    revoked = _revoke(user, keep=keep_session, now=now or utcnow())
    record_audit(by, "user.password_reset" if temporary else "user.password_change", "user",
                 user.id, revoked=revoked)
    return revoked


def set_language(user: User, locale: str) -> None:
    """The user's language, for every device they sign in on."""
    if user.locale != locale:
        record_audit(user, "user.language", "user", user.id, before=user.locale, after=locale)
        user.locale = locale


# Wrong current passwords on the change-password form, per sign-in session: someone
# holding a borrowed, signed-in phone must not guess the password at full speed.
PASSWORD_CHECKS_FREE = 5


def current_password_wait(user: User, password: str, *, now: datetime | None = None) -> int | None:
    """None when `password` is the user's; else seconds to wait before the next try
    (0: may try again now). Failures are counted like failed sign-ins."""
    now = now or utcnow()
    login = user.login_session
    counter = throttle.Counter(throttle._key("p", str(login.id if login else user.id)),
                               PASSWORD_CHECKS_FREE, throttle.FORGET_AFTER)
    wait = throttle.wait_seconds(db.session, [counter], now)
    if wait:
        return wait
    if user.check_password(password):
        throttle.forget(db.session, counter)
        return None
    throttle.count_failure(db.session, counter, now)
    return throttle.wait_seconds(db.session, [counter], now)


def set_visited_sink(user: User, sink: bool) -> None:
    """Whether units visited today move below those still to knock on the route list."""
    if user.visited_sink != sink:
        record_audit(user, "user.route_setting", "user", user.id, visited_sink=sink)
        user.visited_sink = sink
