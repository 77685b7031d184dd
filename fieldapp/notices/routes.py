from datetime import date, datetime, timedelta, timezone

from flask import (Response, abort, redirect, render_template, request, session,
                   stream_with_context, url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ..access import SEES_ALL_UNITS, SEES_UNITS, get_unit_or_404, restrict_units, role_required
from ..clock import company_tz, today
from ..domain.holds import DunningHold, hold_message
from ..domain.notice_text import BLOCKS, check_blocks
from ..extensions import db
from ..limits import current_limits
from ..params import id_param
from ..models import Building, Community, Notice, NoticeBatch, Role, StatementLink, Unit
from ..photos.storage import photo_keys, storage
from . import bp
from . import services as notices
from . import statements
from .evidence import gather, stream_bundle
from .limitation import units_at_risk
from .wording import KINDS

# An archived notice carries its own CSS and its QR code inline, and never a script.
ARCHIVE_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
               "script-src 'self'; form-action 'none'; base-uri 'none'; "
               "frame-ancestors 'none'")


def _deadline(raw: str | None, issued_on: date, errors: dict) -> date | None:
    try:
        day = date.fromisoformat(raw or "")
    except ValueError:
        errors["deadline"] = _("Enter a date like 2026-12-01.")
        return None
    if not issued_on < day <= issued_on + timedelta(days=90):
        errors["deadline"] = _("The deadline must be within the next 90 days.")
        return None
    return day


def _kind(raw: str | None) -> str:
    if raw not in KINDS:
        abort(404)
    return raw


@bp.get("/notices")
@login_required
@role_required(*SEES_ALL_UNITS)
def index():
    buildings = db.session.scalars(select(Building).order_by(Building.community_id,
                                                             Building.id)).all()
    recent = db.session.scalars(select(NoticeBatch).order_by(NoticeBatch.id.desc())
                                .limit(20)).all()
    return render_template("notices/index.html", buildings=buildings, batches=recent,
                           communities=db.session.scalars(select(Community)).all(),
                           values={}, errors={},
                           deadline=today() + timedelta(days=notices.DEFAULT_DEADLINE_DAYS))


@bp.post("/notices/print")
@login_required
@role_required(*SEES_ALL_UNITS)
def issue_building():
    building = db.get_or_404(Building, id_param(request.form.get("building")) or 0)
    errors: dict = {}
    deadline = _deadline(request.form.get("deadline"), today(), errors)
    if errors:
        return render_template("notices/index.html", buildings=db.session.scalars(
            select(Building)).all(), batches=[], communities=[], errors=errors,
            values=request.form, deadline=request.form.get("deadline", "")), 422
    batch = notices.issue_for_building(db.session, storage(), building, current_user,
                                       today=today(), deadline=deadline)
    return redirect(url_for("notices.batch", batch_id=batch.id), code=303)


@bp.get("/notice-batches/<int:batch_id>")
@login_required
@role_required(*SEES_ALL_UNITS)
def batch(batch_id: int):
    found = db.get_or_404(NoticeBatch, batch_id)
    parts = [notices.archived_parts(notices.archived(storage(), n)) for n in found.notices]
    response = Response(render_template("notices/batch.html", batch=found, parts=parts,
                                        styles=list(dict.fromkeys(s for s, _ in parts))))
    response.headers["Content-Security-Policy"] = ARCHIVE_CSP
    return response


@bp.get("/units/<int:unit_id>/notices/new")
@login_required
@role_required(*SEES_UNITS)
def new(unit_id: int):
    unit = get_unit_or_404(unit_id, current_user)
    return _form(unit, {}, {})


def _form(unit, values, errors, status=200):
    from ..domain.arrears import bands_from_policy, days_overdue, overdue_band, with_earliest_band
    from ..domain.stages import suggested_notice
    band = overdue_band(days_overdue(unit.oldest_unpaid_due, today()), with_earliest_band(
        bands_from_policy(unit.building.community.policy.bands))) if unit.arrears_fen else None
    deadline = today() + timedelta(days=notices.DEFAULT_DEADLINE_DAYS)
    return render_template("notices/new.html", unit=unit, values=values, errors=errors,
                           kinds=KINDS, suggested=suggested_notice(band.stage if band else None),
                           deadline=deadline), status


@bp.post("/units/<int:unit_id>/notices")
@login_required
@role_required(*SEES_UNITS)
def issue(unit_id: int):
    unit = get_unit_or_404(unit_id, current_user)
    errors: dict = {}
    kind = request.form.get("kind")
    if kind not in KINDS:
        errors["kind"] = _("Please choose one.")
    deadline = _deadline(request.form.get("deadline"), today(), errors)
    if errors:
        return _form(unit, request.form, errors, 422)
    try:
        notice = notices.issue_notice(db.session, storage(), unit, current_user, kind,
                                      today=today(), deadline=deadline)
    except DunningHold as held:
        db.session.rollback()
        return _form(unit, request.form, {"form": hold_message(held.work_order)}, 409)
    return redirect(url_for("notices.show", notice_id=notice.id), code=303)


