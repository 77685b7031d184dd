from flask import render_template
from flask_login import current_user, login_required

from ..access import SEES_ALL_UNITS, SEES_UNITS, patch_building_ids, role_required
from ..clock import company_tz, today
from ..catch_up import catch_up
from ..extensions import db
from ..review.services import last_send_back, sent_back_to, waiting_count
from . import bp
from .services import AHEAD_DAYS, BROKEN_DAYS, today_list


@bp.get("/today")
@login_required
@role_required(*SEES_UNITS)
def index():
    day = today()
    catch_up(day, patch_building_ids(current_user))
    supervisor = current_user.role in SEES_ALL_UNITS
    sent_back = [] if supervisor else [(v, last_send_back(v))
                                       for v in sent_back_to(db.session, current_user)]
    return render_template("today/index.html", day=day, supervisor=supervisor,
                           today_list=today_list(db.session, current_user, day, company_tz(),
                                                 supervisor),
                           ahead=AHEAD_DAYS, broken_days=BROKEN_DAYS, sent_back=sent_back,
                           waiting_review=waiting_count(db.session, current_user)
                           if supervisor else 0)
