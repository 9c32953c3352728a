"""A site's media drives its status: real Janus (child of a real `trainer serve`) and a
headless Chromium publishing fake camera and microphone with janus.js, all inside a network
namespace this test makes and removes (Janus skips loopback when gathering ICE candidates, and
media must never touch a real interface). No trainer page is involved: the browser uses only
what the join API hands out, so this tests the backend's media path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conference.video import JANUS, NO_JANUS, VideoServer, make_builtin
from tests.support_netns import CHROMIUM, NetNS, available
from tests.support_servers import child_env, create_schema, load_world, sqlite_url, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.processes]

JANUS_JS = Path("/usr/share/javascript/janus-gateway/janus.js")  # Debian's libjs-janus-gateway

PUBLISH = """J => new Promise((resolve, reject) => {
  window.adapter = {browserDetails: {browser: "chrome", version: 120}};
  Janus.init({debug: false, dependencies: Janus.useDefaultDependencies({adapter: window.adapter}),
    callback: () => {
      const janus = new Janus({server: J.server, token: J.token, error: e => reject(String(e)),
        success: () => janus.attach({plugin: "janus.plugin.videoroom", error: reject,
          success: h => { window.h = h; h.send({message: {request: "join", ptype: "publisher",
            room: J.room, pin: J.pin, id: J.publisher_id, display: J.display}}); },
          onmessage: (msg, jsep) => {
            if (msg.videoroom === "joined") {
              window.h.createOffer({tracks: [{type: "audio", capture: true, recv: false},
                                             {type: "video", capture: true, recv: false}],
                success: j => window.h.send({message: {request: "configure", audio: true,
                                                       video: true}, jsep: j}),
                error: e => reject(String(e))});
            }
            if (jsep) window.h.handleRemoteJsep({jsep});
            if (msg.error) reject(msg.error);
          },
          webrtcState: on => { if (on) resolve(true); }})});
    }});
})"""


@pytest.fixture(scope="module")
def netns() -> Iterator[NetNS]:
    if JANUS is None:
        pytest.skip(NO_JANUS)
    if not CHROMIUM.exists() or not JANUS_JS.exists():
        pytest.skip("needs Debian's chromium and libjs-janus-gateway")
    if why := available():
        pytest.skip(why)
    with NetNS("media") as ns:
        yield ns


@pytest.fixture(scope="module")
def media(netns: NetNS, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    data_dir = tmp_path_factory.mktemp("media")
    url = sqlite_url(data_dir)
    create_schema(url, data_dir)
    world = load_world(url, data_dir, at_a=1, at_b=1, at_host=1)
    make_builtin(url, data_dir, world.session_id)
    server = VideoServer("media", child_env(url, data_dir, JANUS_MANAGED="1"), data_dir,
                         host=netns.address, prefix=netns.command())
    server.start()
    try:
        wait_until(lambda: requests.get(server.url + "/healthz", timeout=2).ok, 30,
                   "the server in the namespace to answer")
        yield server, world, data_dir, netns
    finally:
        server.stop()


def site(server: Any, world: Any, token: str, site_id: int) -> dict[str, Any]:
    body = requests.get(f"{server.url}/api/v1/sessions/{world.session_id}/conference",
                        headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
    found: dict[str, Any] = next(s for s in body["sites"] if s["site_id"] == site_id)
    return found


def test_a_sites_media_makes_it_connected_and_its_page_closing_makes_it_lost(
        media: Any) -> None:
    import socketio
    from playwright.sync_api import sync_playwright

    server, world, data_dir, ns = media
    auth = {"Authorization": f"Bearer {world.coord_token}"}
    join = requests.post(f"{server.url}/api/v1/sessions/{world.session_id}/conference/join",
                         json={"site_id": world.a_id}, headers=auth, timeout=10)
    assert join.status_code == 201, join.text
    grant = join.json()
    origin = grant["server"].rsplit("/janus", 1)[0]

    pushed: list[dict[str, Any]] = []
    watcher = socketio.Client(reconnection=False)
    watcher.on("conference_status", pushed.append, namespace="/live")
    watcher.connect(server.url, namespaces=["/live"], transports=["websocket"],
                    auth={"token": world.organiser_token}, wait_timeout=10)
    watcher.call("watch", {"session_id": world.session_id}, namespace="/live", timeout=10)

    wrapper = ns.wrapper(str(CHROMIUM), data_dir)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(wrapper), args=[
                "--no-sandbox", "--disable-gpu", "--use-fake-device-for-media-stream",
                "--use-fake-ui-for-media-stream",
                f"--unsafely-treat-insecure-origin-as-secure={origin}"])
            try:
                page = browser.new_page()
                page.goto(grant["server"] + "/info")  # an origin without trainer's policy
                page.add_script_tag(path=str(JANUS_JS))
                assert page.evaluate(PUBLISH, grant) is True
                a = wait_until(lambda: (s := site(server, world, world.organiser_token,
                                                  world.a_id))["media"] == "connected" and s,
                               20, "site A connected")
                assert a["first_joined_at"] and a["drops"] == 0
                assert site(server, world, world.organiser_token, world.b_id)["media"] == "never"
                wait_until(lambda: any(m["site_id"] == world.a_id and m["media"] == "connected"
                                       for m in pushed), 10, "the connected push")

                muted = requests.post(
                    f"{server.url}/api/v1/sessions/{world.session_id}/conference/mute",
                    json={"site_id": world.a_id, "muted": True},
                    headers={"Authorization": f"Bearer {world.organiser_token}"}, timeout=10)
                assert muted.status_code == 200, muted.text
                assert site(server, world, world.organiser_token, world.a_id)["muted"] is True

                page.close()  # the tab dies: no hangup, Janus notices the media stop
                lost = wait_until(lambda: (s := site(server, world, world.organiser_token,
                                                     world.a_id))["media"] == "lost" and s,
                                  20, "site A lost")
                assert lost["drops"] == 1 and not lost["video"] and not lost["audio"]
                wait_until(lambda: any(m["site_id"] == world.a_id and m["media"] == "lost"
                                       for m in pushed), 10, "the lost push")
                assert "degraded" not in [m["media"] for m in pushed]
            finally:
                browser.close()
    finally:
        watcher.disconnect()
