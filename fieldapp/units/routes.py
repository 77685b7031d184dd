from flask import render_template, request, url_for
from flask_login import current_user, login_required

from ..access import SEES_UNITS, can_see_phone_numbers, get_unit_or_404, role_required
from ..clock import company_tz, today
from ..extensions import db
from ..urls import safe_next
from . import bp
from .services import unit_card, with_history


@bp.before_request
@login_required
@role_required(*SEES_UNITS)
def require_unit_access():
    """Engineers never see owners' arrears or phone numbers."""


def card_url(unit) -> str:
    """This card's own address, for pages opened from it to come back to (a form posted
    from it and shown again with its errors is not an address to go back to)."""
    if request.method == "GET" and request.endpoint == "units.card":
        return request.full_path.rstrip("?")
    return url_for("units.card", unit_id=unit.id)


def render_card(unit, status: int = 200, **extra):
    """The unit card; forms posted from it come back here with their errors."""
    from datetime import datetime, timezone

    from ..notices.services import card_panel
    card = unit_card(db.session, unit, today())
    panel = card_panel(db.session, unit, card, today(), company_tz(),
                       datetime.now(timezone.utc))
    return render_template("units/card.html", card=card, panel=panel,
                           show_phones=can_see_phone_numbers(current_user, unit),
                           next_url=safe_next(request.args.get("next"), "route.index"),
                           card_url=card_url(unit), **extra), status


@bp.get("/units/<int:unit_id>")
def card(unit_id: int):
    return render_card(get_unit_or_404(unit_id, current_user, with_contacts=True,
                                       options=(with_history(),)))
