"""Today: what is due, what broke and what was decided, one tap from a call or the unit."""
from flask import Blueprint

bp = Blueprint("today", __name__)

from . import routes  # noqa: E402,F401
