"""The conference API and Janus's events, in one process (no Janus: what is decided before
trainer calls Janus, and what trainer makes of the events Janus sends)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.conference.conftest import EVENTS_PASSWORD
from trainer.conference import services
from trainer.conference.runtime import runtime
from trainer.extensions import socketio

NS = "/live"
EVENTS = "/conference/janus-events"
PASSWORD = EVENTS_PASSWORD


def url(session: Any, tail: str = "") -> str:
    return f"/api/v1/sessions/{session.id}/conference{tail}"


def post_events(client: Any, events: Any, password: str = PASSWORD) -> Any:
    auth = base64.b64encode(f"janus:{password}".encode()).decode()
    return client.post(EVENTS, json=events, headers={"Authorization": f"Basic {auth}"})


def test_join_permissions(world: Any, api_as: Any) -> None:
    coord = api_as(world.coord_a, lang="en")
    r = coord.post(url(world.session, "/join"), json={"site_id": world.b.id})
    assert r.status_code == 403
    assert coord.post(url(world.session, "/join"), json={"role": "host"}).status_code == 403
    assert api_as(None).post(url(world.session, "/join"), json={}).status_code == 401
    # Allowed, but Janus does not answer here: a clear 503, nothing else breaks.
    r = coord.post(url(world.session, "/join"), json={"site_id": world.a.id})
    assert r.status_code == 503 and "video server" in r.get_json()["detail"]
    r = api_as(world.organiser).post(url(world.session, "/join"), json={"site_id": 999999})
    assert r.status_code == 422 and "site_id" in r.get_json()["errors"]


def test_join_conflicts_for_a_link_or_an_ended_session(world: Any, api_as: Any) -> None:
    from trainer.extensions import db
    from trainer.sessions.models import SessionStatus

    organiser = api_as(world.organiser, lang="en")
    r = organiser.post(url(world.link, "/join"), json={"role": "host"})
    assert r.status_code == 409
    world.session.status = SessionStatus.ENDED
    db.session.commit()
    r = organiser.post(url(world.session, "/join"), json={"role": "host"})
    assert r.status_code == 409 and "ended" in r.get_json()["detail"]


def test_floor_is_given_and_taken_back_and_pushed(world: Any, app: Any, api_as: Any,
                                                  token_for: Any) -> None:
    sio = socketio.test_client(app, namespace=NS, auth={"token": token_for(world.organiser)})
    sio.emit("watch", {"session_id": world.session.id}, namespace=NS, callback=True)
    sio.get_received(NS)
    organiser = api_as(world.organiser)
    r = organiser.post(url(world.session, "/floor"), json={"site_id": world.a.id})
    assert r.status_code == 200 and r.get_json() == {"session_id": world.session.id,
                                                     "site_id": world.a.id}
    assert organiser.get(url(world.session)).get_json()["floor_site_id"] == world.a.id
    assert api_as(world.coord_a).post(url(world.session, "/floor"),
                                      json={"site_id": None}).status_code == 403
    assert organiser.post(url(world.session, "/floor"), json={"site_id": None}).status_code == 200
    pushed = [m["args"][0] for m in sio.get_received(NS) if m["name"] == "conference_floor"]
    assert pushed == [{"session_id": world.session.id, "site_id": world.a.id},
                      {"session_id": world.session.id, "site_id": None}]
    assert organiser.post(url(world.link, "/floor"), json={"site_id": None}).status_code == 409
    sio.disconnect(namespace=NS)


def test_state_lists_every_site_never_joined_and_the_link(world: Any, api_as: Any) -> None:
    body = api_as(world.coord_a).get(url(world.session)).get_json()
    assert body["provider"] == "builtin" and body["available"] is True
    assert [s["site_id"] for s in body["sites"]] == sorted([world.host.id, world.a.id,
                                                            world.b.id])
    assert {s["media"] for s in body["sites"]} == {"never"}
    link = api_as(world.organiser).get(url(world.link)).get_json()
    assert link["provider"] == "link" and link["url"] == "https://meet.jit.si/x"


def publisher_events(session_id: int, site_id: int, handle: int = 501) -> list[dict[str, Any]]:
    token = services.make_token(session_id, site_id, services.utcnow())
    return [
        {"type": 2, "session_id": 900, "handle_id": handle,
         "event": {"name": "attached", "plugin": "janus.plugin.videoroom", "token": token}},
        {"type": 64, "session_id": 900, "handle_id": handle,
         "event": {"plugin": "janus.plugin.videoroom",
                   "data": {"event": "joined", "room": 0, "id": site_id,
                            "display": f"site-{site_id}"}}},
        {"type": 16, "session_id": 900, "handle_id": handle,
         "event": {"connection": "webrtcup"}},
        {"type": 32, "session_id": 900, "handle_id": handle,
         "event": {"media": "audio", "receiving": True}},
        {"type": 32, "session_id": 900, "handle_id": handle,
         "event": {"media": "video", "receiving": True}},
    ]


def test_janus_events_drive_a_site_and_are_pushed(world: Any, app: Any, client: Any,
                                                   api_as: Any, token_for: Any) -> None:
    from trainer.conference.models import ConferenceRoom
    from trainer.extensions import db

    db.session.add(ConferenceRoom(session_id=world.session.id, janus_room=4242, pin="p",
                                  secret="s"))
    db.session.commit()
    sio = socketio.test_client(app, namespace=NS, auth={"token": token_for(world.organiser)})
    sio.emit("watch", {"session_id": world.session.id}, namespace=NS, callback=True)
    sio.get_received(NS)
    events = publisher_events(world.session.id, world.a.id)
    events[1]["event"]["data"]["room"] = 4242
    assert post_events(client, events).status_code == 204
    sites = {s["site_id"]: s for s in api_as(world.organiser).get(url(world.session))
             .get_json()["sites"]}
    assert sites[world.a.id]["media"] == "connected" and sites[world.a.id]["video"]
    assert sites[world.a.id]["first_joined_at"] and sites[world.b.id]["media"] == "never"
    pushed = [m["args"][0] for m in sio.get_received(NS) if m["name"] == "conference_status"]
    assert [(p["site_id"], p["media"], p["video"], p["audio"]) for p in pushed] == [
        (world.a.id, "connected", True, True)]

    # The page closes: Janus reports both streams gone, then the hangup.
    gone = [{"type": 32, "session_id": 900, "handle_id": 501,
             "event": {"media": kind, "receiving": False}} for kind in ("audio", "video")]
    gone.append({"type": 16, "session_id": 900, "handle_id": 501,
                 "event": {"connection": "hangup", "reason": "Close PC"}})
    assert post_events(client, gone).status_code == 204
    a = next(s for s in api_as(world.organiser).get(url(world.session)).get_json()["sites"]
             if s["site_id"] == world.a.id)
    assert a["media"] == "lost" and a["drops"] == 1 and not a["video"]
    pushed = [m["args"][0] for m in sio.get_received(NS) if m["name"] == "conference_status"]
    assert [(p["site_id"], p["media"]) for p in pushed] == [(world.a.id, "lost")]
    sio.disconnect(namespace=NS)


def test_a_join_under_another_sites_id_is_not_counted_for_that_site(
        world: Any, client: Any, api_as: Any) -> None:
    from trainer.conference.models import ConferenceRoom
    from trainer.extensions import db

    db.session.add(ConferenceRoom(session_id=world.session.id, janus_room=4243, pin="p",
                                  secret="s"))
    db.session.commit()
    events = publisher_events(world.session.id, world.a.id)
    events[1]["event"]["data"].update({"room": 4243, "id": world.b.id})
    assert post_events(client, events).status_code == 204
    sites = api_as(world.organiser).get(url(world.session)).get_json()["sites"]
    assert {s["media"] for s in sites} == {"never"}


@pytest.mark.parametrize("payload", [
    [{"type": 2, "session_id": 1, "handle_id": 2,
      "event": {"name": "attached", "plugin": "janus.plugin.videoroom",
                "token": "tr.999999.1.2000000000.n.m"}}],
    [{"type": 64, "session_id": 1, "handle_id": 3,
      "event": {"plugin": "janus.plugin.videoroom",
                "data": {"event": "joined", "room": 77, "id": 1}}}],
    [{"type": 32, "handle_id": "x", "event": {"media": "audio", "receiving": True}}],
    [{"type": 16, "handle_id": 2**70, "event": {"connection": "webrtcup"}},
     {"type": 2, "session_id": -1, "handle_id": 2**64, "event": {"name": "detached"}}],
    [{"type": 16}, "text", 5, None, {"type": 1, "session_id": 8, "event": {"name": "timeout"}}],
    {"type": 2, "event": []},
])
def test_events_of_unknown_sessions_rooms_or_odd_shapes_are_ignored(
        world: Any, client: Any, api_as: Any, payload: Any) -> None:
    assert post_events(client, payload).status_code == 204
    sites = api_as(world.organiser).get(url(world.session)).get_json()["sites"]
    assert {s["media"] for s in sites} == {"never"}


def test_events_need_the_password(world: Any, client: Any) -> None:
    assert post_events(client, [], password="wrong").status_code == 401
    assert client.post(EVENTS, json=[]).status_code == 401
    assert post_events(client, [{"type": 1}]).status_code == 204


def test_janus_unreachable_makes_sites_on_the_call_lost(world: Any, app: Any, client: Any,
                                                         api_as: Any) -> None:
    from trainer.conference.models import ConferenceRoom
    from trainer.extensions import db

    db.session.add(ConferenceRoom(session_id=world.session.id, janus_room=4244, pin="p",
                                  secret="s"))
    db.session.commit()
    events = publisher_events(world.session.id, world.a.id)
    events[1]["event"]["data"]["room"] = 4244
    post_events(client, events)
    assert services.janus_unreachable() == 1
    sites = {s["site_id"]: s for s in api_as(world.organiser).get(url(world.session))
             .get_json()["sites"]}
    assert sites[world.a.id]["media"] == "lost" and sites[world.b.id]["media"] == "never"


def test_a_session_chooses_its_provider(world: Any, api_as: Any,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    organiser = api_as(world.organiser, lang="en")
    base = {"title": "Phiên có phòng họp", "starts_at": "2026-12-20T07:30:00+07:00",
            "ends_at": "2026-12-20T11:30:00+07:00", "host_site_id": world.host.id,
            "site_ids": [world.a.id]}
    r = organiser.post("/api/v1/sessions", json={**base, "conference": {"provider": "builtin"}})
    assert r.status_code == 201, r.get_json()
    created = r.get_json()
    assert created["conference"] == {"provider": "builtin", "url": None}
    assert created["conference_url"] is None

    # A bare link keeps meaning `link`, and switches a builtin session to it.
    r = organiser.patch(f"/api/v1/sessions/{created['id']}",
                        json={"conference_url": "https://meet.jit.si/PhuTho"})
    assert r.get_json()["conference"] == {"provider": "link", "url": "https://meet.jit.si/PhuTho"}
    r = organiser.patch(f"/api/v1/sessions/{created['id']}", json={"conference": None})
    assert r.get_json()["conference"] is None and r.get_json()["conference_url"] is None
    r = organiser.patch(f"/api/v1/sessions/{created['id']}",
                        json={"conference": {"provider": "link"}})
    assert r.status_code == 422 and "conference_url" in r.get_json()["errors"]

    # Without a video server, builtin is refused with the way to get one.
    monkeypatch.setattr(runtime(), "client", None)
    r = organiser.post("/api/v1/sessions", json={**base, "conference": {"provider": "builtin"}})
    assert r.status_code == 422
    assert "apt-get install janus" in r.get_json()["errors"]["conference_provider"][0]
    assert api_as(world.organiser).get(url(world.session)).get_json()["available"] is False


def test_the_wall_board_carries_each_sites_media_for_a_builtin_session(
        world: Any, client: Any, api_as: Any) -> None:
    from trainer.conference.models import ConferenceRoom
    from trainer.extensions import db

    db.session.add(ConferenceRoom(session_id=world.session.id, janus_room=4245, pin="p",
                                  secret="s"))
    db.session.commit()
    events = publisher_events(world.session.id, world.a.id)
    events[1]["event"]["data"]["room"] = 4245
    post_events(client, events)
    organiser = api_as(world.organiser)
    rows = {r["site_id"]: r for r in organiser.get(
        f"/api/v1/sessions/{world.session.id}/sites").get_json()["items"]}
    assert rows[world.a.id]["conference"]["media"] == "connected"
    assert rows[world.a.id]["conference"]["drops"] == 0
    assert rows[world.b.id]["conference"] == {"media": "never", "since": None,
                                              "last_seen": None, "drops": 0}
    link_rows = organiser.get(f"/api/v1/sessions/{world.link.id}/sites").get_json()["items"]
    assert {r["conference"] is None for r in link_rows} == {True}


@pytest.mark.vietnamese_default
def test_without_a_video_server_join_says_how_to_enable_it_in_vietnamese(
        world: Any, api_as: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime(), "client", None)
    r = api_as(world.coord_a).post(url(world.session, "/join"), json={"site_id": world.a.id})
    assert r.status_code == 503
    assert r.get_json()["detail"].startswith("Chưa có máy chủ truyền hình: cài Janus")


def test_a_token_trainer_did_not_make_names_nobody(app: Any) -> None:
    token = services.make_token(5, 7, services.utcnow())
    assert services.parse_token(token)[:2] == (5, 7)
    forged = token.replace("tr.5.7.", "tr.5.8.")
    assert services.parse_token(forged) is None
    assert services.parse_token(forged, verify=False)[:2] == (5, 8)


def test_an_attached_handle_with_a_forged_token_is_not_attributed(world: Any, client: Any,
                                                                   api_as: Any) -> None:
    from trainer.conference.models import ConferenceHandle
    from trainer.extensions import db

    events = publisher_events(world.session.id, world.a.id)
    token = events[0]["event"]["token"]
    events[0]["event"]["token"] = token.replace(f".{world.a.id}.", f".{world.b.id}.", 1)
    assert post_events(client, events).status_code == 204
    assert db.session.query(ConferenceHandle).count() == 0


def test_mute_needs_an_organiser_and_a_site_on_the_call(world: Any, client: Any,
                                                         api_as: Any) -> None:
    from trainer.conference.models import ConferenceRoom
    from trainer.extensions import db

    organiser = api_as(world.organiser, lang="en")
    body = {"site_id": world.a.id, "muted": True}
    assert api_as(world.coord_a).post(url(world.session, "/mute"), json=body).status_code == 403
    r = organiser.post(url(world.session, "/mute"), json=body)
    assert r.status_code == 409 and "not on the call" in r.get_json()["detail"]
    db.session.add(ConferenceRoom(session_id=world.session.id, janus_room=4246, pin="p",
                                  secret="s"))
    db.session.commit()
    events = publisher_events(world.session.id, world.a.id)
    events[1]["event"]["data"]["room"] = 4246
    post_events(client, events)
    r = organiser.post(url(world.session, "/mute"), json=body)  # Janus does not answer here
    assert r.status_code == 503
    a = next(s for s in organiser.get(url(world.session)).get_json()["sites"]
             if s["site_id"] == world.a.id)
    assert a["muted"] is False and a["media"] == "connected"


def test_handles_janus_never_closed_are_forgotten_after_a_day(world: Any, client: Any) -> None:
    from trainer.conference.models import ConferenceHandle
    from trainer.extensions import db

    post_events(client, publisher_events(world.session.id, world.a.id)[:1])
    assert db.session.query(ConferenceHandle).count() == 1
    services.prune_handles(services.utcnow())
    assert db.session.query(ConferenceHandle).count() == 1
    services.prune_handles(services.utcnow() + services.timedelta(days=2))
    assert db.session.query(ConferenceHandle).count() == 0
