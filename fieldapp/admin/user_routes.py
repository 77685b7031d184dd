"""Users: the list, a new user, and one user's page with a form per change (name and
role, active, password, patch, hand-over). Supervisors see housekeepers only, and
change only their patches."""
from flask import abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from ..access import role_required
from ..extensions import db
from ..htmx import render_page_or_fragment
from ..limits import TEXT, current_limits
from ..models import Role, User
from ..params import id_param
from . import bp
from .answers import done, is_admin, refused
from .forms import LANGUAGES, check_new_user, check_password, check_user_edit
from .services import (
    Refused,
    UserFilters,
    coverage,
    create_user,
    hand_over,
    housekeepers,
    list_users,
    reset_password,
    set_active,
    set_patch,
    suggested_password,
    update_user,
)
from .words import ROLE_LABELS, STATUS_LABELS


def _filters() -> UserFilters:
    role = request.args.get("role")
    status = request.args.get("status", "active")
    return UserFilters(
        role=Role(role) if role in ROLE_LABELS else None,
        status=status if status in STATUS_LABELS else "active",
        q=request.args.get("q", "").strip()[:TEXT["search"]])


@bp.get("/users")
def users():
    filters = _filters()
    if not is_admin():
        filters = UserFilters(Role.HOUSEKEEPER, filters.status, filters.q)
    return render_page_or_fragment(
        "admin/users.html", "admin/_user_rows.html", rows=list_users(db.session, filters),
        filters=filters, admin=is_admin(), roles=ROLE_LABELS, statuses=STATUS_LABELS)


def _new_user_page(values, errors):
    return render_template("admin/user_new.html", values=values, errors=errors,
                           roles=ROLE_LABELS, languages=LANGUAGES)


@bp.get("/users/new")
@role_required(Role.ADMIN)
def new_user():
    return _new_user_page({"role": request.args.get("role", "housekeeper"), "locale": "zh_CN",
                           "password": suggested_password()}, {})


@bp.post("/users", endpoint="create_user")
@role_required(Role.ADMIN)
def create():
    values, errors = check_new_user(request.form, current_limits())
    if not errors:
        try:
            user = create_user(db.session, current_user, **values)
        except Refused as e:
            db.session.rollback()
            errors = {e.field: e.message}
    if errors:
        return refused(errors, lambda: _new_user_page(request.form, errors))
    return done(url_for("admin.user", user_id=user.id),
                _("%(name)s can sign in now with the temporary password, and will choose "
                  "their own.", name=user.display_name), user_id=user.id)


def _user_or_404(user_id: int) -> User:
    """Any user for an administrator; a supervisor sees housekeepers only."""
    user = db.session.get(User, user_id)
    if user is None or (not is_admin() and user.role != Role.HOUSEKEEPER):
        abort(404)
    return user


def _user_page(user: User, errors=None, values=None):
    return render_template(
        "admin/user.html", user=user, errors=errors or {}, values=values or {},
        admin=is_admin(), roles=ROLE_LABELS, coverage=coverage(db.session),
        patch={a.building_id for a in user.assignments},
        successors=[(h.id, f"{h.display_name} ({h.username})")
                    for h in housekeepers(db.session) if h.id != user.id],
        suggested=suggested_password())


@bp.get("/users/<int:user_id>")
def user(user_id: int):
    return _user_page(_user_or_404(user_id))


def _change(user: User, change, message, **payload):
    """Run one change of a user's page: done, or the page again with its message."""
    try:
        change()
    except Refused as e:
        db.session.rollback()
        if e.status == 404:
            abort(404)
        return refused({e.field: e.message}, lambda: _user_page(
            db.session.get(User, user.id), {e.field: e.message}, request.form), e.status)
    return done(url_for("admin.user", user_id=user.id), message, user_id=user.id, **payload)


@bp.post("/users/<int:user_id>", endpoint="update_user")
@role_required(Role.ADMIN)
def update(user_id: int):
    user = _user_or_404(user_id)
    values, errors = check_user_edit(request.form, current_limits())
    if errors:
        return refused(errors, lambda: _user_page(user, errors, request.form))
    return _change(user, lambda: update_user(db.session, current_user, user, **values),
                   _("Saved."))


@bp.post("/users/<int:user_id>/active", endpoint="set_active")
@role_required(Role.ADMIN)
def activate(user_id: int):
    user = _user_or_404(user_id)
    active = request.form.get("active") == "1"
    message = _("%(name)s can sign in again.", name=user.display_name) if active else \
        _("%(name)s is deactivated and signed out on every device. Their history stays.",
          name=user.display_name)
    return _change(user, lambda: set_active(db.session, current_user, user, active), message,
                   active=active)


@bp.post("/users/<int:user_id>/password", endpoint="reset_password")
@role_required(Role.ADMIN)
def password(user_id: int):
    user = _user_or_404(user_id)
    errors: dict = {}
    temporary = check_password(request.form, errors)
    if errors:
        return refused(errors, lambda: _user_page(user, errors, request.form))
    return _change(user, lambda: reset_password(db.session, current_user, user, temporary),
                   _("Temporary password set. %(name)s is signed out everywhere and chooses "
                     "a new password at the next sign-in.", name=user.display_name))


@bp.post("/users/<int:user_id>/buildings", endpoint="set_patch")
def patch(user_id: int):
    """The housekeeper's patch becomes the buildings ticked."""
    user = _user_or_404(user_id)
    chosen = {id_param(raw) for raw in request.form.getlist("building")} - {None}
    return _change(user, lambda: set_patch(db.session, current_user, user, chosen),
                   ngettext("The patch has %(num)s building.", "The patch has %(num)s buildings.",
                            len(chosen)), buildings=sorted(chosen))


@bp.post("/users/<int:user_id>/handover")
def handover(user_id: int):
    """Every building of the patch moves to another housekeeper."""
    user = _user_or_404(user_id)
    successor_id = id_param(request.form.get("successor"))
    successor = db.session.get(User, successor_id) if successor_id else None
    if successor is None:
        errors = {"successor": _("Choose the housekeeper who takes over.")}
        return refused(errors, lambda: _user_page(user, errors, request.form))
    return _change(user, lambda: hand_over(db.session, current_user, user, successor),
                   _("Their buildings now belong to %(name)s, with their promises and plans.",
                     name=successor.display_name), successor_id=successor.id)
