"""The built-in video room end to end: the host's control room and two bridge points' room
computers in Chromium (fake camera and microphone), Janus and `trainer serve` inside a network
namespace (see conftest.py). The tests run in file order on one room.

Waits are on what a page shows or the API answers (bounded), never on the clock.
"""

from __future__ import annotations

import re
import signal
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.conference_pages.conftest import FULL_HD, LAPTOP, Room, save
from tests.support_servers import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.processes]

UP_MS = 30_000  # ICE, DTLS and the first frames on a busy two-core machine: the ceiling
pages: dict[str, Any] = {}


class Watcher:
    """A Socket.IO client watching the session, as the wall does: keeps every
    `conference_status` it receives."""

    def __init__(self, room: Room) -> None:
        import socketio

        self.events: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("conference_status", self._on_status, namespace="/live")
        self.sio.connect(room.url, namespaces=["/live"], transports=["websocket"],
                         auth={"token": room.world.organiser_token}, wait_timeout=10)
        self.sio.call("watch", {"session_id": room.world.session_id}, namespace="/live",
                      timeout=10)

    def _on_status(self, payload: dict[str, Any]) -> None:
        with self.lock:
            self.events.append(payload)

    def saw(self, site_id: int, media: str) -> bool:
        with self.lock:
            return any(e.get("site_id") == site_id and e.get("media") == media
                       for e in self.events)


@pytest.fixture(scope="module")
def watcher(room: Room) -> Iterator[Watcher]:
    w = Watcher(room)
    try:
        yield w
    finally:
        w.sio.disconnect()


def api(room: Room, method: str, path: str, token: str | None = None, **kw: Any) -> Any:
    headers = {"Authorization": f"Bearer {token or room.world.organiser_token}"}
    return requests.request(method, f"{room.url}/api/v1/sessions/{room.world.session_id}{path}",
                            headers=headers, timeout=10, **kw)


def media(room: Room) -> dict[int, str]:
    body = api(room, "GET", "/conference").json()
    return {row["site_id"]: row["media"] for row in body["sites"]}


def wait_media(room: Room, expected: dict[int, str], timeout: float = 20) -> None:
    """Until the API reports each site's media as expected (the last answer in the error)."""
    seen: dict[int, str] = {}

    def check() -> bool:
        seen.clear()
        seen.update(media(room))
        return all(seen.get(site) == state for site, state in expected.items())

    try:
        wait_until(check, timeout, f"media {expected}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; the API said {seen}") from None


def join_call(page: Any, quality: str = "360") -> None:
    from playwright.sync_api import expect

    expect(page.get_by_test_id("join")).to_be_enabled()
    expect(page.get_by_test_id("guidance")).to_be_hidden()  # fake devices: nothing missing
    page.get_by_test_id("quality").select_option(quality)
    page.get_by_test_id("join").click()
    expect(page.get_by_test_id("conn-status")).to_have_attribute("data-state", "live",
                                                                 timeout=UP_MS)


def frames_rise(page: Any, selector: str) -> None:
    """The element's data-frames-decoded (from getStats of the received stream) grows."""
    first = int(page.wait_for_function(
        f"() => Number(document.querySelector({selector!r})?.dataset.framesDecoded || 0)",
        timeout=UP_MS).json_value())
    page.wait_for_function(
        f"() => Number(document.querySelector({selector!r})?.dataset.framesDecoded || 0) > {first}",
        timeout=UP_MS)


def test_host_and_two_sites_join_and_the_host_sees_both(room: Room, watcher: Watcher) -> None:
    w = room.world
    sid = w.session_id
    session_page = room.page("organiser", f"/sessions/{sid}", name="session")
    host = pages["host"] = room.page("organiser", f"/sessions/{sid}/conference/host", name="host")
    join_call(host)
    pages["a"] = room.page("coord_a", f"/sessions/{sid}/conference/site/{w.a_id}", name="a")
    join_call(pages["a"])
    pages["b"] = room.page("coord_b", f"/sessions/{sid}/conference/site/{w.b_id}", name="b")
    join_call(pages["b"])

    # The control room plays both sites' pictures: frames decoded from what it receives.
    for site_id in (w.a_id, w.b_id):
        frames_rise(host, f'.conf-tile[data-site-id="{site_id}"]')
    # Each site sees the host.
    frames_rise(pages["a"], "#host-video")

    # The API and a Socket.IO watcher say both are connected, from Janus's own events.
    wait_media(room, {w.a_id: "connected", w.b_id: "connected"})
    wait_until(lambda: watcher.saw(w.a_id, "connected") and watcher.saw(w.b_id, "connected"),
               15, "conference_status connected for both sites")
    from playwright.sync_api import expect

    for site_id in (w.a_id, w.b_id):
        expect(host.locator(f'.conf-tile[data-site-id="{site_id}"]')).to_have_attribute(
            "data-media", re.compile("^(connected|degraded)$"))
    # The session page, open since before they joined, follows without a reload (on the
    # call: connected, or unstable for 10 s when Janus reports a slow link on a busy machine).
    for site_id in (w.a_id, w.b_id):
        expect(session_page.locator(f'[data-testid=conference-site][data-site-id="{site_id}"] '
                                    "[data-field=media]")).to_have_text(
                                        re.compile("^(Đã kết nối|Chập chờn)$"))
    save(session_page, "session-page-1366x768")
    session_page.context.close()
    save(host, "host-1366x768")
    save(pages["a"], "site-a-1366x768")


