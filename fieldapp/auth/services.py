"""Authentication with a throttle on failed attempts, per username known or not, and
server-side sign-in sessions that sign-out can revoke."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import LoginSession, LoginThrottle, User, record_audit, utcnow

# Compared against when the user does not exist, so both paths cost the same.
_DUMMY_HASH = generate_password_hash("not-a-password", method="scrypt")
MAX_BLOCK = timedelta(minutes=15)
# last_seen_at is a hint for the device list, not a log: one write per few minutes is enough.
TOUCH_EVERY = timedelta(minutes=5)
USER_AGENT_LENGTH = 200


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    retry_after: int = 0  # seconds; > 0 means refused without checking the password


def _as_aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def authenticate(session: Session, username: str, password: str, *, free_attempts: int,
                 now: datetime | None = None) -> LoginResult:
    now = now or datetime.now(timezone.utc)
    key = username.strip().lower()
    throttle = session.get(LoginThrottle, key)
    if throttle and throttle.blocked_until and _as_aware(throttle.blocked_until) > now:
        return LoginResult(None, int((_as_aware(throttle.blocked_until) - now).total_seconds()) + 1)

    user = session.scalar(select(User).where(User.username == key))
    ok = user.check_password(password) if user else check_password_hash(_DUMMY_HASH, password)
    if ok and user.active:
        if throttle:
            session.delete(throttle)
        return LoginResult(user)

    if throttle is None:
        throttle = LoginThrottle(key=key, failures=0)
        session.add(throttle)
    throttle.failures += 1
    over = throttle.failures - free_attempts
    if over >= 0:
        # 15 s, 30 s, 1 min, ... up to 15 minutes.
        throttle.blocked_until = now + min(timedelta(seconds=15 * 2 ** over), MAX_BLOCK)
    return LoginResult(None)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_login_session(user: User, *, user_agent: str, now: datetime | None = None) -> str:
    """A new sign-in session for this browser; its id is what Flask-Login keeps."""
    token = secrets.token_urlsafe(32)
    now = now or utcnow()
    login = LoginSession(user=user, token_hash=_token_hash(token), created_at=now,
                         last_seen_at=now, user_agent=user_agent[:USER_AGENT_LENGTH])
    db.session.add(login)
    db.session.flush()
    user.login_id, user.login_session = f"{user.id}:{token}", login
    record_audit(user, "sign_in", "user", user.id, login_session=login.id)
    return user.login_id


def load_signed_in(login_id: str, *, now: datetime | None = None) -> User | None:
    """The active user of a live sign-in session "<user id>:<token>", found by one join."""
    user_id, _, token = login_id.partition(":")
    if not token:
        return None  # a bare user id from before sign-in sessions
    found = db.session.execute(
        select(User, LoginSession).join(LoginSession, LoginSession.user_id == User.id)
        .where(LoginSession.token_hash == _token_hash(token),
               LoginSession.revoked_at.is_(None), User.active.is_(True))).first()
    if found is None or str(found.User.id) != user_id:
        return None
    user, login = found
    user.login_id, user.login_session = login_id, login
    _touch(login, now or utcnow())
    return user


def _touch(login: LoginSession, now: datetime) -> None:
    # The loader runs before the view writes anything, so this commit carries only the touch.
    if now - _as_aware(login.last_seen_at) >= TOUCH_EVERY:
        login.last_seen_at = now
        db.session.commit()


def end_login_session(user: User, *, now: datetime | None = None) -> None:
    """Sign-out: this browser's session is refused from now on, remember cookie included."""
    login = user.login_session
    login.revoked_at = now or utcnow()
    record_audit(user, "sign_out", "user", user.id, login_session=login.id)
