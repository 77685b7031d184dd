"""Error answers: a page for people, JSON for the offline queue, HX-Redirect for htmx."""
from __future__ import annotations

from flask import Flask, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from .extensions import db, login_manager
from .htmx import hx_redirect, wants_json

CODES = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         409: "conflict", 413: "too_large", 422: "invalid", 429: "too_many_requests"}


def _error(status: int, code: str, message: str):
    if wants_json():
        return jsonify(error=code, message=message), status
    return render_template("error.html", status=status, message=message), status


def init_app(app: Flask) -> None:
    @login_manager.unauthorized_handler
    def unauthorized():
        login_url = url_for("auth.login", next=request.full_path.rstrip("?"))
        if wants_json():
            return jsonify(error="login_required", message=_("Please sign in.")), 401
        if request.headers.get("HX-Request"):
            # A login form swapped into a row would be nonsense: send the whole page there.
            return hx_redirect(login_url)
        return redirect(login_url)

    @app.errorhandler(CSRFError)
    def csrf_error(e: CSRFError):
        # An expired session shows up here first (CSRF runs before login_required).
        message = _("Your session has expired or the form is out of date. "
                    "Please go back, reload the page and try again.")
        if wants_json():
            return jsonify(error="csrf", message=message), 403
        if request.headers.get("HX-Request"):
            return hx_redirect(url_for("auth.login"), status=403)
        if request.endpoint == "auth.login":
            from .auth.routes import login_page
            return login_page(error=_("The sign-in form expired. Please try again.")), 400
        return render_template("error.html", status=400, message=message), 400

    @app.errorhandler(OperationalError)
    def database_unavailable(e: OperationalError):
        db.session.rollback()
        app.logger.error("database error: %s", e.orig)
        return _error(503, "database_unavailable",
                      _("The database cannot be reached right now. Please try again in a "
                        "minute; if it persists, tell your administrator (DATABASE_URL)."))

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        messages = {
            403: _("You do not have access to this page."),
            404: _("This page does not exist, or it is not in your patch."),
            405: _("This action is not allowed here."),
            413: _("The upload is too large. Send fewer photos at a time."),
        }
        return _error(e.code or 500, CODES.get(e.code, "error"),
                      messages.get(e.code, e.description or e.name))

    @app.errorhandler(Exception)
    def server_error(e: Exception):
        if isinstance(e, HTTPException):
            return http_error(e)
        db.session.rollback()
        app.logger.exception("unhandled error")
        return _error(500, "server_error",
                      _("Something went wrong on our side. Nothing you entered was saved; "
                        "please try again."))
