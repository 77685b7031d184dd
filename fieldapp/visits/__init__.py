"""Logging a visit at the door, and the photos that prove it."""
from flask import Blueprint

bp = Blueprint("visits", __name__)

from . import routes  # noqa: E402,F401
