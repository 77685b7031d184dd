from datetime import date, timedelta

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ..access import SEES_ALL_UNITS, SEES_UNITS, get_unit_or_404, restrict_units, role_required
from ..clock import today
from ..domain.holds import hold_message, open_work_order
from ..domain.money import AmountTooLarge, parse_yuan
from ..domain.promises import check_installments, monthly_dates, split_evenly
from ..extensions import db
from ..htmx import render_page_or_fragment, wants_json
from ..limits import current_limits
from ..models import InstallmentPlan, Unit, Waiver, WaiverStatus
from ..params import id_param
from . import bp
from .services import (
    Refused,
    cancel_plan,
    create_plan,
    decide_waiver,
    late_fee_due,
    policy_of,
    request_waiver,
)

EVERY = {"month": None, "2weeks": 14, "week": 7}


@bp.before_request
@login_required
@role_required(*SEES_UNITS)
def require_unit_role():
    """Plans and waivers belong to units: engineers see neither."""


def _plan_rows(unit, policy, args) -> tuple[list[tuple[str, str]], dict]:
    """The rows to show: as typed, or split evenly from count, first date and interval."""
    if any(k.startswith("date-") for k in args):
        n = min(len([k for k in args if k.startswith("date-")]), policy.max_installments + 5)
        return [(args.get(f"date-{i}", ""), args.get(f"amount-{i}", "")) for i in
                range(1, n + 1)], {}
    count = min(max(id_param(args.get("count")) or 3, 2), policy.max_installments)
    try:
        first = date.fromisoformat(args.get("first", ""))
    except ValueError:
        first = today() + timedelta(days=7)
    every = args.get("every") if args.get("every") in EVERY else "month"
    dates = monthly_dates(first, count, EVERY[every])
    amounts = split_evenly(unit.arrears_fen, count) if unit.arrears_fen >= count else []
    rows = [(d.isoformat(), f"{a // 100}.{a % 100:02d}") for d, a in zip(dates, amounts)]
    return rows, {"count": count, "first": first.isoformat(), "every": every}


def _plan_page(unit, values, rows, errors, status=200):
    policy = policy_of(db.session, unit)
    return render_page_or_fragment(
        "promises/plan_new.html", "promises/_plan_rows.html", unit=unit, policy=policy,
        values=values, rows=rows, errors=errors, every=EVERY, today=today()), status


@bp.get("/units/<int:unit_id>/plans/new")
def new_plan(unit_id: int):
    unit = get_unit_or_404(unit_id, current_user)
    rows, settings = _plan_rows(unit, policy_of(db.session, unit), request.args)
    return _plan_page(unit, {**settings, "reason": request.args.get("reason", "")}, rows, {})


@bp.post("/units/<int:unit_id>/plans")
def create(unit_id: int):
    unit = get_unit_or_404(unit_id, current_user)
    policy = policy_of(db.session, unit)
    form = request.form
    rows, _settings = _plan_rows(unit, policy, form)
    reason = form.get("reason", "").strip()
    if (held := open_work_order(db.session, unit.id)) is not None:
        return _refusal(unit, form, rows, {"plan": hold_message(held)}, 409, "dunning_hold")
    installments, errors = check_installments(rows, total_fen=unit.arrears_fen, today=today(),
                                              max_count=policy.max_installments)
    if len(reason) > current_limits().text_limit("reason_detail"):
        errors["reason"] = _("At most %(n)s characters.",
                             n=current_limits().text_limit("reason_detail"))
    if unit.arrears_fen <= 0:
        errors = {"plan": _("Nothing is overdue: there is nothing to split.")}
    if errors:
        return _refusal(unit, form, rows, errors, 422, "invalid")
    plan = create_plan(db.session, unit, current_user, installments, reason, today())
    if wants_json():
        return jsonify(plan_id=plan.id, installments=len(installments)), 201
    flash(_("Installment plan saved: %(n)s installments.", n=len(installments)), "success")
    return redirect(url_for("units.card", unit_id=unit.id), code=303)


def _refusal(unit, form, rows, errors, status, code):
    if wants_json():
        return jsonify(error=code, errors={k: str(v) for k, v in errors.items()}), status
    return _plan_page(unit, form, rows, errors, status)


