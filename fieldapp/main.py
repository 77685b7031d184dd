"""Home (each role's start page), health check."""
from __future__ import annotations

from flask import Blueprint, jsonify, redirect, url_for
from flask_login import current_user, login_required
from sqlalchemy import text

from .extensions import db
from .models import Role

bp = Blueprint("main", __name__)

HOME = {
    Role.HOUSEKEEPER: "route.index",
    Role.SUPERVISOR: "route.index",
    Role.ADMIN: "route.index",
    Role.ENGINEER: "workorders.index",
}


@bp.get("/")
@login_required
def home():
    return redirect(url_for(HOME.get(current_user.role, "auth.account")))


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        return jsonify(status="ok", database="ok")
    except Exception as e:  # any driver error means "not healthy", never a stack trace
        db.session.rollback()
        return jsonify(status="error", database="unavailable", detail=type(e).__name__), 503
