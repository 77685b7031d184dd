from datetime import date

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select

from ..access import SEES_ALL_UNITS, role_required
from ..clock import company_tz, today
from ..extensions import db
from ..htmx import is_partial, render_page_or_fragment, wants_json
from ..limits import MAX_ID, current_limits
from ..models import Decision, Outcome, Role, User
from ..params import id_param
from ..urls import safe_next
from . import bp
from .day import day_report
from .page import community_buildings, place_filter, queue_context, row_context
from .services import (
    FLAG_FILTERS,
    QueueFilters,
    Refused,
    approve_many,
    decide,
    get_visit_or_404,
)


@bp.before_request
@login_required
@role_required(*SEES_ALL_UNITS)
def require_supervisor():
    """Supervisors review everyone's visits; a housekeeper never reviews their own."""


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat((raw or "")[:10])
    except ValueError:
        return None


def _filters(args) -> QueueFilters:
    outcome, flag = args.get("outcome"), args.get("flag")
    community_id, building_id = place_filter(db.session, id_param(args.get("community")),
                                             id_param(args.get("building")))
    return QueueFilters(
        hk_id=id_param(args.get("hk")), community_id=community_id, building_id=building_id,
        day=_day(args.get("date")),
        outcome=outcome if outcome in {o.value for o in Outcome} else None,
        flag=flag if flag in FLAG_FILTERS else None, before_id=id_param(args.get("before")))


@bp.get("/review")
def index():
    context = queue_context(db.session, current_user, _filters(request.args), company_tz(),
                            request.args)
    return render_page_or_fragment("review/index.html", "review/_queue.html", **context)


@bp.get("/review/buildings")
def buildings():
    """The building choices of one community, for the filter (htmx swaps them in when
    the community changes; without scripts the filter form reloads the page)."""
    community_id = id_param(request.args.get("community"))
    return render_template("review/_building_options.html",
                           buildings=community_buildings(db.session, community_id),
                           selected=None)


def _seen(raw: str) -> set[int]:
    """The flag ids the reviewer's page showed ("12,13")."""
    return {int(x) for x in raw.split(",")[:50] if x.isascii() and x.isdigit() and len(x) < 11}


@bp.post("/review/visits/<int:visit_id>/decision")
def decision(visit_id: int):
    visit = get_visit_or_404(db.session, visit_id, current_user)
    form = request.form
    back = safe_next(request.args.get("next"), "review.index")
    comment = form.get("comment", "").strip()
    limit = current_limits().text_limit("review_comment")
    try:
        if form.get("decision") not in {d.value for d in Decision}:
            raise Refused(_("Choose approve or send back."))
        if len(comment) > limit:
            raise Refused(_("At most %(n)s characters.", n=limit), 422, "comment")
        decide(db.session, visit, current_user, Decision(form["decision"]), comment,
               _seen(form.get("flags_seen", "")))
    except Refused as e:
        db.session.rollback()
        return _refused(visit, e, back)
    approved = visit.review_status == "approved"
    if wants_json():
        return jsonify(status=visit.review_status)
    if is_partial():
        return render_template("review/_decided.html", visit=visit, approved=approved)
    flash(_("Approved: %(unit)s.", unit=visit.unit.label) if approved else
          _("Sent back to %(name)s: %(unit)s.", unit=visit.unit.label,
            name=visit.user.display_name or visit.user.username), "success")
    return redirect(back + _anchor(form.get("focus_next")), code=303)


def _anchor(raw: str | None) -> str:
    """Back in the queue at the visit after the one decided (for the keyboard)."""
    if raw and raw.isascii() and raw.isdigit() and len(raw) <= 10 and 0 < int(raw) <= MAX_ID:
        return f"#visit-{int(raw)}"
    return ""


def _refused(visit, e: Refused, back: str):
    """JSON for tools; the queue item again for htmx; else the visit's page with the
    message next to the field and what was typed."""
    errors = {e.field: str(e.message)}
    if wants_json():
        return jsonify(error="refused", errors=errors), e.status
    if is_partial():
        return render_template("review/_item.html", **row_context(
            db.session, visit, company_tz(), back), errors=errors, values=request.form,
            back=back), e.status
    from ..visits.page import visit_page
    return visit_page(visit, errors=errors, values=request.form, status=e.status)


@bp.post("/review/approve")
def approve_selected():
    ids = [i for i in (id_param(raw) for raw in request.form.getlist("visit")[:200]) if i]
    back = safe_next(request.args.get("next"), "review.index")
    if not ids:
        if wants_json():
            return jsonify(error="invalid", errors={"visit": _("Choose visits to approve.")}), 422
        flash(_("Choose visits to approve."), "error")
        return redirect(back, code=303)
    result = approve_many(db.session, current_user, ids)
    if wants_json():
        return jsonify(approved=[v.id for v in result.approved],
                       flagged=[v.id for v in result.flagged], gone=result.gone)
    if result.approved:
        flash(ngettext("%(num)s visit approved.", "%(num)s visits approved.",
                       len(result.approved)), "success")
    if result.flagged:
        flash(ngettext("%(num)s visit has flags: open it before approving it.",
                       "%(num)s visits have flags: open each before approving it.",
                       len(result.flagged)), "error")
    return redirect(back, code=303)


@bp.get("/review/day")
def day():
    hk_id = id_param(request.args.get("hk"))
    housekeepers = db.session.scalars(select(User).where(User.role == Role.HOUSEKEEPER)
                                      .order_by(User.username)).all()
    chosen = _day(request.args.get("date")) or today()
    report = None
    if hk_id is not None:
        hk = db.session.get(User, hk_id)
        if hk is None or hk.role != Role.HOUSEKEEPER:
            abort(404)
        report = day_report(db.session, hk, chosen, company_tz(), today())
    return render_template("review/day.html", report=report, housekeepers=housekeepers,
                           hk_id=hk_id, day=chosen, today=today(),
                           back=url_for("review.index"))
