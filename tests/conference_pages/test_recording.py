"""Recording the video room end to end: the host records a few seconds while site A holds the
floor, stops, and the session gets materials whose files are real media (Janus records,
janus-pp-rec converts, the materials services store). Janus, `trainer serve` and Chromium with
fake devices inside a network namespace (see conftest.py); the tests run in file order.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conference_pages.conftest import Room, save
from tests.conference_pages.test_video_room import api, join_call, wait_media
from tests.support_servers import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.processes]

pages: dict[str, Any] = {}
RECORDED_BYTES = 40_000  # a few seconds of the fake camera in VP8, and of its beeps in Opus


def recordings(room: Room) -> Path:
    return room.data_dir / "janus" / "recordings"


def raw_sizes(room: Room) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in recordings(room).glob("*.mjr*")}


def state(room: Room) -> dict[str, Any]:
    r = api(room, "GET", "/conference/recording")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_a_page_cannot_record_itself(room: Room) -> None:
    """Rooms are created with `lock_record`: a participant asking Janus to record its own
    stream (here: a valid token of site A, on A's publishing handle, without the room's
    secret, which only trainer knows) records nothing."""
    w = room.world
    sid = w.session_id
    pages["a"] = room.page("coord_a", f"/sessions/{sid}/conference/site/{w.a_id}", name="a")
    join_call(pages["a"])
    wait_media(room, {w.a_id: "connected"})
    with sqlite3.connect(room.data_dir / "trainer.db") as db:
        janus_session, handle = db.execute(
            "SELECT janus_session_id, janus_handle_id FROM conference_sites "
            "WHERE session_id = ? AND site_id = ?", (sid, w.a_id)).fetchone()
    join = api(room, "POST", "/conference/join", json={"site_id": w.a_id}).json()
    answer = requests.post(f"{join['server']}/{janus_session}/{handle}", timeout=10, json={
        "janus": "message", "token": join["token"], "transaction": secrets.token_hex(6),
        "body": {"request": "configure", "record": True, "filename": "by-the-page"}}).json()
    assert answer["janus"] == "ack"  # Janus took the request ...
    time.sleep(3)  # ... and, had it obeyed, would have written seconds of media by now
    assert not list(recordings(room).glob("by-the-page*"))
    assert state(room)["recording"] is False


def test_the_host_records_itself_and_the_floor(room: Room) -> None:
    from playwright.sync_api import expect

    w = room.world
    sid = w.session_id
    host = pages["host"] = room.page("organiser", f"/sessions/{sid}/conference/host",
                                     name="host")
    join_call(host)
    a = pages["a"]
    host.locator(f'.conf-tile[data-site-id="{w.a_id}"] [data-action="floor"]').click()
    expect(host.get_by_test_id("floor-state")).to_have_text("Huyện Cẩm Khê")
    expect(host.get_by_test_id("rec-indicator")).to_be_hidden()
    expect(a.get_by_test_id("rec-indicator")).to_be_hidden()

    record = host.get_by_test_id("record")
    expect(record).to_have_text("Ghi hình")
    record.click()
    # Every page of the call says so: the host's and the room computer's.
    expect(host.get_by_test_id("rec-indicator")).to_be_visible()
    expect(a.get_by_test_id("rec-indicator")).to_contain_text("Đang ghi hình")
    expect(record).to_have_text("Dừng ghi hình")
    body = state(room)
    assert body["recording"] is True
    assert sorted((p["site_id"] or 0, p["state"]) for p in body["parts"]) == [
        (0, "recording"), (w.a_id, "recording")]
    # Janus writes the host's and the floor's streams (audio and video each).
    wait_until(lambda: sum(1 for size in raw_sizes(room).values() if size > RECORDED_BYTES) >= 4,
               40, "four .mjr files with a few seconds of media")
    save(a, "recording-site-a")
    save(host, "recording-host")


def test_stopping_converts_and_attaches_the_recording_to_the_session(room: Room) -> None:
    from playwright.sync_api import expect

    w = room.world
    host, a = pages["host"], pages["a"]
    host.get_by_test_id("record").click()
    expect(host.get_by_test_id("rec-indicator")).to_be_hidden()
    expect(a.get_by_test_id("rec-indicator")).to_be_hidden()

    def attached() -> Any:
        parts = state(room)["parts"]
        return parts if parts and all(p["state"] == "attached" for p in parts) else None

    parts = wait_until(attached, 60, "both recordings attached")
    assert state(room)["recording"] is False
    ids = [m for p in parts for m in p["material_ids"]]
    assert len(parts) == 2 and len(ids) >= 2  # one WebM each, or a WebM and an Opus each

    kinds = []
    for material_id in ids:
        meta = host.request.get(f"/api/v1/materials/{material_id}").json()
        assert meta["session_id"] == w.session_id
        assert meta["topic"] == "recordings" and meta["visibility"] == "staff"
        assert meta["title"].startswith("Ghi hình ")
        got = host.request.get(f"/materials/{material_id}/file")
        assert got.ok
        data = got.body()
        assert len(data) == meta["size"] > 10_000
        if meta["content_type"] == "video/webm":
            assert data[:4] == b"\x1a\x45\xdf\xa3" and b"webm" in data[:64]
            assert b"V_VP8" in data[:4096]  # the Matroska codec id of the picture
        else:
            assert meta["content_type"] == "audio/ogg"
            assert data[:4] == b"OggS" and b"OpusHead" in data[:64]
        kinds.append(meta["content_type"])
        # Downloaded like any material: counted.
        assert host.request.get(f"/api/v1/materials/{material_id}/downloads").json()[
            "total"] == 1
    assert "video/webm" in kinds
    # The host's list names each stretch with its state and links its materials.
    expect(host.get_by_test_id("rec-part")).to_have_count(2)
    expect(host.get_by_test_id("rec-part").first).to_contain_text("đã đưa vào tài liệu")
    expect(host.get_by_test_id("rec-video")).to_have_count(2)  # "▶ Xem" opens the material
    # The raw files are gone once the recording is attached.
    assert not list(recordings(room).glob("*.mjr"))
    save(host, "recording-attached")


def test_ending_the_session_closes_the_room_for_everyone(room: Room) -> None:
    """The organiser ends the session (the last test of this module: the room stays
    closed): the room computer and the control room say so and stop; Janus no longer has
    the room; a reload cannot join again."""
    from playwright.sync_api import expect

    w = room.world
    host, a = pages["host"], pages["a"]
    expect(a.locator("#conn-status")).to_have_attribute("data-state", "live")
    r = api(room, "POST", "/status", json={"status": "ended"})
    assert r.status_code == 200, r.text
    ended = "Buổi tập huấn đã kết thúc"
    for page in (a, host):
        expect(page.locator("#conn-status")).to_have_attribute("data-state", "ended")
        expect(page.locator("#conn-status")).to_contain_text(ended)
    expect(a.locator("#host-waiting")).to_contain_text(ended)  # on the big screen too
    wait_media(room, {w.a_id: "lost"})  # off the call
    save(a, "ended-site-a")
    a.reload()
    a.get_by_test_id("join").click()
    expect(a.locator("#conn-status")).to_have_attribute("data-state", "ended")
