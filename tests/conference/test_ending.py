"""The end of a session ends its video call for everyone (trainer.conference.ending): the
recording stops, the sites are taken off the call with their minutes closed and no drop
counted, the room is destroyed at Janus and joining again is refused; with Janus silent at
the end, the health watch closes the room later."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from tests.conference.test_api import post_events, publisher_events, url
from tests.conference.test_recording import RecordingJanus
from trainer.conference import ending, recording
from trainer.conference.models import ConferenceRecording, ConferenceRoom, ConferenceSite
from trainer.conference.runtime import runtime
from trainer.dbtypes import utcnow
from trainer.extensions import db

ROOM = 4250


@pytest.fixture
def call(world: SimpleNamespace, app: Any, client: Any,
         monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> SimpleNamespace:
    """Site A on the call for the last 10 minutes, the host recording since then."""
    janus = RecordingJanus(rooms={ROOM})
    monkeypatch.setattr(runtime(app), "client", janus)
    monkeypatch.setattr(runtime(app), "recordings_dir", tmp_path)
    monkeypatch.setattr(recording, "schedule_conversion", lambda: None)
    ten_minutes_ago = utcnow() - timedelta(minutes=10)
    db.session.add(ConferenceRoom(session_id=world.session.id, janus_room=ROOM, pin="p",
                                  secret="room-secret", recording_since=ten_minutes_ago))
    db.session.add(ConferenceRecording(session_id=world.session.id, site_id=None,
                                       basename="s-host", state="recording",
                                       janus_session_id=900, janus_handle_id=777,
                                       started_at=ten_minutes_ago))
    db.session.commit()
    events = publisher_events(world.session.id, world.a.id)
    events[1]["event"]["data"]["room"] = ROOM
    assert post_events(client, events).status_code == 204
    row = db.session.query(ConferenceSite).filter_by(session_id=world.session.id,
                                                     site_id=world.a.id).one()
    row.on_since = ten_minutes_ago
    db.session.commit()
    return SimpleNamespace(janus=janus, **vars(world))


def site_a(call: SimpleNamespace, api_as: Any) -> dict[str, Any]:
    body = api_as(call.organiser).get(url(call.session)).get_json()
    return next(s for s in body["sites"] if s["site_id"] == call.a.id)


def end(call: SimpleNamespace, api_as: Any) -> None:
    r = api_as(call.organiser).post(f"/api/v1/sessions/{call.session.id}/status",
                                    json={"status": "ended"})
    assert r.status_code == 200 and r.get_json()["status"] == "ended"


def test_ending_the_session_ends_the_call(call: SimpleNamespace, api_as: Any) -> None:
    assert site_a(call, api_as)["media"] == "connected"
    end(call, api_as)
    assert ("destroy", ROOM, "room-secret") in call.janus.calls
    assert (777, False, None) in call.janus.calls  # the host's recording stopped
    part = db.session.query(ConferenceRecording).filter_by(basename="s-host").one()
    assert part.state == "converting" and part.stopped_at is not None
    a = site_a(call, api_as)
    assert (a["media"], a["drops"]) == ("lost", 0)  # off the call, but nobody dropped out
    assert 595 <= a["connected_s"] <= 660
    # the minutes are closed at the end: an hour later the report says the same
    row = db.session.query(ConferenceSite).filter_by(session_id=call.session.id,
                                                     site_id=call.a.id).one()
    assert row.on_since is None and row.connected_s == a["connected_s"]
    refused = api_as(call.coord_a).post(url(call.session, "/join"),
                                        json={"site_id": call.a.id})
    assert refused.status_code == 409 and refused.get_json()["reason"] == "session-ended"


def test_janus_silent_at_the_end_closes_the_room_when_it_answers(
        call: SimpleNamespace, api_as: Any) -> None:
    call.janus.down = True
    end(call, api_as)  # the session ends all the same
    assert site_a(call, api_as)["media"] == "lost"
    assert ROOM in call.janus.rooms
    call.janus.down = False
    assert ending.end_ended_calls(call.janus) == 1
    assert ROOM not in call.janus.rooms


def test_a_session_without_a_video_room_ends_as_before(world: SimpleNamespace,
                                                       api_as: Any) -> None:
    r = api_as(world.organiser).post(f"/api/v1/sessions/{world.link.id}/status",
                                     json={"status": "ended"})
    assert r.status_code == 200
    assert db.session.get(ConferenceRoom, world.link.id) is None
