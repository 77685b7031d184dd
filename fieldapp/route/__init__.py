"""The route list: a housekeeper's overdue units, most severe first."""
from flask import Blueprint

bp = Blueprint("route", __name__)

from . import routes  # noqa: E402,F401
