"""Browser tests: Playwright driving Debian's Chromium (/usr/bin/chromium; never a downloaded
browser) against a real `trainer serve` process with its own data folder and SQLite database.

On a failure every page a test opened is saved to test-artifacts/<test>-<page>.png, with the
pages' console messages and the server's log beside it.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support_servers import PASSWORD, Server, child_env, create_schema, sqlite_url

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}
LAPTOP = {"viewport": {"width": 1366, "height": 768}}


def login(page: Any, username: str, password: str = PASSWORD) -> None:
    """Log in through the login form (the page's base URL is the server's)."""
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium (/usr/bin/chromium) is not installed: "
                    "apt-get install chromium (no browser is ever downloaded)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class Pages:
    """Browser contexts and pages a test opens, with their console output, for the
    screenshots on failure."""

    def __init__(self, browser: Any, base_url: str) -> None:
        self.browser, self.base_url = browser, base_url
        self.contexts: list[Any] = []
        self.pages: dict[str, Any] = {}
        self.console: dict[str, list[str]] = {}
        self.errors: list[str] = []

    def context(self, **options: Any) -> Any:
        ctx = self.browser.new_context(base_url=self.base_url, locale="en-GB",
                                       timezone_id="Asia/Ho_Chi_Minh", **options)
        ctx.set_default_timeout(15_000)
        self.contexts.append(ctx)
        return ctx

    def page(self, name: str, ctx: Any) -> Any:
        page = ctx.new_page()
        log = self.console.setdefault(name, [])
        page.on("console", lambda m: log.append(f"{m.type}: {m.text}"))

        def on_error(exc: Any) -> None:
            log.append(f"pageerror: {exc}")
            self.errors.append(f"{name}: {exc}")

        page.on("pageerror", on_error)
        self.pages[name] = page
        return page

    def save(self, test_name: str, server: Server | None) -> list[Path]:
        ARTIFACTS.mkdir(exist_ok=True)
        stem = re.sub(r"[^\w.-]+", "_", test_name)
        saved = []
        for name, page in self.pages.items():
            path = ARTIFACTS / f"{stem}-{name}.png"
            try:
                page.screenshot(path=str(path), full_page=True, timeout=5000)
                saved.append(path)
            except Exception:  # noqa: BLE001 - a closed page: keep the others
                pass
            (ARTIFACTS / f"{stem}-{name}.console.txt").write_text(
                "\n".join(self.console.get(name, [])))
        if server is not None:
            (ARTIFACTS / f"{stem}-server.log").write_text(server.log_tail(100_000))
        return saved

    def close(self) -> None:
        for ctx in self.contexts:
            with contextlib.suppress(Exception):  # the browser may be gone already
                ctx.close()


@pytest.fixture
def e2e_server(tmp_path: Path) -> Iterator[tuple[Server, str, Path]]:
    """A `trainer serve` process on its own SQLite database; yields (server, url, data dir).
    The test loads its data (tests.support_servers.load_world) before the first request."""
    url = sqlite_url(tmp_path)
    create_schema(url, tmp_path)
    server = Server("e2e", child_env(url, tmp_path), tmp_path)
    try:
        yield server, url, tmp_path
    finally:
        server.stop()


@pytest.fixture
def pages(request: Any, browser: Any, e2e_server: tuple[Server, str, Path]) -> Iterator[Pages]:
    server = e2e_server[0]
    opened = Pages(browser, server.url)
    try:
        yield opened
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            saved = opened.save(request.node.name, server)
            print(f"\nscreenshots: {', '.join(str(p) for p in saved)}")
        opened.close()
