"""Template globals and filters: static URLs with content hashes, money, masking."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask import Flask, request, url_for
from flask_babel import get_locale, get_translations
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .clock import company_tz
from .config import ROOT
from .domain.money import format_yuan, mask_phone
from .domain.stages import next_stage, next_step, stage_label
from .models import Role

# Files change only with a deploy, which restarts the app: hash each one once.
_STATIC_URLS: dict[tuple[str, str], str] = {}


def static_url(filename: str) -> str:
    """A static URL carrying a content hash, so assets can be cached for a year."""
    key = (request.script_root, filename)
    url = _STATIC_URLS.get(key)
    if url is None:
        digest = hashlib.sha256((ROOT / "static" / filename).read_bytes()).hexdigest()[:10]
        url = _STATIC_URLS[key] = url_for("static", filename=filename, v=digest)
    return url


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object
    icon: str


NAV = {
    Role.HOUSEKEEPER: [NavItem("route.index", _l("Route"), "route"),
                       NavItem("today.index", _l("Today"), "today"),
                       NavItem("auth.account", _l("Me"), "me")],
    Role.SUPERVISOR: [NavItem("route.index", _l("Route"), "route"),
                      NavItem("today.index", _l("Today"), "today"),
                      NavItem("review.index", _l("Review"), "review"),
                      NavItem("notices.index", _l("Notices"), "notices"),
                      NavItem("workorders.index", _l("Work orders"), "wo"),
                      NavItem("auth.account", _l("Me"), "me")],
    Role.ENGINEER: [NavItem("workorders.index", _l("Work orders"), "wo"),
                    NavItem("auth.account", _l("Me"), "me")],
    # Six at most fit a phone's bar: import, audit (and for admins notices) are on the
    # set-up page.
    Role.ADMIN: [NavItem("route.index", _l("Units"), "route"),
                 NavItem("review.index", _l("Review"), "review"),
                 NavItem("workorders.index", _l("Work orders"), "wo"),
                 NavItem("admin.index", _l("Admin"), "admin"),
                 NavItem("auth.account", _l("Me"), "me")],
}


def nav_items() -> list[NavItem]:
    if not current_user.is_authenticated:
        return []
    return NAV.get(current_user.role, [])


def query_args(args, drop=("page", "saved")) -> dict:
    """A request's query arguments to build another URL with: not `drop`, nor any that
    url_for would take as its own ("endpoint", "_external", "_anchor", …): a typed
    `?endpoint=x` must not break the page or point its links elsewhere."""
    return {k: v for k, v in args.items()
            if k not in drop and k != "endpoint" and not k.startswith("_")}


def url_with(**changes) -> str:
    """This page's URL with some query arguments changed (None or "" removes one);
    any change other than the page number starts again at page 1."""
    args = query_args(request.args)
    args.update(changes)
    args = {k: v for k, v in args.items() if v not in (None, "")}
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def _local(moment, fmt: str) -> str:
    """A stored time in the company's time zone (SQLite hands back naive UTC)."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(company_tz()).strftime(fmt)


def local_date(moment) -> str:
    return _local(moment, "%m-%d")


def local_time(moment) -> str:
    return _local(moment, "%Y-%m-%d %H:%M")


def local_day(moment) -> str:
    return _local(moment, "%Y-%m-%d")


def rendered_at() -> str:
    """When the server made this page: an offline copy says how old it is."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _translations():
    """The request's catalog, looked up once per request instead of once per string:
    a page has dozens of strings, and each lookup walks Flask-Babel's context."""
    current = request._get_current_object()  # per request, not per app context
    found = getattr(current, "doorstep_translations", None)
    if found is None:
        found = current.doorstep_translations = get_translations()
    return found


def page_csrf_token() -> str:
    """The session's token, or its placeholder in a body shared between sessions."""
    from flask import g
    from flask_wtf.csrf import generate_csrf

    from .route.cache import SESSION_TOKEN
    return SESSION_TOKEN if g.get("shared_render") else generate_csrf()


def page_user_id() -> str:
    from flask import g

    from .route.cache import USER_ID
    return USER_ID if g.get("shared_render") else str(current_user.id)


def init_app(app: Flask) -> None:
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n), newstyle=True)
    app.jinja_env.globals.update(static_url=static_url, nav_items=nav_items, url_with=url_with,
                                 get_locale=get_locale, timedelta=timedelta,
                                 rendered_at=rendered_at, page_csrf_token=page_csrf_token,
                                 page_user_id=page_user_id,
                                 stage_label=stage_label, next_step=next_step,
                                 next_stage=next_stage)
    from .domain.workorders import event_label, status_label
    from .visits.choices import label as visit_label
    app.jinja_env.globals.update(wo_status_label=status_label, wo_event_label=event_label)
    app.jinja_env.globals["visit_label"] = visit_label
    from .domain.latefee import daily_rate_percent
    app.jinja_env.globals["daily_rate_percent"] = daily_rate_percent
    app.jinja_env.filters["local_date"] = local_date
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["local_day"] = local_day
    app.jinja_env.filters["yuan"] = format_yuan
    app.jinja_env.filters["mask_phone"] = mask_phone
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def current_endpoint():
        return {"current_endpoint": request.endpoint or ""}
