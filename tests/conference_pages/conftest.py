"""The video room in real browsers: Janus (started by `trainer serve` as its child), the server
(embedded SQLite) and Debian's Chromium with fake camera and microphone, all inside a network
namespace the fixture makes and removes (tests/support_netns.py): media never leaves it.

One room for the module (starting Janus and three browsers is the slow part); the tests run
in file order and each leaves the room as the next one expects.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support_netns import NetNS, NsServer, media_unavailable
from tests.support_servers import (
    PASSWORD,
    World,
    child_env,
    create_schema,
    load_world,
    loader_app,
    sqlite_url,
)

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
EXTRA_SITES = 12  # with A and B: 14 tiles, two pages of 12
LAPTOP = {"viewport": {"width": 1366, "height": 768}}
FULL_HD = {"viewport": {"width": 1920, "height": 1080}}


def skip_reason() -> str | None:
    return media_unavailable()


@dataclass
class Room:
    ns: NetNS
    server: NsServer
    world: World
    browser: Any
    coord_b_token: str
    data_dir: Path

    @property
    def url(self) -> str:
        return self.server.url

    def page(self, username: str, path: str, *, name: str, viewport: dict[str, Any] = LAPTOP,
             ) -> Any:
        ctx = self.browser.new_context(base_url=self.url, locale="vi-VN",
                                       timezone_id="Asia/Ho_Chi_Minh", **viewport)
        ctx.set_default_timeout(20_000)
        page = ctx.new_page()
        log: list[str] = []
        page.on("console", lambda m: log.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: log.append(f"pageerror: {e}"))
        page.console_log = log  # type: ignore[attr-defined]
        page.goto("/login")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url)
        page.goto(path)
        page.test_name = name  # type: ignore[attr-defined]
        return page

    def janus_pid(self) -> int | None:
        """The child Janus of the server."""
        return self.server.janus_pid()

    def signal_janus(self, sig: int) -> None:
        """SIGSTOP: Janus hangs (it answers nothing, and trainer does not start another);
        SIGCONT: it answers again; SIGTERM: it exits (trainer starts it again)."""
        pid = self.janus_pid()
        assert pid is not None, "no Janus child of the server"
        os.kill(pid, sig)


def _prepare(url: str, data_dir: Path) -> tuple[World, str]:
    """The demo-like world of the process tests, its session on the built-in room with 12
    more bridge points, and a coordinator of site B."""
    from trainer.auth.services import create_user, issue_token
    from trainer.extensions import db
    from trainer.sessions.models import SessionSite, TrainingSession
    from trainer.sites.services import create_site

    world = load_world(url, data_dir, at_a=2, at_b=2, at_host=1)
    app = loader_app(url, data_dir)
    with app.app_context():
        session = db.session.get(TrainingSession, world.session_id)
        session.conference_provider = "builtin"
        # More bridge points than one page of the control room holds (they never join).
        for i in range(1, EXTRA_SITES + 1):
            extra = create_site(None, code=f"X{i:02d}", name=f"Xã Thử {i:02d}")
            session.session_sites.append(SessionSite(site_id=extra.id))
        coord_b = create_user("coord_b", PASSWORD, "coordinator", [world.b_id])
        token = issue_token(coord_b).token
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return world, token


@pytest.fixture(scope="module")
def room(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Room]:
    if why := skip_reason():
        pytest.skip(why)
    from playwright.sync_api import sync_playwright

    data_dir = tmp_path_factory.mktemp("conference")
    url = sqlite_url(data_dir)
    create_schema(url, data_dir)
    world, coord_b_token = _prepare(url, data_dir)
    with NetNS() as ns:
        server = NsServer(ns, "conference", child_env(url, data_dir, JANUS_MANAGED="1"), data_dir)
        try:
            server.start()
            with sync_playwright() as p:
                browser = ns.launch_chromium(p, server.url, data_dir)
                try:
                    yield Room(ns, server, world, browser, coord_b_token, data_dir)
                finally:
                    browser.close()
        finally:
            server.stop()
            ARTIFACTS.mkdir(exist_ok=True)
            (ARTIFACTS / "conference-server.log").write_text(server.log_tail(200_000))
            janus_log = data_dir / "janus" / "janus.log"
            if janus_log.exists():
                (ARTIFACTS / "conference-janus.log").write_text(janus_log.read_text()[-200_000:])


def save(page: Any, stem: str) -> Path:
    """A screenshot and the page's console in test-artifacts/ (to look at, and on failure)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"conference-{stem}.png"
    page.screenshot(path=str(path))
    (ARTIFACTS / f"conference-{stem}.console.txt").write_text(
        "\n".join(getattr(page, "console_log", [])))
    return path
