"""Sign-in, sign-out, language and the account page."""
from flask import Blueprint

from ..extensions import db, login_manager
from ..models import User

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id))
    return user if user and user.active else None


from . import routes  # noqa: E402,F401
