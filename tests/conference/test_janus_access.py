"""Access to the video room is decided at Janus, not only in our pages: a real Janus started
by a real `trainer serve`, driven from here with plain HTTP calls as a hostile browser would."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
import requests

from tests.support_servers import wait_until

pytestmark = pytest.mark.processes


def janus(url: str, body: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = requests.post(
        url, json={**body, "transaction": secrets.token_hex(6)}, timeout=5).json()
    return answer


def attach(video: Any, token: str | None) -> tuple[dict[str, Any], str | None]:
    """Create a Janus session and attach to the VideoRoom with `token`: (answer, handle URL)."""
    extra = {"token": token} if token else {}
    created = janus(video.janus.url, {"janus": "create", **extra})
    if created["janus"] != "success":
        return created, None
    session_url = f"{video.janus.url}/{created['data']['id']}"
    attached = janus(session_url, {"janus": "attach", "plugin": "janus.plugin.videoroom",
                                   **extra})
    if attached["janus"] != "success":
        return attached, None
    return attached, f"{session_url}/{attached['data']['id']}"


def join_request(handle_url: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
    return janus(handle_url, {"janus": "message", "token": token, "body": body})


def issue(video: Any, token: str, **body: Any) -> dict[str, Any]:
    r = video.api(token).post(
        f"{video.server.url}/api/v1/sessions/{video.world.session_id}/conference/join",
        json=body, timeout=10)
    assert r.status_code == 201, r.text
    answer: dict[str, Any] = r.json()
    return answer


def publisher_ids(video: Any, room: int) -> set[int]:
    return {p["id"] for p in video.janus.client().participants(room)}


def test_without_a_token_trainer_issued_janus_refuses(video: Any) -> None:
    for token in (None, "tr.1.1.99999999999.guessed.mac", secrets.token_urlsafe(24)):
        answer, handle = attach(video, token)
        assert handle is None
        assert answer["janus"] == "error" and answer["error"]["code"] == 403


def test_a_site_joins_with_its_token_and_cannot_publish_as_another(video: Any) -> None:
    w = video.world
    mine = issue(video, w.coord_token, site_id=w.a_id, role="site")
    assert mine["display"] == f"site-{w.a_id}" and mine["publisher_id"] == w.a_id
    assert mine["token"] and mine["expires_at"] and mine["room"]

    # Joining as its own site works, and stays.
    answer, handle = attach(video, mine["token"])
    assert handle is not None, answer
    ack = join_request(handle, mine["token"], {
        "request": "join", "ptype": "publisher", "room": mine["room"], "pin": mine["pin"],
        "id": w.a_id, "display": mine["display"]})
    assert ack["janus"] == "ack"
    wait_until(lambda: w.a_id in publisher_ids(video, mine["room"]), 10, "site A in the room")

    # Site A's token, publishing as site B: Janus lets it in, trainer kicks it at once.
    other = issue(video, w.coord_token, site_id=w.a_id, role="site")
    answer, impostor = attach(video, other["token"])
    assert impostor is not None, answer
    join_request(impostor, other["token"], {
        "request": "join", "ptype": "publisher", "room": other["room"], "pin": other["pin"],
        "id": w.b_id, "display": f"site-{w.b_id}"})
    wait_until(lambda: w.b_id not in publisher_ids(video, other["room"]), 10,
               "the impostor to be kicked")
    assert w.a_id in publisher_ids(video, mine["room"])
    log = video.server.log_tail(20000)
    assert f"joined room {other['room']} as publisher {w.b_id}: kicked" in log

    state = video.api(w.organiser_token).get(
        f"{video.server.url}/api/v1/sessions/{w.session_id}/conference", timeout=10).json()
    b = next(s for s in state["sites"] if s["site_id"] == w.b_id)
    assert b["media"] == "never"


def test_an_expired_token_is_removed_from_janus(video: Any) -> None:
    from trainer.conference import services
    from trainer.dbtypes import utcnow

    w = video.world
    client = video.janus.client()
    expired = f"tr.{w.session_id}.{w.a_id}.{int(utcnow().timestamp()) - 60}.nonce.mac"
    client.add_token(expired)
    assert attach(video, expired)[1] is not None  # valid until trainer removes it
    assert services.sweep_tokens(client, utcnow()) >= 1
    answer, handle = attach(video, expired)
    assert handle is None and answer["error"]["code"] == 403


def test_a_coordinator_cannot_take_another_site_or_the_host(video: Any) -> None:
    w = video.world
    url = f"{video.server.url}/api/v1/sessions/{w.session_id}/conference/join"
    api = video.api(w.coord_token)
    assert api.post(url, json={"site_id": w.b_id}, timeout=10).status_code == 403
    assert api.post(url, json={"role": "host"}, timeout=10).status_code == 403
    host = issue(video, w.organiser_token, role="host")
    assert host["display"] == "host" and host["site_id"] is None


def test_janus_down_the_api_says_so_then_trainer_starts_it_again(video: Any) -> None:
    """Last in this module: it kills the child Janus."""
    import os
    import signal

    w = video.world
    url = f"{video.server.url}/api/v1/sessions/{w.session_id}/conference/join"
    api = video.api(w.organiser_token)
    pid = video.server.janus_pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    r = api.post(url, json={"role": "host"}, timeout=10)
    assert r.status_code == 503 and "video server" in r.json()["detail"]
    # The check-in side of the session does not notice.
    board = api.get(f"{video.server.url}/api/v1/sessions/{w.session_id}/sites", timeout=10)
    assert board.status_code == 200
    wait_until(lambda: "starting it again" in video.server.log_tail(20000), 30,
               "trainer to start its Janus again")
    again = wait_until(lambda: (r := api.post(url, json={"role": "host"}, timeout=10))
                       .status_code == 201 and r.json(), 30, "a join to work again")
    assert attach(video, again["token"])[1] is not None
    assert video.janus.client().room_exists(again["room"])  # created again


def test_a_killed_server_leaves_no_janus_behind(tmp_path: Any) -> None:
    import os

    from tests.conference.video import JANUS, NO_JANUS, VideoServer
    from tests.support_servers import child_env, create_schema, sqlite_url

    if JANUS is None:
        pytest.skip(NO_JANUS)
    url = sqlite_url(tmp_path)
    create_schema(url, tmp_path)
    server = VideoServer("killed", child_env(url, tmp_path, JANUS_MANAGED="1"), tmp_path)
    server.start()
    pid = server.janus_pid()
    assert pid is not None
    server.kill()  # SIGKILL: trainer cannot stop its child itself

    def gone() -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        with open(f"/proc/{pid}/stat") as f:  # a zombie waiting for init counts as gone
            return f.read().split(") ", 1)[1].startswith("Z")

    wait_until(gone, 15, "the child Janus to exit")
