"""Failed sign-ins counted where they come from (OWASP "device cookies"), so a guesser
cannot lock the owner out: per username and address for a browser without a device
cookie, per device for a browser that signed in as that user before, and a much higher
per-username ceiling across every untrusted address against a distributed guess."""
from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from ..models import LoginThrottle
from ..models.base import insert_or_ignore

FIRST_WAIT = timedelta(seconds=15)
MAX_WAIT = timedelta(minutes=15)
FORGET_AFTER = timedelta(days=1)  # a day later a count of growing waits starts over
CEILING_WINDOW = timedelta(hours=1)
DEVICE_COOKIE = "doorstep_device"
DEVICE_COOKIE_AGE = timedelta(days=365)


@dataclass(frozen=True)
class Device:
    """A browser that signed in as this username before, named by its device cookie."""

    username: str
    nonce: str


@dataclass(frozen=True)
class Counter:
    """One count of failures: growing waits after `free` of them, or (the ceiling) one
    wait to the end of its window."""

    key: str
    free: int
    window: timedelta
    growing: bool = True


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="doorstep-device-cookie")


def device_cookie(secret: str, username: str) -> str:
    """A new device cookie, issued at each successful sign-in."""
    return _serializer(secret).dumps({"u": username, "n": secrets.token_urlsafe(16)})


def read_device_cookie(secret: str, value: str | None) -> Device | None:
    if not value:
        return None
    try:
        data = _serializer(secret).loads(value, max_age=DEVICE_COOKIE_AGE.total_seconds())
        return Device(username=str(data["u"]), nonce=str(data["n"]))
    except (BadData, KeyError, TypeError):
        return None


def as_aware(moment: datetime) -> datetime:
    """SQLite hands stored times back naive; they are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _key(kind: str, *parts: str) -> str:
    # Fixed length, whatever the username and the address.
    return f"{kind}:" + hashlib.sha256("\0".join(parts).encode()).hexdigest()


def counters(username: str, address: str, device: Device | None, *, free_attempts: int,
             ceiling: int) -> list[Counter]:
    """What judges this attempt; the first is the one a successful sign-in clears."""
    if device is not None:
        return [Counter(_key("d", device.nonce), free_attempts, FORGET_AFTER)]
    return [Counter(_key("a", username, address), free_attempts, FORGET_AFTER),
            Counter(_key("u", username), ceiling, CEILING_WINDOW, growing=False)]


def wait_seconds(session: Session, judged_by: list[Counter], now: datetime) -> int:
    """How long this attempt must wait; 0 means the password may be checked."""
    waits = [0]
    for counter in judged_by:
        row = session.get(LoginThrottle, counter.key)
        if row is not None and row.blocked_until is not None:
            left = (as_aware(row.blocked_until) - now).total_seconds()
            waits.append(max(0, math.ceil(left)))
    return max(waits)


def count_failure(session: Session, counter: Counter, now: datetime) -> None:
    row = session.get(LoginThrottle, counter.key)
    if row is None:
        # Two first failures at once must not collide on the key (a 500 for the guesser).
        insert_or_ignore(session, LoginThrottle, ["key"], key=counter.key, failures=0,
                         window_started_at=now)
        row = session.get(LoginThrottle, counter.key, populate_existing=True)
    if as_aware(row.window_started_at) + counter.window <= now:
        row.failures, row.window_started_at, row.blocked_until = 0, now, None
    row.failures += 1
    over = row.failures - counter.free
    if over < 0:
        return
    if counter.growing:  # 15 s, 30 s, 1 min, ... up to 15 minutes
        row.blocked_until = now + min(FIRST_WAIT * 2 ** over, MAX_WAIT)
    else:
        row.blocked_until = as_aware(row.window_started_at) + counter.window


def forget(session: Session, counter: Counter) -> None:
    row = session.get(LoginThrottle, counter.key)
    if row is not None:
        session.delete(row)
