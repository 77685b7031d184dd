"""Posting multipart forms in tests. The body is encoded in memory: the test client's
own encoder spools bodies over 500 KB to a temporary file it never closes."""
from __future__ import annotations

from io import BytesIO

from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart


def post_multipart(client, url: str, fields: dict, files=(), headers=None):
    """POST `fields` and `files` ([(field, filename, bytes)]) as multipart/form-data."""
    data = MultiDict(fields)
    for field, name, content in files:
        data.add(field, FileStorage(BytesIO(content), filename=name,
                                    content_type="application/octet-stream"))
    boundary, body = encode_multipart(data)
    return client.post(url, data=body, headers=headers or {},
                       content_type=f"multipart/form-data; boundary={boundary}")
