"""The API reference page: flask-smorest's ReDoc, from the vendored script, renders every
operation in Chromium under the app's Content-Security-Policy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests

from tests.e2e.conftest import LAPTOP, Pages
from tests.support_servers import Server


def test_redoc_shows_the_operations_and_their_fields(
        pages: Pages, e2e_server: tuple[Server, str, Path]) -> None:
    server = e2e_server[0]
    server.start()
    spec = requests.get(server.url + "/api/v1/openapi.json", timeout=10).json()
    create_site = spec["paths"]["/api/v1/sites"]["post"]
    page = pages.page("docs", pages.context(**LAPTOP))
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text)
            if "Content Security Policy" in m.text else None)
    page.goto("/api/v1/docs")
    heading = page.locator("h2", has_text=create_site["summary"]).first
    heading.wait_for()
    section: Any = heading.locator("xpath=ancestor::div[@id][1]")
    text = section.inner_text()
    for field in ("code", "name", "kind"):
        assert field in text, field
    assert "/api/v1/sites" in text
    page.locator("input[placeholder='Search...']").fill("check")  # the search worker
    page.wait_for_timeout(500)
    # ReDoc's worker and script run; the one thing refused is its badge from Redocly's CDN
    # (nothing is loaded from elsewhere)
    assert all("https://cdn.redoc.ly/" in m and "img-src" in m for m in refused), refused
    assert pages.errors == []
