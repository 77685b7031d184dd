"""Reviewing visit evidence: the queue of visits waiting, doubt flags, approve or send
back, and each housekeeper's day."""
from flask import Blueprint

bp = Blueprint("review", __name__)

from . import routes  # noqa: E402,F401
