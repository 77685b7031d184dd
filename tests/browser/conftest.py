"""A live Doorstep on 127.0.0.1 with demo data, and Debian's Chromium via Playwright."""
from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from fieldapp import create_app
from fieldapp.extensions import db

from ..conftest import TODAY, _free_port, require

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "screenshots"
# Without these Chromium keeps dialling Google's hosts, which this network refuses.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    root = tmp_path_factory.mktemp("live")
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{root / 'live.sqlite3'}",
        "SECRET_KEY": "browser-tests", "FIXED_TODAY": TODAY, "UPLOAD_DIR": str(root / "up"),
        "LOGIN_FREE_ATTEMPTS": 1000,
    })
    with app.app_context():
        db.create_all()
        from fieldapp.demo import seed_demo
        seed_demo(db.session, units=1200, seed=1, today=TODAY, echo=lambda *a, **k: None)
        db.session.commit()
    return app


@pytest.fixture(scope="session")
def live_server(live_app):
    port = _free_port()
    server = make_server("127.0.0.1", port, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


def has_cjk_fonts() -> bool:
    """Noto Sans CJK is installed (without it Chinese pages render as boxes and the
    screenshots and layout checks mean nothing)."""
    try:
        fonts = subprocess.run(["fc-list"], capture_output=True, text=True, check=False).stdout
    except OSError:  # no fontconfig at all
        return False
    return "noto sans cjk" in fonts.lower()


@pytest.fixture(scope="session")
def pw():
    require(os.path.exists(CHROMIUM), f"{CHROMIUM} is missing: apt-get install chromium")
    require(has_cjk_fonts(), "Noto Sans CJK fonts are missing: apt-get install fonts-noto-cjk")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(pw):
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def page(browser, live_server):
    """A phone-sized page that fails the test on any console error or CSP violation."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                  base_url=live_server, device_scale_factor=2,
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    problems: list[str] = []

    def on_console(message):
        # A 4xx answer the test provoked is logged by Chromium; it is not a script error.
        # So is a request that fails because the test switched the network off.
        expected = ("server responded with a status of 4", "server responded with a status of 5",
                    "net::ERR_INTERNET_DISCONNECTED")
        if message.type == "error" and not any(e in message.text for e in expected):
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda e: problems.append(str(e)))
    yield page
    context.close()
    assert problems == [], problems


def sign_in(page, username: str, password: str = "doorstep-demo") -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit].primary")
    page.wait_for_load_state("networkidle")


def check_accessibility(page, name: str) -> None:
    """axe-core finds no violations; a screenshot is kept for people to look at."""
    from axe_playwright_python.sync_playwright import Axe
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
