"""Fixtures of the conference tests.

`video` (module scope): a real `trainer serve` with its child Janus (Debian's `janus`), on
loopback, its own data folder and SQLite database, the small province of
tests/support_servers.load_world (a live session across a host and sites A and B, users
`organiser` and `coord_a`) with the session switched to the built-in video room. Skipped, with
the reason, only when the janus binary is missing. Browser tests that need media run the same
server inside a network namespace (`VideoServer(..., host=..., prefix=["ip", "netns", "exec",
name])`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest

from tests.conference.video import JANUS, NO_JANUS, VideoServer, make_builtin
from tests.support_servers import World, child_env, create_schema, load_world, sqlite_url
from trainer.conference.janus import JanusClient
from trainer.conference.runtime import runtime

EVENTS_PASSWORD = "events-password"


@dataclass
class Video:
    server: VideoServer
    world: World

    @property
    def janus(self) -> Any:
        assert self.server.janus is not None
        return self.server.janus

    def api(self, token: str) -> Any:
        """A requests session against the server with a bearer token."""
        import requests

        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {token}"
        s.headers["Accept-Language"] = "en"
        return s


@pytest.fixture
def world(app: Any, make_site: Any, make_user: Any, make_session: Any,
          monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """In one process: a live builtin session (host, A, B) and a live one on an outside link;
    a Janus that is configured but not answering, and the events password."""
    state = runtime(app)
    monkeypatch.setattr(state, "client", JanusClient(
        "http://127.0.0.1:9/janus", "http://127.0.0.1:9/admin", "s", timeout=0.5))
    monkeypatch.setattr(state, "events_password", EVENTS_PASSWORD)
    host, a, b = make_site(kind="host"), make_site(), make_site()
    session = make_session([host, a, b], conference_provider="builtin")
    link = make_session([host, a], conference_url="https://meet.jit.si/x",
                        conference_provider="link")
    return SimpleNamespace(
        host=host, a=a, b=b, session=session, link=link,
        organiser=make_user("organiser"), admin=make_user("admin"),
        coord_a=make_user("coordinator", sites=[a]))


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Video]:
    if JANUS is None:
        pytest.skip(NO_JANUS)
    data_dir = tmp_path_factory.mktemp("video")
    url = sqlite_url(data_dir)
    create_schema(url, data_dir)
    world = load_world(url, data_dir, at_a=2, at_b=1, at_host=1)
    make_builtin(url, data_dir, world.session_id)
    server = VideoServer("video", child_env(url, data_dir, JANUS_MANAGED="1"), data_dir)
    server.start()
    try:
        yield Video(server, world)
    finally:
        server.stop()
