"""Where photo bytes live. A local folder by default; an object store fits behind the
same methods without touching the routes."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

from flask import Flask, current_app

PARTIAL_PREFIX = ".tmp-"


@dataclass(frozen=True)
class StoredKey:
    """One stored object as a listing sees it; `partial` marks an interrupted write."""

    key: str
    size: int
    modified: datetime
    partial: bool = False


class Storage(Protocol):
    def put(self, key: str, data: bytes) -> None: ...
    def get(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def keys(self, prefix: str = "") -> Iterator[StoredKey]: ...
    def delete(self, key: str) -> None: ...


class LocalStorage:
    """Files under one root; written atomically so a crash leaves no half photo."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"bad storage key {key!r}")
        return path

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        if path.exists():
            # Content-addressed: same key, same bytes. Touched so that a sweep's grace
            # period protects it again while the upload's transaction runs.
            os.utime(path)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=PARTIAL_PREFIX)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def keys(self, prefix: str = "") -> Iterator[StoredKey]:
        """Every file whose key starts with `prefix`, partial writes included and flagged."""
        root = self.root.resolve()
        folder = prefix.rpartition("/")[0]
        top = self._path(folder) if folder else root
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames.sort()
            for name in sorted(filenames):
                path = Path(dirpath) / name
                key = path.relative_to(root).as_posix()
                if not key.startswith(prefix) or path.is_symlink():
                    continue
                st = path.stat()
                yield StoredKey(key, st.st_size,
                                datetime.fromtimestamp(st.st_mtime, timezone.utc),
                                name.startswith(PARTIAL_PREFIX))

    def delete(self, key: str) -> None:
        """Remove one file; a key already gone is not an error."""
        self._path(key).unlink(missing_ok=True)


def photo_keys(sha256: str) -> dict[str, str]:
    shard = sha256[:2]
    return {"original": f"originals/{shard}/{sha256}",
            "display": f"display/{shard}/{sha256}.jpg",
            "thumb": f"thumbs/{shard}/{sha256}.jpg"}


def init_app(app: Flask) -> None:
    app.extensions["photo_storage"] = LocalStorage(app.config["UPLOAD_DIR"])


def storage() -> Storage:
    return current_app.extensions["photo_storage"]