def test_the_control_room_pages_its_tiles_and_receives_only_the_shown_page(room: Room) -> None:
    from playwright.sync_api import expect

    w = room.world
    host = pages["host"]
    tile_a = host.locator(f'.conf-tile[data-site-id="{w.a_id}"]')
    expect(host.get_by_test_id("pager")).to_be_visible()
    expect(host.locator("#page-label")).to_have_text("Trang 1 / 2")
    expect(host.locator(".conf-tile:visible")).to_have_count(12)
    host.locator("#page-next").click()
    expect(host.locator("#page-label")).to_have_text("Trang 2 / 2")
    expect(host.locator(".conf-tile:visible")).to_have_count(2)
    expect(tile_a).to_be_hidden()
    host.wait_for_function(  # A's picture is no longer received
        f"() => !document.querySelector('.conf-tile[data-site-id=\"{w.a_id}\"]').dataset.framesDecoded")
    host.locator("#page-prev").click()
    expect(tile_a).to_be_visible()
    frames_rise(host, f'.conf-tile[data-site-id="{w.a_id}"]')


def test_the_floor_reaches_the_other_site(room: Room) -> None:
    from playwright.sync_api import expect

    w = room.world
    host = pages["host"]
    host.locator(f'.conf-tile[data-site-id="{w.a_id}"] [data-action="floor"]').click()
    expect(host.get_by_test_id("floor-state")).to_have_text("Huyện Cẩm Khê")
    b = pages["b"]
    expect(b.get_by_test_id("floor-name")).to_have_text("Huyện Cẩm Khê")
    frames_rise(b, "#floor-video")
    assert api(room, "GET", "/conference").json()["floor_site_id"] == w.a_id
    expect(pages["a"].locator(".self-view")).to_have_class("self-view has-floor")
    save(b, "site-b-floor-1366x768")
    for name in ("host", "b"):
        pages[name].set_viewport_size(FULL_HD["viewport"])
        save(pages[name], f"{name}-1920x1080")
        pages[name].set_viewport_size(LAPTOP["viewport"])


def video_frames(page: Any, selector: str) -> int:
    return int(page.evaluate(
        f"() => document.querySelector({selector!r}).getVideoPlaybackQuality().totalVideoFrames"))


def test_the_host_shares_slides_and_every_site_shows_them_large(room: Room) -> None:
    """The control room shares its screen (Chromium's fake screen) as one more stream of the
    host: each room computer shows it on the big screen with the host's picture in the corner,
    until the host stops."""
    from playwright.sync_api import expect

    host, a, b = pages["host"], pages["a"], pages["b"]
    share = host.get_by_test_id("share-screen")
    expect(share).to_have_text("Trình chiếu")
    share.click()
    expect(host.get_by_test_id("screen-indicator")).to_be_visible()
    expect(share).to_have_text("Dừng trình chiếu")
    for page in (a, b):
        expect(page.get_by_test_id("site-room")).to_have_attribute("data-slides", "1")
        expect(page.get_by_test_id("slides-video")).to_be_visible()
        frames_rise(page, "#slides-video")
    # The host is still seen and heard, in the corner.
    first = video_frames(a, "#host-video")
    a.wait_for_function(f"() => document.querySelector('#host-video')"
                        f".getVideoPlaybackQuality().totalVideoFrames > {first}", timeout=UP_MS)
    save(a, "site-a-slides-1366x768")
    share.click()
    expect(host.get_by_test_id("screen-indicator")).to_be_hidden()
    for page in (a, b):
        expect(page.get_by_test_id("site-room")).to_have_attribute("data-slides", "")
        expect(page.get_by_test_id("slides-video")).to_be_hidden()
    frames_rise(a, "#host-video")


