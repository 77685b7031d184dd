from datetime import date

from flask import request
from flask_login import login_required
from sqlalchemy import select

from ..access import SEES_ALL_UNITS, role_required
from ..clock import company_tz
from ..extensions import db
from ..htmx import render_page_or_fragment
from ..models import Unit, User
from ..params import id_param
from ..templating import query_args
from . import bp
from .services import AuditFilters, audit_page
from .words import KINDS, action_label, summary


@bp.before_request
@login_required
@role_required(*SEES_ALL_UNITS)
def require_supervisor():
    """The trail names everyone's actions on every patch: supervisors and admins."""


def _day(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, "")[:10])
    except ValueError:
        return None


def _filters() -> AuditFilters:
    kind = request.args.get("kind") or None
    return AuditFilters(
        unit_id=id_param(request.args.get("unit")), user_id=id_param(request.args.get("user")),
        kind=kind if kind in dict(KINDS) else None, day_from=_day("from"), day_to=_day("to"),
        before_id=id_param(request.args.get("before")))


@bp.get("/audit")
def index():
    filters = _filters()
    page = audit_page(db.session, filters, company_tz())
    unit = db.session.get(Unit, filters.unit_id) if filters.unit_id else None
    users = db.session.scalars(select(User).order_by(User.role, User.username)).all()
    return render_page_or_fragment(
        "audit/index.html", "audit/_events.html", trail=page, filters=filters, unit=unit,
        users=users, kinds=KINDS, action_label=action_label, summary=summary,
        args=query_args(request.args, drop=("before",)),
        args_without_unit=query_args(request.args, drop=("before", "unit")))
