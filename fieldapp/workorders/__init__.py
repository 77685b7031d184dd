"""Complaints, repair work orders and the owner's satisfaction."""
from flask import Blueprint

bp = Blueprint("workorders", __name__)

from . import complaints, routes  # noqa: E402,F401
