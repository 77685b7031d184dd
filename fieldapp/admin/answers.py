"""How a set-up form answers: 303 to the next page with a message, or the page again
(422) with what was typed and a message per field; JSON for outside tools."""
from __future__ import annotations

from typing import Callable

from flask import flash, jsonify, redirect
from flask_login import current_user

from ..htmx import wants_json
from ..models import Role


def done(url: str, message, **payload):
    if wants_json():
        return jsonify(status="ok", **payload)
    flash(str(message), "success")
    return redirect(url, code=303)


def refused(errors: dict, page: Callable[[], str], status: int = 422):
    if wants_json():
        return jsonify(error="invalid", errors={k: str(v) for k, v in errors.items()}), status
    return page(), status


def is_admin() -> bool:
    return current_user.role == Role.ADMIN