def test_roll_call_by_video_grows_the_called_tile_until_the_site_confirms(room: Room) -> None:
    from playwright.sync_api import expect

    w = room.world
    host = pages["host"]
    tile = host.locator(f'.conf-tile[data-site-id="{w.a_id}"]')
    tile.locator('[data-action="call"]').click()
    expect(tile).to_have_class(re.compile(r"\bcalled\b"))
    expect(tile.get_by_test_id("tile-rollcall")).to_have_text("Đã gọi: chờ điểm cầu xác nhận")
    save(host, "host-rollcall-1366x768")
    # The coordinator confirms as today (check-in page or API).
    confirmed = requests.post(
        f"{room.url}/api/v1/sessions/{w.session_id}/rollcall/{w.a_id}",
        headers={"Authorization": f"Bearer {w.coord_token}"}, timeout=10)
    assert confirmed.status_code == 200, confirmed.text
    expect(tile.get_by_test_id("tile-rollcall")).to_contain_text("✓ Đã xác nhận lúc")
    expect(tile).not_to_have_class(re.compile(r"\bcalled\b"))


def test_the_host_mutes_a_site_for_everyone(room: Room) -> None:
    from playwright.sync_api import expect

    w = room.world
    host, a = pages["host"], pages["a"]
    button = host.locator(f'.conf-tile[data-site-id="{w.a_id}"] [data-action="mute"]')
    button.click()
    expect(a.get_by_test_id("muted-by-host")).to_be_visible()
    expect(a.get_by_test_id("muted-by-host")).to_have_text("Điểm cầu chính đã tắt tiếng điểm cầu này.")
    expect(host.locator(f'.conf-tile[data-site-id="{w.a_id}"]')).to_have_attribute("data-muted", "1")
    button.click()
    expect(a.get_by_test_id("muted-by-host")).to_be_hidden()
    # Muting is done by Janus with the room's secret: a site not on the call cannot be muted.
    gone = api(room, "POST", "/conference/mute",
               json={"site_id": w.host_id, "muted": True, "mid": "0"})
    assert gone.status_code in (409, 422), gone.text


def test_a_site_asks_to_speak_and_the_host_gives_it_the_floor_in_one_tap(room: Room) -> None:
    from playwright.sync_api import expect

    w = room.world
    host, b = pages["host"], pages["b"]
    ask = b.get_by_test_id("raise-hand")
    expect(ask).to_have_text("Xin phát biểu")
    ask.click()
    expect(ask).to_have_text("Hủy xin phát biểu")
    # The control room lists it (whatever page of tiles is shown) and marks its tile.
    expect(host.get_by_test_id("hands")).to_be_visible()
    give = host.locator(f'[data-testid="hand-give"][data-site-id="{w.b_id}"]')
    expect(give).to_contain_text("Huyện Đoan Hùng")
    expect(host.locator(f'.conf-tile[data-site-id="{w.b_id}"] [data-field="hand"]')
           ).to_contain_text("Xin phát biểu")
    save(host, "host-hand-1366x768")
    give.click()
    expect(host.get_by_test_id("floor-state")).to_have_text("Huyện Đoan Hùng")
    expect(host.get_by_test_id("hands")).to_be_hidden()
    expect(ask).to_have_text("Xin phát biểu")  # answered
    expect(pages["a"].get_by_test_id("floor-name")).to_have_text("Huyện Đoan Hùng")
    host.get_by_test_id("take-floor").click()
    expect(host.get_by_test_id("floor-state")).to_have_text("Chưa điểm cầu nào được phát biểu")


def test_after_a_network_drop_the_pages_rejoin_by_themselves(room: Room) -> None:
    """Inside the namespace every packet between the browsers, Janus and the server crosses
    its loopback device: taking it down cuts them all off, as a dropped line would."""
    from playwright.sync_api import expect

    w = room.world
    a = pages["a"]
    room.ns.exec_ip("link", "set", "lo", "down")
    try:
        status = a.get_by_test_id("conn-status")
        expect(status).to_have_attribute("data-state", re.compile("^(reconnecting|unavailable)$"),
                                         timeout=UP_MS)
        expect(status).to_contain_text("Mất kết nối")
        save(a, "site-a-network-drop")
    finally:
        room.ns.exec_ip("link", "set", "lo", "up")
    expect(a.get_by_test_id("conn-status")).to_have_attribute("data-state", "live",
                                                              timeout=2 * UP_MS)
    frames_rise(pages["host"], f'.conf-tile[data-site-id="{w.a_id}"]')
    frames_rise(a, "#host-video")
    wait_media(room, {w.a_id: "connected"})