@bp.post("/plans/<int:plan_id>/cancel")
def cancel(plan_id: int):
    plan = db.session.scalar(select(InstallmentPlan).where(
        InstallmentPlan.id == plan_id,
        InstallmentPlan.unit_id.in_(restrict_units(select(Unit.id), current_user))))
    if plan is None:
        abort(404)
    try:
        cancel_plan(db.session, plan, current_user, request.form.get("reason", "")[:200],
                    today())
    except Refused as e:
        db.session.rollback()
        flash(str(e.message), "error")
    return redirect(url_for("units.card", unit_id=plan.unit_id), code=303)


def _waiver_page(unit, values, errors, status=200):
    return render_template("promises/waiver_new.html", unit=unit, values=values,
                           errors=errors, due=late_fee_due(db.session, unit, today())), status


@bp.get("/units/<int:unit_id>/waivers/new")
def new_waiver(unit_id: int):
    unit = get_unit_or_404(unit_id, current_user)
    return _waiver_page(unit, {}, {})


@bp.post("/units/<int:unit_id>/waivers")
def create_waiver(unit_id: int):
    unit = get_unit_or_404(unit_id, current_user)
    form = request.form
    errors, amount = {}, None
    reason = form.get("reason", "").strip()
    try:
        amount = parse_yuan(form.get("amount", ""))
    except AmountTooLarge:
        errors["amount"] = _("More than the late fee still owed.")
    except ValueError:
        errors["amount"] = _("Enter an amount in yuan, like 1280 or 1280.50.")
    if amount is not None and amount <= 0:
        errors["amount"] = _("The amount must be more than zero.")
    limit = current_limits().text_limit("reason_detail")
    if not reason:
        errors["reason"] = _("Say why the household should not pay it.")
    elif len(reason) > limit:
        errors["reason"] = _("At most %(n)s characters.", n=limit)
    if not errors:
        try:
            request_waiver(db.session, unit, current_user, amount, reason, today())
        except Refused as e:
            db.session.rollback()
            errors["amount"] = str(e.message)
            if wants_json():
                return jsonify(error="refused", errors=errors), e.status
            return _waiver_page(unit, form, errors, e.status)
    if errors:
        if wants_json():
            return jsonify(error="invalid", errors=errors), 422
        return _waiver_page(unit, form, errors, 422)
    if wants_json():
        return jsonify(status="pending"), 201
    flash(_("Waiver requested: a supervisor decides."), "success")
    return redirect(url_for("units.card", unit_id=unit.id), code=303)


@bp.get("/waivers")
@role_required(*SEES_ALL_UNITS)
def waivers():
    show = request.args.get("show")
    q = select(Waiver).order_by(Waiver.requested_at.desc()).limit(200)
    q = q.where(Waiver.status != WaiverStatus.PENDING) if show == "decided" else \
        q.where(Waiver.status == WaiverStatus.PENDING)
    return render_template("promises/waivers.html", waivers=db.session.scalars(q).all(),
                           show=show, errors={}, values={})


@bp.post("/waivers/<int:waiver_id>/decide")
@role_required(*SEES_ALL_UNITS)
def decide(waiver_id: int):
    waiver = db.session.get(Waiver, waiver_id)
    if waiver is None:
        abort(404)
    choice = request.form.get("decision")
    comment = request.form.get("comment", "").strip()[:500]
    if choice not in ("approve", "decline"):
        return _decision_refused(waiver, _("Choose approve or decline."), 422)
    try:
        decide_waiver(db.session, waiver, current_user, choice == "approve", comment)
    except Refused as e:
        db.session.rollback()
        return _decision_refused(waiver, str(e.message), e.status)
    if wants_json():
        return jsonify(status=waiver.status.value)
    flash(_("Waiver approved.") if choice == "approve" else _("Waiver declined."), "success")
    return redirect(url_for("promises.waivers"), code=303)


def _decision_refused(waiver, message, status):
    if wants_json():
        return jsonify(error="refused", message=message), status
    pending = db.session.scalars(select(Waiver).where(
        Waiver.status == WaiverStatus.PENDING).order_by(Waiver.requested_at.desc())).all()
    return render_template("promises/waivers.html", waivers=pending, show=None,
                           errors={waiver.id: message}, values=request.form), status
