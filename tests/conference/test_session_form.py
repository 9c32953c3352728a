"""The session form offers trainer's video room only when a video server is available."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from trainer.conference.janus import JanusClient
from trainer.conference.runtime import runtime


def form(host: Any, a: Any, **kw: Any) -> dict[str, Any]:
    return {"title": "Tập huấn có phòng họp riêng", "training_id": "",
            "starts_at": "2030-03-01T07:30", "ends_at": "2030-03-01T11:30",
            "host_site_id": str(host.id), "site_ids": [str(a.id)], "conference_url": "",
            "description": "", **kw}


def test_builtin_is_offered_and_saved_when_janus_is_available(
        app: Any, client: Any, make_site: Any, make_user: Any, login: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from trainer.sessions.models import TrainingSession

    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    host, a = make_site(kind="host"), make_site()
    login(make_user("organiser"))
    assert 'value="builtin"' not in client.get("/sessions/new").get_data(as_text=True)

    monkeypatch.setattr(runtime(app), "client", JanusClient("http://127.0.0.1:9/janus",
                                                            "http://127.0.0.1:9/admin", "s"))
    page = client.get("/sessions/new").get_data(as_text=True)
    assert 'value="builtin" checked' in page and "own video room" in page
    r = client.post("/sessions/new", data=form(host, a, conference_provider="builtin"))
    assert r.status_code == 302
    r = client.post("/sessions/new", data=form(host, a, title="Phiên không có phòng họp",
                                               conference_provider="link"))
    assert r.status_code == 302
    from trainer.extensions import db

    stored = dict(db.session.execute(select(TrainingSession.title,
                                            TrainingSession.conference_provider)).all())
    assert stored == {"Tập huấn có phòng họp riêng": "builtin",
                      "Phiên không có phòng họp": None}
