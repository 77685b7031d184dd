"""Set-up without a developer: users and their patches, coverage, communities, their
policies and buildings. Administrators do everything; supervisors manage the patches
of housekeepers."""
from flask import Blueprint, current_app, request
from flask_login import login_required

from ..access import SEES_ALL_UNITS, role_required

bp = Blueprint("admin", __name__, url_prefix="/admin", cli_group=None)

# The areas whose pages read policies; the others (health checks, the service worker,
# sign-in) need not wait for one.
_READ_POLICIES = {"admin", "promises", "route", "today", "units", "visits"}


@bp.before_request
@login_required
@role_required(*SEES_ALL_UNITS)
def require_set_up_role():
    """Housekeepers and engineers have no set-up pages."""


@bp.before_app_request
def policies_in_force():
    """A policy change dated ahead takes effect on its day: the first request of each
    day in each process puts it in force, as the nightly job does."""
    if request.blueprint not in _READ_POLICIES:
        return
    from ..clock import today
    from ..extensions import db
    from .estate import apply_due_versions
    day = today()
    if current_app.extensions.get("policies_checked_on") != day:
        apply_due_versions(db.session, day)
        current_app.extensions["policies_checked_on"] = day


from . import cli, estate_routes, routes, user_routes  # noqa: E402,F401
from .words import policy_value, role_label, source_label  # noqa: E402

for _helper in (policy_value, role_label, source_label):
    bp.add_app_template_global(_helper)
