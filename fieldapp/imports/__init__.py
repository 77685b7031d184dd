"""Imports from the billing system (buildings, units, contacts, bills, payments): the
`flask import` command and the /imports page run the same job."""
from flask import Blueprint

bp = Blueprint("imports", __name__)

from . import routes  # noqa: E402,F401
