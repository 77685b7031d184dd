"""Text responses are gzipped for clients that accept it; others get plain bytes."""
import gzip


def test_static_and_pages_are_gzipped(client):
    with client.get("/static/vendor/htmx-4.0.1.min.js") as plain:
        plain_data = plain.data
        assert "Content-Encoding" not in plain.headers
    zipped = client.get("/static/vendor/htmx-4.0.1.min.js", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain_data
    assert len(zipped.data) < len(plain_data) / 2
    assert "Accept-Encoding" in zipped.headers["Vary"]
    page = client.get("/login", headers={"Accept-Encoding": "gzip, br"})
    assert page.headers["Content-Encoding"] == "gzip"
    assert b"csrf-token" in gzip.decompress(page.data)


def test_images_are_not_recompressed(client):
    with client.get("/static/icons/icon-192.png", headers={"Accept-Encoding": "gzip"}) as r:
        assert "Content-Encoding" not in r.headers
