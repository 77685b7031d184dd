"""DESIGN.md §7 offline scenario in headless Chromium: 50 visits with photos logged
offline, the page reloaded, the network back; prints stored / duplicates / lost.

    .venv/bin/python bench/offline_queue.py [--visits 50]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from werkzeug.serving import WSGIRequestHandler, make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fieldapp import create_app  # noqa: E402
from fieldapp.extensions import db  # noqa: E402
from fieldapp.models import Visit, VisitPhoto  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.photos import make_jpeg  # noqa: E402

TODAY = date(2026, 11, 22)


def serve(root: Path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{root / 'offline.sqlite3'}",
                      "SECRET_KEY": "bench", "FIXED_TODAY": TODAY,
                      "UPLOAD_DIR": str(root / "uploads")})
    with app.app_context():
        db.create_all()
        from fieldapp.demo import seed_demo
        seed_demo(db.session, units=1200, seed=1, today=TODAY, echo=lambda *a: None)
        db.session.commit()
    WSGIRequestHandler.log_request = lambda *a, **k: None  # keep the report readable
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return app, server, f"http://127.0.0.1:{server.server_port}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=50)
    args = parser.parse_args()
    from playwright.sync_api import expect, sync_playwright
    with tempfile.TemporaryDirectory() as tmp:
        app, server, base = serve(Path(tmp))
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(base_url=base, viewport={"width": 390, "height": 844})
            page = context.new_page()
            page.goto("/login")
            page.fill("#username", "housekeeper1")
            page.fill("#password", "doorstep-demo")
            page.click("button[type=submit].primary")
            for _ in range(40):
                if page.evaluate("() => !!navigator.serviceWorker.controller"):
                    break
                time.sleep(0.25)
                page.reload()
            page.goto("/route")
            form_url = page.locator(".route-row").first.get_attribute("data-visit-url")
            page.goto(form_url)  # cached by the service worker for the stairwell
            context.set_offline(True)
            photo = make_jpeg(3000, 2000, quality=85)
            started = time.perf_counter()
            for i in range(args.visits):
                page.goto(form_url)
                page.locator("label.outcome",
                             has=page.locator("input[value=nobody_home]")).click()
                page.select_option("#notice_type", "reminder")
                page.locator("label.choice", has=page.locator("input[value=door]")).click()
                page.set_input_files(".photo-take input", files=[
                    {"name": f"door-{i}.jpg", "mimeType": "image/jpeg", "buffer": photo}])
                expect(page.locator(".thumbs img")).to_have_count(1)
                page.click(".submit-visit")
                expect(page.locator("#form-message")).to_have_class("saved-message")
            queued_s = time.perf_counter() - started
            page.reload()
            pending = page.locator(".outbox-badge .outbox-count").inner_text()
            context.set_offline(False)
            started = time.perf_counter()
            expect(page.locator(".outbox-badge")).to_be_hidden(timeout=300_000)
            drain_s = time.perf_counter() - started
            browser.close()
        server.shutdown()
        with app.app_context():
            uuids = Counter(db.session.scalars(select(Visit.client_uuid)))
            photos = db.session.scalar(select(func.count()).select_from(VisitPhoto))
    stored = sum(uuids.values())
    duplicates = sum(n - 1 for n in uuids.values())
    print(f"Offline queue: {args.visits} visits with a 6-MP photo each, logged offline")
    print(f"{'what':<40}{'measured':>10}   target")
    print(f"{'pending after reload':<40}{pending:>10}   {args.visits}")
    print(f"{'stored':<40}{stored:>10}   {args.visits}")
    print(f"{'duplicates':<40}{duplicates:>10}   0")
    print(f"{'lost':<40}{args.visits - len(uuids):>10}   0")
    print(f"{'photos stored':<40}{photos:>10}   {args.visits}")
    print(f"{'time to queue offline':<40}{queued_s:>9.1f}s")
    print(f"{'time to drain once online':<40}{drain_s:>9.1f}s")


if __name__ == "__main__":
    main()
