"""Socket.IO on /live, one process, through Flask-SocketIO's test client."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from trainer.checkin import services
from trainer.dbtypes import utcnow
from trainer.extensions import socketio

NS = "/live"


@pytest.fixture
def connect(app: Any, client: Any, token_for: Any) -> Any:
    clients: list[Any] = []

    def make(user: Any = None, *, token: str | None = None, cookie: bool = False) -> Any:
        auth = None
        if user is not None and not cookie:
            auth = {"token": token_for(user)}
        elif token is not None:
            auth = {"token": token}
        sio = socketio.test_client(app, namespace=NS, auth=auth,
                                   flask_test_client=client if cookie else app.test_client())
        clients.append(sio)
        return sio

    yield make
    for sio in clients:
        if sio.is_connected(NS):
            sio.disconnect(namespace=NS)


def events(sio: Any, name: str) -> list[Any]:
    return [m["args"][0] for m in sio.get_received(NS) if m["name"] == name]


def received(sio: Any) -> list[Any]:
    return sio.get_received(NS)


def test_connect_refused_without_valid_credentials(world: Any, connect: Any) -> None:
    assert not connect().is_connected(NS)
    assert not connect(token="not-a-token").is_connected(NS)
    assert connect(world.coord_a).is_connected(NS)


def test_connect_with_the_session_cookie(world: Any, connect: Any, login: Any) -> None:
    login(world.organiser)
    sio = connect(world.organiser, cookie=True)
    assert sio.is_connected(NS)
    ack = sio.emit("watch", {"session_id": world.session.id}, namespace=NS, callback=True)
    assert ack["session_id"] == world.session.id


def test_watch_acks_the_attendance_body(world: Any, connect: Any, api_as: Any) -> None:
    w = world
    sio = connect(w.organiser)
    ack = sio.emit("watch", {"session_id": w.session.id}, namespace=NS, callback=True)
    expected = api_as(w.organiser).get(f"/api/v1/sessions/{w.session.id}/attendance").get_json()
    assert ack == expected
    assert set(ack) == {"session_id", "version", "sites", "totals"}


def test_attendance_is_pushed_after_a_checkin_and_an_undo(world: Any, connect: Any,
                                                          api_as: Any) -> None:
    w = world
    sio = connect(w.organiser)
    ack = sio.emit("watch", {"session_id": w.session.id}, namespace=NS, callback=True)
    received(sio)
    response = api_as(w.coord_a).post(f"/api/v1/sessions/{w.session.id}/checkins",
                                      json={"site_id": w.a.id, "participant_id": w.ha.id})
    assert response.status_code == 201
    [push] = events(sio, "attendance")
    assert push["version"] > ack["version"]
    assert push["totals"]["present"] == 1 and push["totals"]["female"] == 1
    site_a = next(s for s in push["sites"] if s["site_id"] == w.a.id)
    assert site_a["present"] == 1
    api_as(w.coord_a).delete(f"/api/v1/sessions/{w.session.id}/checkins/"
                             f"{response.get_json()['id']}")
    [after] = events(sio, "attendance")
    assert after["version"] > push["version"] and after["totals"]["present"] == 0


def test_a_repeat_checkin_pushes_nothing(world: Any, connect: Any, api_as: Any) -> None:
    w = world
    api = api_as(w.coord_a)
    api.post(f"/api/v1/sessions/{w.session.id}/checkins",
             json={"site_id": w.a.id, "participant_id": w.ha.id})
    sio = connect(w.organiser)
    sio.emit("watch", {"session_id": w.session.id}, namespace=NS, callback=True)
    received(sio)
    assert api.post(f"/api/v1/sessions/{w.session.id}/checkins",
                    json={"site_id": w.a.id, "participant_id": w.ha.id}).status_code == 200
    assert events(sio, "attendance") == []


def test_watch_permissions_and_garbage_keep_the_connection(world: Any, connect: Any) -> None:
    w = world
    sio = connect(w.coord_out)
    refused = sio.emit("watch", {"session_id": w.session.id}, namespace=NS, callback=True)
    assert refused["status"] == 403 and refused["error"]
    for garbage in (None, 5, "x", [1], {"session_id": "abc"}, {"session_id": True},
                    {"session_id": -1}, {"session_id": 10**30}, {"session": 1}):
        ack = sio.emit("watch", garbage, namespace=NS, callback=True)
        assert ack["error"], garbage
        assert sio.is_connected(NS)
    assert sio.emit("watch", {"session_id": 999999}, namespace=NS, callback=True)["status"] == 404
    for event in ("watch_site", "heartbeat", "site_status", "rollcall_confirm"):
        ack = sio.emit(event, "garbage", namespace=NS, callback=True)
        assert ack["error"] and sio.is_connected(NS)
    sio.emit("no_such_event", {"x": 1}, namespace=NS)
    sio.emit("watch", {"session_id": w.session.id}, 1, 2, namespace=NS)  # extra arguments
    assert sio.is_connected(NS)
    ok = connect(w.coord_a)
    assert ok.emit("watch", {"session_id": str(w.session.id)}, namespace=NS,
                   callback=True)["session_id"] == w.session.id


def test_site_page_gets_its_checkins_and_presence_shows_on_the_wall(
        world: Any, connect: Any, api_as: Any) -> None:
    w = world
    wall = connect(w.organiser)
    wall.emit("watch", {"session_id": w.session.id}, namespace=NS, callback=True)
    page = connect(w.coord_a)
    ack = page.emit("watch_site", {"session_id": w.session.id, "site_id": w.a.id},
                    namespace=NS, callback=True)
    assert ack["ok"] is True and ack["rollcall_active"] is False
    assert ack["session_status"] == "live"
    [status] = events(wall, "site_status")
    assert status == {"session_id": w.session.id, "site_id": w.a.id, "status": "online",
                      "note": None, "reported_status": "unknown", "at": None,
                      "connected": True, "presence": "live",
                      "last_heard_at": status["last_heard_at"]}
    assert status["last_heard_at"] is not None
    other_site_page = connect(w.coord_b)
    other_site_page.emit("watch_site", {"session_id": w.session.id, "site_id": w.b.id},
                         namespace=NS, callback=True)
    received(other_site_page)
    created = api_as(w.organiser).post(f"/api/v1/sessions/{w.session.id}/checkins",
                                       json={"site_id": w.a.id, "participant_id": w.ha.id})
    [checkin] = events(page, "checkin")
    assert checkin["checkin_id"] == created.get_json()["id"]
    assert checkin["participant_id"] == w.ha.id and checkin["site_id"] == w.a.id
    assert events(other_site_page, "checkin") == []  # other sites' phones are not bothered
    # Someone expected at B who came to A: B's phones learn it too (their roster changes).
    api_as(w.organiser).post(f"/api/v1/sessions/{w.session.id}/checkins",
                             json={"site_id": w.a.id, "participant_id": w.lan.id})
    [elsewhere] = events(other_site_page, "checkin")
    assert (elsewhere["participant_id"], elsewhere["site_id"]) == (w.lan.id, w.a.id)
    received(page)
    api_as(w.organiser).delete(f"/api/v1/sessions/{w.session.id}/checkins/{checkin['checkin_id']}")
    [undone] = events(page, "checkin_undone")
    assert undone["checkin_id"] == checkin["checkin_id"]

    board = {r["site_id"]: r for r in services.site_board(w.organiser, w.session.id)}
    assert board[w.a.id]["connected"] is True
    assert page.emit("heartbeat", {"session_id": w.session.id, "site_id": w.a.id},
                     namespace=NS, callback=True) == {"ok": True}
    page.disconnect(namespace=NS)
    board = {r["site_id"]: r for r in services.site_board(w.organiser, w.session.id)}
    assert board[w.a.id]["connected"] is True  # gone for less than 30 s
    received(wall)
    services.sweep_presence(utcnow() + timedelta(seconds=31))
    offline = [e for e in events(wall, "site_status") if e["site_id"] == w.a.id]
    assert offline and offline[-1]["status"] == "offline" and not offline[-1]["connected"]


def test_site_status_from_a_coordinator_for_its_own_sites_only(world: Any,
                                                               connect: Any) -> None:
    w = world
    wall = connect(w.organiser)
    wall.emit("watch", {"session_id": w.session.id}, namespace=NS, callback=True)
    page = connect(w.coord_a)
    page.emit("watch_site", {"session_id": w.session.id, "site_id": w.a.id}, namespace=NS,
              callback=True)
    received(wall)
    ack = page.emit("site_status", {"session_id": w.session.id, "site_id": w.a.id,
                                    "status": "issue", "note": "Mất tiếng"},
                    namespace=NS, callback=True)
    assert ack["ok"] is True and ack["status"] == "issue"
    [event] = events(wall, "site_status")
    assert (event["site_id"], event["status"], event["note"]) == (w.a.id, "issue", "Mất tiếng")
    refused = page.emit("site_status", {"session_id": w.session.id, "site_id": w.b.id,
                                        "status": "online"}, namespace=NS, callback=True)
    assert refused["status"] == 403
    for bad in ({"session_id": w.session.id, "site_id": w.a.id, "status": 3},
                {"session_id": w.session.id, "site_id": w.a.id, "status": "asleep"},
                {"session_id": w.session.id, "site_id": w.a.id, "status": "issue", "note": []}):
        assert page.emit("site_status", bad, namespace=NS, callback=True)["error"]
    assert events(wall, "site_status") == [] and page.is_connected(NS)
    assert page.emit("watch_site", {"session_id": w.session.id, "site_id": w.b.id},
                     namespace=NS, callback=True)["status"] == 403


def test_heartbeat_of_an_unknown_page_registers_it(world: Any, connect: Any) -> None:
    w = world
    page = connect(w.coord_a)
    ack = page.emit("heartbeat", {"session_id": w.session.id, "site_id": w.a.id},
                    namespace=NS, callback=True)
    assert ack["ok"] is True and "rollcall_active" in ack
    assert services.site_status(w.session.id, w.a.id)["connected"] is True
    assert page.emit("heartbeat", {"session_id": w.session.id, "site_id": w.b.id},
                     namespace=NS, callback=True)["status"] == 403


def test_rollcall_reaches_every_site_page_and_answers_reach_the_wall(
        world: Any, connect: Any, api_as: Any) -> None:
    w = world
    wall = connect(w.organiser)
    wall.emit("watch", {"session_id": w.session.id}, namespace=NS, callback=True)
    pages = {}
    for user, site in ((w.coord_a, w.a), (w.coord_b, w.b)):
        pages[site.id] = connect(user)
        pages[site.id].emit("watch_site", {"session_id": w.session.id, "site_id": site.id},
                            namespace=NS, callback=True)
    api_as(w.organiser).post(f"/api/v1/sessions/{w.session.id}/rollcall")
    for page in pages.values():
        [prompt] = events(page, "rollcall")
        assert prompt["session_id"] == w.session.id and prompt["started_at"]
    received(wall)
    ack = pages[w.a.id].emit("rollcall_confirm", {"session_id": w.session.id,
                                                  "site_id": w.a.id},
                             namespace=NS, callback=True)
    assert ack["ok"] is True and ack["site_id"] == w.a.id
    [confirmed] = events(wall, "rollcall_confirmed")
    assert confirmed == {"session_id": w.session.id, "site_id": w.a.id, "at": ack["at"]}
    again = pages[w.b.id].emit("watch_site", {"session_id": w.session.id, "site_id": w.b.id},
                               namespace=NS, callback=True)
    assert again["rollcall_active"] is True and again["rollcall_confirmed_at"] is None
