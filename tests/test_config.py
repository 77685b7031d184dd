"""Configuration and CLI errors are clear messages naming the variable."""
from __future__ import annotations

import pytest

from fieldapp import create_app
from fieldapp.config import ConfigError


def test_production_requires_secret_key(monkeypatch):
    monkeypatch.setenv("FIELDAPP_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()


def test_demo_generates_and_keeps_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("FIELDAPP_ENV", "demo")
    from fieldapp.config import Config
    first = Config(tmp_path).SECRET_KEY
    assert len(first) >= 32 and Config(tmp_path).SECRET_KEY == first


def test_unknown_environment_is_refused(monkeypatch):
    monkeypatch.setenv("FIELDAPP_ENV", "staging")
    with pytest.raises(ConfigError, match="FIELDAPP_ENV"):
        create_app()


def test_postgres_urls_use_psycopg3(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    monkeypatch.setenv("SECRET_KEY", "x")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


def test_check_db_names_the_variable_when_it_cannot_connect():
    app = create_app({"SQLALCHEMY_DATABASE_URI":
                      "postgresql+psycopg://nobody:secret@127.0.0.1:1/none",
                      "SECRET_KEY": "x"})
    result = app.test_cli_runner().invoke(args=["check-db"])
    assert result.exit_code == 1
    assert "DATABASE_URL=" in result.output and "secret" not in result.output


def test_pages_answer_503_when_the_database_is_down():
    app = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none",
                      "SECRET_KEY": "x", "TESTING": True, "WTF_CSRF_ENABLED": False})
    r = app.test_client().get("/healthz")
    assert r.status_code == 503 and r.json["database"] == "unavailable"
    r = app.test_client().post("/login", data={"username": "a", "password": "b"})
    assert r.status_code == 503 and "DATABASE_URL" in r.get_data(as_text=True)


def test_seed_demo_refuses_in_production(monkeypatch, tmp_path):
    monkeypatch.setenv("FIELDAPP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.sqlite3'}"})
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 1 and "production" in result.output


def _whoami_app(monkeypatch, proxies: str | None):
    monkeypatch.setenv("SECRET_KEY", "x")
    if proxies is None:
        monkeypatch.delenv("FIELDAPP_PROXIES", raising=False)
    else:
        monkeypatch.setenv("FIELDAPP_PROXIES", proxies)
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True})
    from flask import request
    app.add_url_rule("/whoami", "whoami", lambda: request.remote_addr)
    return app.test_client()


@pytest.mark.parametrize("proxies, address", [(None, "127.0.0.1"), ("1", "203.0.113.9")])
def test_client_address_trusts_forwarded_headers_only_behind_proxies(monkeypatch, proxies,
                                                                    address):
    """X-Forwarded-For is anyone's to forge unless a proxy we trust wrote it."""
    client = _whoami_app(monkeypatch, proxies)
    r = client.get("/whoami", headers={"X-Forwarded-For": "203.0.113.9"})
    assert r.get_data(as_text=True) == address


def test_proxies_must_be_a_count(monkeypatch):
    monkeypatch.setenv("FIELDAPP_PROXIES", "nginx")
    with pytest.raises(ConfigError, match="FIELDAPP_PROXIES"):
        create_app({"SECRET_KEY": "x"})


def test_seed_demo_prints_a_statement_link_on_the_address_asked_for(tmp_path):
    """`make run` passes its port: the printed link opens the owner's statement there."""
    import re

    from fieldapp.extensions import db
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
                      "SECRET_KEY": "x", "TESTING": True, "UPLOAD_DIR": str(tmp_path / "up")})
    with app.app_context():
        db.create_all()
    result = app.test_cli_runner().invoke(
        args=["seed-demo", "--units", "200", "--base-url", "http://localhost:8123/"])
    assert result.exit_code == 0, result.output
    [link] = re.findall(r"http://\S+/s/\S+", result.output)
    assert link.startswith("http://localhost:8123/s/")
    assert app.test_client().get(link.removeprefix("http://localhost:8123")).status_code == 200


def test_postgresql_connections_run_without_jit_and_keep_the_urls_options():
    from fieldapp.config import engine_options
    url = "postgresql+psycopg://u@db/doorstep?options=-c%20statement_timeout%3D5000"
    options = engine_options(url)["connect_args"]["options"]
    assert options == "-c statement_timeout=5000 -c jit=off"
    assert engine_options("postgresql+psycopg://u@db/doorstep")["connect_args"][
        "options"] == "-c jit=off"
    assert engine_options("sqlite:///x.sqlite3") == {}


def test_a_served_postgresql_connection_has_jit_off(postgresql_url, tmp_path):
    from sqlalchemy import text

    from fieldapp.extensions import db

    from .conftest import make_app
    app = make_app(postgresql_url, tmp_path)
    with app.app_context():
        assert db.session.scalar(text("SHOW jit")) == "off"
        db.session.remove()
        db.engine.dispose()
