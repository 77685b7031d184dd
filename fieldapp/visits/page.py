"""A visit's own page: what was submitted, its flags, photos and review history; the
review form for supervisors, the correction form for the housekeeper it was sent back to."""
from __future__ import annotations

from flask import render_template, request, url_for
from flask_login import current_user

from ..access import SEES_ALL_UNITS
from ..clock import company_tz
from ..extensions import db
from ..models import ReviewStatus, Role, Visit
from ..review.page import row_context
from ..review.services import history, last_send_back
from ..urls import safe_next


def visit_page(visit: Visit, *, errors: dict | None = None, values=None, status: int = 200):
    reviewer = current_user.role in SEES_ALL_UNITS
    home = "review.index" if reviewer else "today.index"
    back = safe_next(request.args.get("next"), home)
    return render_template(
        "visits/show.html", visit=visit,
        **row_context(db.session, visit, company_tz(),
                      url_for("visits.show", visit_id=visit.id, next=request.args.get("next"))),
        history=history(visit), sent_back=last_send_back(visit), back=back,
        can_review=reviewer and visit.review_status == ReviewStatus.PENDING.value,
        can_correct=current_user.role == Role.HOUSEKEEPER
        and visit.review_status == ReviewStatus.SENT_BACK.value,
        errors=errors or {}, values=values or {}), status
