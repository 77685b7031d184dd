"""Sign-in, sign-out, language and the account page."""
from flask import Blueprint

from ..extensions import login_manager
from ..models import User
from .services import load_signed_in

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(login_id: str) -> User | None:
    return load_signed_in(login_id)


from . import routes  # noqa: E402,F401
