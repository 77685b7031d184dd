"""gzip for text responses: phones on a weak signal pay for every byte, and the app
is often served by gunicorn alone. Static files are compressed once per deploy."""
from __future__ import annotations

import gzip

from flask import Flask, Response, request

TEXT_TYPES = ("text/html", "text/css", "text/javascript", "application/javascript",
              "application/json", "application/manifest+json", "image/svg+xml")
MIN_BYTES = 1024
_STATIC_GZ: dict[tuple[str, str], bytes] = {}


def _compress(response: Response) -> Response:
    if (response.status_code != 200 or "Content-Encoding" in response.headers
            or "gzip" not in request.headers.get("Accept-Encoding", "")
            or not response.mimetype or not response.mimetype.startswith(TEXT_TYPES)):
        return response
    static = request.endpoint == "static"
    if static:
        response.direct_passthrough = False
        key = (request.path, response.headers.get("ETag", ""))
        body = _STATIC_GZ.get(key)
        if body is None:
            body = _STATIC_GZ[key] = gzip.compress(response.get_data(), 9)
        response.close()  # the file send_file opened
    else:
        data = response.get_data()
        if len(data) < MIN_BYTES:
            return response
        body = gzip.compress(data, 6)
    response.set_data(body)
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    return response


def init_app(app: Flask) -> None:
    app.after_request(_compress)
