"""Operations on the database and the photo store: sweeping files no photo owns, backup
and restore. Plain functions; the click commands in cli.py only parse and print."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.engine import Engine

from .models import Photo
from .photos.storage import Storage, StoredKey, photo_keys

PHOTO_PREFIXES = ("originals/", "display/", "thumbs/")
RECHECK_BATCH = 500


class OpsError(Exception):
    """A check failed; the message tells the operator what and where."""


def photo_shas(engine: Engine) -> Iterator[str]:
    """Every Photo's sha256, streamed so a large table is not loaded at once."""
    with engine.connect() as conn:
        rows = conn.execution_options(yield_per=10_000).execute(select(Photo.sha256))
        yield from rows.scalars()


def owner_sha(key: str) -> str | None:
    """The sha256 a key would belong to, if it is exactly one of a photo's keys."""
    name = key.rsplit("/", 1)[-1].removesuffix(".jpg")
    if len(name) != 64:
        return None
    return name if key in photo_keys(name).values() else None


def find_orphans(engine: Engine, store: Storage, older_than: timedelta,
                 now: datetime | None = None) -> list[StoredKey]:
    """Files no Photo row points at, and partial writes, last touched before the grace
    period: an upload whose transaction still runs is younger than that."""
    cutoff = (now or datetime.now(timezone.utc)) - older_than
    known = set(photo_shas(engine))
    candidates = [entry for prefix in PHOTO_PREFIXES for entry in store.keys(prefix)
                  if entry.modified <= cutoff
                  and (entry.partial or owner_sha(entry.key) not in known)]
    return _drop_committed_since(engine, candidates)


def _drop_committed_since(engine: Engine, candidates: list[StoredKey]) -> list[StoredKey]:
    """Ask again for the candidates' photos: one may have been committed meanwhile."""
    shas = sorted({s for s in map(owner_sha, (c.key for c in candidates if not c.partial)) if s})
    committed: set[str] = set()
    with engine.connect() as conn:
        for i in range(0, len(shas), RECHECK_BATCH):
            batch = shas[i:i + RECHECK_BATCH]
            committed.update(conn.scalars(select(Photo.sha256).where(Photo.sha256.in_(batch))))
    return [c for c in candidates if c.partial or owner_sha(c.key) not in committed]


def remove(store: Storage, files: Iterable[StoredKey]) -> int:
    """Delete the files; returns how many."""
    n = 0
    for entry in files:
        store.delete(entry.key)
        n += 1
    return n
