"""Installable and offline: manifest, service worker, offline page, the outbox page
and a fresh CSRF token for replaying queued visits."""
from __future__ import annotations

import hashlib
import json

from flask import Blueprint, Response, current_app, jsonify, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from .config import ROOT
from .templating import static_url

bp = Blueprint("pwa", __name__)

# The app shell: what a phone needs to open the app with no signal at all.
SHELL = ["app.css", "vendor/htmx-4.0.1.min.js", "app.js", "visit.js", "outbox.js",
         "outbox-page.js", "viewer.js",
         "icons/icon.svg", "icons/route.svg", "icons/me.svg", "icons/wo.svg", "icons/audit.svg",
         "icons/today.svg", "icons/review.svg",
         "icons/icon-192.png"]


def sw_version() -> str:
    """Changes whenever the worker or any shell file changes, so phones update."""
    digest = hashlib.sha256((ROOT / "static" / "sw.js").read_bytes())
    for name in SHELL:
        digest.update((ROOT / "static" / name).read_bytes())
    digest.update(current_app.config.get("SW_VERSION_SALT", "").encode())
    return digest.hexdigest()[:12]


@bp.get("/sw.js")
def service_worker():
    # Served from the root so its scope covers every page, never cached by HTTP.
    source = (ROOT / "static" / "sw.js").read_text()
    shell = [static_url(name) for name in SHELL] + [url_for("pwa.offline")]
    body = source.replace("__VERSION__", sw_version()).replace("__SHELL__", json.dumps(shell))
    response = Response(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/manifest.webmanifest")
def manifest():
    data = {
        "name": _("Doorstep"), "short_name": _("Doorstep"), "lang": "zh-CN",
        "start_url": url_for("main.home"), "scope": "/", "display": "standalone",
        "background_color": "#f3f4f1", "theme_color": "#0f5c4d",
        "icons": [
            {"src": static_url("icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static_url("icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {"src": static_url("icons/maskable-512.png"), "sizes": "512x512",
             "type": "image/png", "purpose": "maskable"},
        ],
    }
    response = Response(json.dumps(data, ensure_ascii=False),
                        mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/offline")
def offline():
    return render_template("pwa/offline.html")


@bp.get("/outbox")
@login_required
def outbox():
    return render_template("pwa/outbox.html")


@bp.get("/api/session")
def session_info():
    """Who is signed in and a fresh CSRF token: the outbox asks before each drain."""
    if not current_user.is_authenticated:
        return jsonify(error="login_required", message=_("Please sign in.")), 401
    response = jsonify(user_id=current_user.id, csrf_token=generate_csrf())
    response.headers["Cache-Control"] = "no-store"
    return response