@bp.get("/notices/<int:notice_id>")
@login_required
@role_required(*SEES_UNITS)
def show(notice_id: int):
    """The notice exactly as issued: the archived bytes, never a re-render."""
    notice = db.get_or_404(Notice, notice_id)
    get_unit_or_404(notice.unit_id, current_user)
    response = Response(notices.archived(storage(), notice), mimetype="text/html")
    response.headers["Content-Security-Policy"] = ARCHIVE_CSP
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


@bp.route("/communities/<int:community_id>/notice-templates/<kind>", methods=["GET", "POST"])
@login_required
@role_required(Role.ADMIN)
def edit_template(community_id: int, kind: str):
    community = db.get_or_404(Community, community_id)
    kind = _kind(kind)
    if request.method == "GET":
        return render_template("notices/template.html", community=community, kind=kind,
                               values=notices.template_blocks(db.session, community.id, kind),
                               errors={}, kinds=KINDS)
    blocks = {name: (request.form.get(name) or "").strip() for name in BLOCKS}
    errors = check_blocks(blocks, current_limits().text_limit("notice_block"))
    if errors:
        return render_template("notices/template.html", community=community, kind=kind,
                               values=blocks, errors=errors, kinds=KINDS), 422
    notices.save_template(db.session, community.id, kind, blocks, current_user)
    return redirect(url_for("notices.edit_template", community_id=community.id, kind=kind,
                            saved=1), code=303)


@bp.get("/s/<token>")
def statement(token: str):
    """The owner's statement: no account, no navigation, one unit only."""
    found = statements.resolve(db.session, token, datetime.now(timezone.utc))
    if found.state != "ok":
        status = 404 if found.state == "unknown" else 410
        return render_template("notices/statement_gone.html", state=found.state), status
    from ..units.services import unit_card
    unit = db.session.get(Unit, found.link.unit_id)
    card = unit_card(db.session, unit, today())
    return render_template("notices/statement.html", token=token, card=card,
                           payments=statements.payments_of(db.session, unit.id),
                           repairs=statements.repairs_done(db.session, unit.id),
                           today_iso=today().isoformat(),
                           **notices.statement_texts(db.session, unit, card, found.link,
                                                     today()))


@bp.get("/s/<token>/photos/<int:photo_id>")
def statement_photo(token: str, photo_id: int):
    found = statements.resolve(db.session, token, datetime.now(timezone.utc))
    photo = statements.statement_photo(db.session, found.link.unit_id, photo_id) \
        if found.state == "ok" else None
    if photo is None:
        abort(404)
    response = Response(storage().get(photo_keys(photo.sha256)["display"]),
                        mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.post("/units/<int:unit_id>/statement-links")
@login_required
@role_required(*SEES_UNITS)
def share(unit_id: int):
    """A reminder with the statement link, to send from the phone: logged as a contact."""
    unit = get_unit_or_404(unit_id, current_user)
    link, token = statements.share_link(db.session, unit, current_user)
    session["shared_link"] = [link.id, token]
    return redirect(url_for("notices.shared", unit_id=unit.id, link_id=link.id), code=303)


@bp.get("/units/<int:unit_id>/statement-links/<int:link_id>")
@login_required
@role_required(*SEES_UNITS)
def shared(unit_id: int, link_id: int):
    unit = get_unit_or_404(unit_id, current_user)
    link = db.get_or_404(StatementLink, link_id)
    if link.unit_id != unit.id:
        abort(404)
    kept = session.get("shared_link") or [None, None]
    token = kept[1] if kept[0] == link.id else None
    url = notices.statement_url(token) if token else None
    return render_template("notices/share.html", unit=unit, link=link, url=url)


@bp.post("/statement-links/<int:link_id>/revoke")
@login_required
@role_required(*SEES_UNITS)
def revoke(link_id: int):
    link = db.get_or_404(StatementLink, link_id)
    unit = get_unit_or_404(link.unit_id, current_user)
    statements.revoke(db.session, link, current_user)
    return redirect(url_for("units.card", unit_id=unit.id) + "#notices", code=303)


@bp.get("/units/<int:unit_id>/evidence.zip")
@login_required
@role_required(*SEES_ALL_UNITS)
def evidence(unit_id: int):
    unit = get_unit_or_404(unit_id, current_user)
    bundle = gather(db.session, unit, today())
    stamp = datetime.now(company_tz()).isoformat(timespec="seconds")
    response = Response(stream_with_context(stream_bundle(bundle, storage(), stamp)),
                        mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="evidence-{unit.id}.zip"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/limitation")
@login_required
@role_required(*SEES_ALL_UNITS)
def limitation():
    """Units whose limitation period for a bill ends within 90 days."""
    rows = units_at_risk(db.session, today(), company_tz(),
                         scope=restrict_units(select(Unit.id), current_user))
    return render_template("notices/limitation.html", rows=rows)
