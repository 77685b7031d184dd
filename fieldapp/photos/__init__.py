"""Photo evidence: the pipeline that checks and derives copies, where the bytes are
stored, how uploads become records, and who may see them."""
from flask import Blueprint

bp = Blueprint("photos", __name__)

from . import routes  # noqa: E402,F401
