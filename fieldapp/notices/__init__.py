"""Notices as issued, the owner's statement link, the evidence bundle and the
limitation clock."""
from flask import Blueprint

bp = Blueprint("notices", __name__)

from . import routes  # noqa: E402,F401
