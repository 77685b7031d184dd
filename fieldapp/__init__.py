"""Doorstep: door-to-door arrears collection for property-management field staff."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, session
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import ROOT, Config, engine_options
from .domain.photohash import hamming_of_stored
from .extensions import babel, csrf, db, htmx_ext, login_manager, migrate
from .limits import DEFAULT
from .params import IdConverter, with_clean_params

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
       "connect-src 'self'; worker-src 'self'; manifest-src 'self'; form-action 'self'; "
       "base-uri 'self'; frame-ancestors 'none'; object-src 'none'")


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True,
                template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    # Before any blueprint adds a rule: every <int:id> in a URL is a bounded id.
    app.url_map.converters["int"] = IdConverter
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(Config(app.instance_path).as_dict())
    if overrides:
        app.config.update(overrides)
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS",
                          engine_options(app.config["SQLALCHEMY_DATABASE_URI"]))
    limits = app.config.get("LIMITS", DEFAULT)
    app.config["MAX_CONTENT_LENGTH"] = limits.request_bytes
    app.config["MAX_FORM_MEMORY_SIZE"] = limits.form_field_bytes
    proxies = app.config["FIELDAPP_PROXIES"]
    if proxies:
        # The sign-in throttle counts per client address. Behind a proxy that is the
        # proxy's own, so believe the X-Forwarded-For it writes; only then, as anyone can
        # send one.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale,
                   default_translation_directories=str(Path(__file__).parent / "translations"))
    htmx_ext.init_app(app)
    app.request_class = with_clean_params(app.request_class)

    from . import (
        admin,
        audit,
        auth,
        errors,
        imports,
        main,
        notices,
        photos,
        promises,
        pwa,
        review,
        route,
        today,
        units,
        visits,
        workorders,
    )
    for module in (admin, audit, auth, imports, main, notices, photos, promises, pwa, review, route,
                   today, units, visits, workorders):
        app.register_blueprint(module.bp)
    errors.init_app(app)
    from .photos.storage import init_app as init_storage
    init_storage(app)
    from .compression import init_app as init_compression
    init_compression(app)
    from .cli import init_app as init_cli
    init_cli(app)
    from .templating import init_app as init_templating
    init_templating(app)
    from .transactions import init_app as init_transactions
    init_transactions(app)

    @app.after_request
    def security_headers(response):
        h = response.headers
        h.setdefault("Content-Security-Policy", CSP)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("Permissions-Policy", "geolocation=(self), camera=(self)")
        h.setdefault("X-Frame-Options", "DENY")
        if app.config["FIELDAPP_ENV"] == "production":
            h.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

    return app


def _select_locale() -> str:
    if current_user and current_user.is_authenticated and current_user.locale:
        return current_user.locale
    return session.get("locale") or "zh_CN"


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    # WAL lets the route list read while a visit is written; SQLite needs FKs switched on,
    # and the near-duplicate check's Hamming distance (PostgreSQL's bit_count).
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.create_function("hamming64", 2, hamming_of_stored,
                                          deterministic=True)
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()
