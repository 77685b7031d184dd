"""The unit card: arrears by bill, late fee, contacts, what to do next."""
from flask import Blueprint

bp = Blueprint("units", __name__)

from . import routes  # noqa: E402,F401
