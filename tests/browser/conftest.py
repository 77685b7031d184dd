"""A live Doorstep on 127.0.0.1 with demo data, and Debian's Chromium via Playwright."""
from __future__ import annotations

import itertools
import os
import subprocess
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
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
        "LOGIN_FREE_ATTEMPTS": 1000, "IMPORT_DIR": str(root / "imports"),
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


@contextmanager
def phone_page(browser, live_server, **options):
    """A phone-sized page that fails the test on any console error or CSP violation."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                  base_url=live_server, device_scale_factor=2,
                                  is_mobile=True, has_touch=True, **options)
    page = context.new_page()
    problems: list[str] = []

    def on_console(message):
        # A 4xx answer the test provoked is logged by Chromium; it is not a script error.
        # So is a request that fails because the test switched the network off or cut it.
        expected = ("server responded with a status of 4", "server responded with a status of 5",
                    "net::ERR_INTERNET_DISCONNECTED", "net::ERR_CONNECTION_RESET")
        if message.type == "error" and not any(e in message.text for e in expected):
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda e: problems.append(str(e)))
    yield page
    # The page first, then its context: closing a context with a page still loading
    # hung once on CI (in context.close(), which has no timeout).
    page.close()
    context.close()
    assert problems == [], problems


@pytest.fixture
def page(browser, live_server):
    with phone_page(browser, live_server) as page:
        yield page


@pytest.fixture
def page_without_worker(browser, live_server):
    """The same phone page with service workers blocked: Playwright's request routing then
    sees the page's own requests (OFFLINE.md, pitfall 20)."""
    with phone_page(browser, live_server, service_workers="block") as page:
        yield page


@dataclass(frozen=True)
class FreshUnit:
    id: int
    label: str
    phone: str

    @property
    def visit_url(self) -> str:
        return f"/units/{self.id}/visits/new"


_fresh = itertools.count(1)


def fresh_unit(live_app, username: str, *, days: int = 400, amount_fen: int = 9_000_000,
               phone: str | None = None) -> FreshUnit:
    """A new overdue unit in the user's first building, made for one test, so no test
    depends on where the demo data puts its rows or on what earlier tests did to them.
    The defaults (legal band, large arrears) put it at the top of the route list."""
    from fieldapp.models import User

    from ..factories import make_bill, make_unit
    n = next(_fresh)
    phone = phone or f"199{n:08d}"
    with live_app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        building = user.assignments[0].building
        unit = make_unit(building, number=f"T{n:03d}", floor=1, owner="测试业主", phone=phone)
        make_bill(unit, amount_fen, TODAY - timedelta(days=days), today=TODAY)
        fresh = FreshUnit(unit.id, f"{building.name}-{unit.number}", phone)
        db.session.remove()
    return fresh


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


def choose(page, name: str, value: str) -> None:
    """Tap the choice (an outcome button or a chip) that carries this value."""
    page.locator("label", has=page.locator(f"input[name={name}][value={value}]")).click()
