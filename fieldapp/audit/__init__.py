"""The audit trail: who did what to which record, for supervisors to read."""
from flask import Blueprint

bp = Blueprint("audit", __name__)

from . import routes  # noqa: E402,F401