def test_a_second_tab_of_the_same_site_is_warned(room: Room) -> None:
    from playwright.sync_api import expect

    w = room.world
    second = pages["a"].context.new_page()
    second.goto(f"/sessions/{w.session_id}/conference/site/{w.a_id}")
    expect(second.get_by_test_id("second-tab")).to_be_visible()
    expect(second.get_by_test_id("second-tab")).to_contain_text("đang mở ở một thẻ hoặc cửa sổ khác")
    second.close()


def test_missing_or_refused_devices_get_guidance_in_vietnamese(room: Room) -> None:
    """No camera on this computer and the microphone refused: the check names both, and the
    site can still join with what it has."""
    from playwright.sync_api import expect

    w = room.world
    page = room.page("coord_b", "/", name="b-no-devices")
    page.add_init_script("""
      navigator.mediaDevices.getUserMedia = async (c) => {
        throw new DOMException("", c.video ? "NotFoundError" : "NotAllowedError");
      };""")
    page.goto(f"/sessions/{w.session_id}/conference/site/{w.b_id}")
    guidance = page.get_by_test_id("guidance")
    expect(guidance.locator('[data-problem="video-missing"]')).to_contain_text(
        "Không tìm thấy camera")
    expect(guidance.locator('[data-problem="audio-denied"]')).to_contain_text(
        "Trình duyệt chưa được phép dùng micrô")
    expect(page.get_by_test_id("join")).to_be_enabled()
    save(page, "site-b-no-devices")
    page.context.close()


def test_a_coordinator_of_a_joins_neither_as_b_nor_as_host(room: Room) -> None:
    w = room.world
    token = w.coord_token
    as_b = api(room, "POST", "/conference/join", token, json={"site_id": w.b_id, "role": "site"})
    assert as_b.status_code == 403, as_b.text
    as_host = api(room, "POST", "/conference/join", token, json={"role": "host"})
    assert as_host.status_code == 403, as_host.text
    page = room.page("coord_a", "/", name="coord-a-elsewhere")
    assert page.goto(f"/sessions/{w.session_id}/conference/site/{w.b_id}").status == 403
    assert page.goto(f"/sessions/{w.session_id}/conference/host").status == 403
    page.context.close()


def test_closing_a_site_page_makes_it_lost(room: Room, watcher: Watcher) -> None:
    from playwright.sync_api import expect

    w = room.world
    pages.pop("b").context.close()
    wait_media(room, {w.b_id: "lost"})
    wait_until(lambda: watcher.saw(w.b_id, "lost"), 15, "conference_status lost for B")
    expect(pages["host"].locator(f'.conf-tile[data-site-id="{w.b_id}"]')).to_have_attribute(
        "data-media", "lost")
    assert media(room).get(w.a_id) == "connected"


def test_with_janus_stopped_the_pages_and_the_api_say_so(room: Room) -> None:
    from playwright.sync_api import expect

    w = room.world
    room.signal_janus(signal.SIGSTOP)
    try:
        for name in ("host", "a"):
            # "reconnecting" when the page notices, "unavailable" while trainer cannot reach it
            status = pages[name].get_by_test_id("conn-status")
            expect(status).to_have_attribute(
                "data-state", re.compile("^(reconnecting|unavailable)$"), timeout=2 * UP_MS)
            expect(status).to_contain_text(re.compile("Mất kết nối|Máy chủ video"))
        save(pages["a"], "site-a-janus-down")
        wait_media(room, {w.a_id: "lost"})
        refused = api(room, "POST", "/conference/join", w.coord_token,
                      json={"site_id": w.a_id, "role": "site"})
        assert refused.status_code == 503, refused.text
        assert refused.headers["Content-Type"].startswith("application/problem+json")
    finally:
        room.signal_janus(signal.SIGCONT)
    # Janus answers again: the pages join again by themselves.
    for name in ("host", "a"):
        expect(pages[name].get_by_test_id("conn-status")).to_have_attribute(
            "data-state", "live", timeout=3 * UP_MS)
    wait_media(room, {w.a_id: "connected"})


def test_after_janus_restarts_the_pages_join_again(room: Room) -> None:
    from playwright.sync_api import expect

    w = room.world
    before = room.janus_pid()
    room.signal_janus(signal.SIGTERM)  # trainer starts its child Janus again
    wait_until(lambda: room.janus_pid() not in (None, before), 60, "a new Janus")
    for name in ("host", "a"):
        expect(pages[name].get_by_test_id("conn-status")).to_have_attribute(
            "data-state", "live", timeout=3 * UP_MS)
    frames_rise(pages["host"], f'.conf-tile[data-site-id="{w.a_id}"]')
    wait_media(room, {w.a_id: "connected"})
