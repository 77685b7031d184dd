"""First visit of the home page on a phone, in bytes over the wire, against DESIGN.md §7.

Headless Chromium with an empty cache signs in as housekeeper1 and lands on the route
list; every response body is counted as sent (gzip from the app itself).

    .venv/bin/python bench/page_weight.py
"""
from __future__ import annotations

import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.offline_queue import serve  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402


def main() -> None:
    from playwright.sync_api import sync_playwright
    with tempfile.TemporaryDirectory() as tmp:
        _, server, base = serve(Path(tmp))
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(base_url=base, viewport={"width": 390, "height": 844},
                                          service_workers="block")
            page = context.new_page()
            sizes: dict[str, int] = defaultdict(int)
            kinds: dict[str, str] = {}

            def count(response):
                body = response.request.sizes()["responseBodySize"]
                if response.request.method == "GET" and body > 0:  # -1: from the cache
                    sizes[response.url] += body
                    kinds[response.url] = response.headers.get("content-type", "").split(";")[0]

            page.on("response", count)
            page.goto("/login")
            page.wait_for_load_state("networkidle")
            page.fill("#username", "housekeeper1")
            page.fill("#password", "doorstep-demo")
            page.click("button[type=submit].primary")
            page.wait_for_load_state("networkidle")
            login_page = sum(v for k, v in sizes.items() if k.endswith("/login"))
            browser.close()
        server.shutdown()
    total = sum(sizes.values())
    print("First visit: sign-in page, then the route list, empty cache, bytes as sent")
    for url, size in sorted(sizes.items(), key=lambda kv: -kv[1]):
        print(f"  {size / 1024:6.1f} KB  {kinds[url]:<24} {url.replace(base, '')[:60]}")
    print(f"{'what':<40}{'measured':>10}   target")
    print(f"{'total, compressed':<40}{total / 1024:>7.1f} KB   <= 60 KB")
    print(f"{'of which the sign-in page HTML':<40}{login_page / 1024:>7.1f} KB")


if __name__ == "__main__":
    main()
