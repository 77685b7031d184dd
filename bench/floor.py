"""The app's own templates in a bare Jinja environment, for the benches' raw floors: the
same markup and words, with Flask, SQLAlchemy and Flask-Babel left out."""
from __future__ import annotations

from pathlib import Path

import jinja2

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


class Anyone:
    """Stands in for Flask's current_user, request and friends in the bare render."""
    is_authenticated = True
    id = 1
    language = "zh"
    args: dict = {}

    def __init__(self, role: str):
        self.role = type("R", (), {"value": role})()

    def __call__(self, *args, **kwargs):
        return self


def bare_environment(endpoint: str, role: str) -> jinja2.Environment:
    """Templates with the globals base.html asks for, as `endpoint` seen by `role`."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True,
                             extensions=["jinja2.ext.i18n"])
    env.install_null_translations(newstyle=True)
    anyone = Anyone(role)
    here = "/" + endpoint.split(".")[0]
    env.globals.update(
        url_for=lambda name, **kw: "/" + name, static_url=lambda f: "/static/" + f,
        csrf_token=lambda: "token", page_csrf_token=lambda: "token", page_user_id=lambda: "1",
        nav_items=lambda: [], url_with=lambda **kw: here, get_locale=anyone,
        current_user=anyone, request=anyone, rendered_at=lambda: "now",
        get_flashed_messages=lambda **kw: [], current_endpoint=endpoint)
    return env
