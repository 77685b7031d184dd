"""Where photo bytes live. A local folder by default; an object store fits behind the
same three methods without touching the routes."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Protocol

from flask import Flask, current_app


class Storage(Protocol):
    def put(self, key: str, data: bytes) -> None: ...
    def get(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...


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
            return  # content-addressed: same key, same bytes
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).exists()


def photo_keys(sha256: str) -> dict[str, str]:
    shard = sha256[:2]
    return {"original": f"originals/{shard}/{sha256}",
            "display": f"display/{shard}/{sha256}.jpg",
            "thumb": f"thumbs/{shard}/{sha256}.jpg"}


def init_app(app: Flask) -> None:
    app.extensions["photo_storage"] = LocalStorage(app.config["UPLOAD_DIR"])


def storage() -> Storage:
    return current_app.extensions["photo_storage"]
