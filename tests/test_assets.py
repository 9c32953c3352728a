"""Weight on a cheap phone: versioned static URLs kept for a year, compressed answers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import brotli

from trainer import assets

ROOT = Path(__file__).resolve().parent.parent


def test_pages_link_versioned_static_files_kept_for_a_year(client: Any) -> None:
    html = client.get("/login").get_data(as_text=True)
    links = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    assert links and all(re.match(r"/static/v/[0-9a-f]{12}/", u) for u in links), links
    for url in links:
        with client.get(url) as response:
            assert response.status_code == 200
            assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_plain_static_urls_still_work_and_are_revalidated(client: Any) -> None:
    with client.get("/static/js/checkin.js") as response:
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-cache"
        assert response.headers.get("ETag")
        etag = response.headers["ETag"]
    with client.get("/static/js/checkin.js", headers={"If-None-Match": etag}) as again:
        assert again.status_code == 304


def test_the_version_follows_the_files(tmp_path: Path) -> None:
    (tmp_path / "a.js").write_text("one")
    first = assets.version(tmp_path)
    assert assets.version(tmp_path) == first
    (tmp_path / "a.js").write_text("two")
    assert assets.version(tmp_path) != first
    (tmp_path / "b.css").write_text("")
    assert len({first, assets.version(tmp_path)}) == 2


def test_scripts_styles_and_pages_are_compressed(client: Any) -> None:
    with client.get("/static/js/checkin.js", headers={"Accept-Encoding": "br, gzip"}) as r:
        assert r.headers["Content-Encoding"] == "br"
        body = b"".join(r.response)
    original = (ROOT / "static" / "js" / "checkin.js").read_bytes()
    assert brotli.decompress(body) == original
    assert len(body) < len(original) / 3
    page = client.get("/login", headers={"Accept-Encoding": "gzip"})
    assert page.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in page.headers["Vary"]


def test_without_accept_encoding_nothing_is_compressed(client: Any) -> None:
    page = client.get("/login")
    assert "Content-Encoding" not in page.headers
    assert "<form" in page.get_data(as_text=True)
