"""`trainer demo` puts the live session on trainer's own video room when Janus is there."""

from __future__ import annotations

from typing import Any

import pytest

from trainer import demo
from trainer.conference.janus import JanusClient
from trainer.conference.runtime import runtime


def test_the_demo_live_session_is_builtin_when_a_video_server_is_there(
        app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo, "FEATURE_ORDER", ("sessions",))
    monkeypatch.setattr(runtime(app), "client", JanusClient(
        "http://127.0.0.1:9/janus", "http://127.0.0.1:9/admin", "s"))
    ctx = demo.load_demo()
    assert ctx is not None
    assert ctx.live_session.conference_provider == "builtin"
    assert ctx.live_session.conference_url is None
    assert ctx.sessions["next"].conference_provider == "link"
    assert ctx.sessions["next"].conference_url.startswith("https://")
