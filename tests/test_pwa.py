"""Manifest, service worker and offline page as served."""
from __future__ import annotations

import json


def test_service_worker_is_served_from_the_root_uncached(client):
    r = client.get("/sw.js")
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and r.mimetype == "text/javascript"
    assert r.headers["Cache-Control"] == "no-cache"
    assert "__VERSION__" not in body and "__SHELL__" not in body
    shell = json.loads(body.split("const SHELL = ")[1].split(";\n")[0])
    assert "/offline" in shell and any("htmx-4.0.1" in u for u in shell)


def test_worker_version_follows_the_deploy(app, client):
    first = client.get("/sw.js").get_data(as_text=True)
    app.config["SW_VERSION_SALT"] = "next"
    assert client.get("/sw.js").get_data(as_text=True) != first


def test_manifest_is_installable(client):
    data = client.get("/manifest.webmanifest").json
    assert data["display"] == "standalone" and data["start_url"] == "/"
    assert {"192x192", "512x512"} <= {i["sizes"] for i in data["icons"]}


def test_offline_page_needs_no_sign_in(client):
    assert client.get("/offline").status_code == 200


def test_outbox_page_needs_sign_in(client):
    assert client.get("/outbox").status_code == 302
