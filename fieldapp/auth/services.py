"""Authentication with a throttle on failed attempts, per username known or not."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ..models import LoginThrottle, User

# Compared against when the user does not exist, so both paths cost the same.
_DUMMY_HASH = generate_password_hash("not-a-password", method="scrypt")
MAX_BLOCK = timedelta(minutes=15)


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
