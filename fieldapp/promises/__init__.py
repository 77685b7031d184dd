"""Installment plans (分期) and late-fee waivers (减免): what a household agrees, and
what a supervisor approves."""
from flask import Blueprint

bp = Blueprint("promises", __name__)

from . import routes  # noqa: E402,F401
