"""Recording rules in one process: who records whom and when (Janus replaced by a recorder of
the requests trainer sends it), the API's answers and faults, and what a failed conversion
leaves (real janus-pp-rec on files it cannot read)."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from trainer.conference import attach, convert, recording
from trainer.conference.janus import JanusClient, JanusUnavailable
from trainer.conference.models import ConferenceHandle, ConferenceRecording, ConferenceRoom
from trainer.conference.process import JanusConfig
from trainer.conference.runtime import runtime
from trainer.extensions import db
from trainer.sessions.models import SessionStatus


class RecordingJanus(JanusClient):
    """A Janus that answers and keeps what it was asked to record (on/off per handle) or
    destroy; `rooms` None: it has every room; `down`: it answers nothing."""

    def __init__(self, rooms: set[int] | None = None) -> None:
        super().__init__("http://janus.invalid/janus", "http://janus.invalid/admin", "s")
        object.__setattr__(self, "calls", [])
        object.__setattr__(self, "down", False)
        object.__setattr__(self, "rooms", rooms)

    def _check(self) -> None:
        if self.down:  # type: ignore[attr-defined]
            raise JanusUnavailable("down")

    def room_exists(self, room: int) -> bool:
        self._check()
        return self.rooms is None or room in self.rooms  # type: ignore[attr-defined]

    def destroy_room(self, room: int, secret: str) -> None:
        self._check()
        self.calls.append(("destroy", room, secret))  # type: ignore[attr-defined]
        if self.rooms is not None:  # type: ignore[attr-defined]
            self.rooms.discard(room)  # type: ignore[attr-defined]

    def add_token(self, token: str, plugins: tuple[str, ...] = ()) -> None:
        self._check()

    def lock_recording(self, room: int, secret: str, rec_dir: str) -> None:
        self._check()
        self.calls.append(("lock", rec_dir))  # type: ignore[attr-defined]

    def record(self, janus_session: int, handle: int, *, room_secret: str, on: bool,
               filename: str | None, token: str) -> None:
        self._check()
        self.calls.append((handle, on, filename))  # type: ignore[attr-defined]


@pytest.fixture
def world(app: Any, make_site: Any, make_user: Any, make_session: Any, tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    janus = RecordingJanus()
    state = runtime(app)
    monkeypatch.setattr(state, "client", janus)
    monkeypatch.setattr(state, "recordings_dir", tmp_path)
    scheduled: list[int] = []
    monkeypatch.setattr(recording, "schedule_conversion", lambda: scheduled.append(1))
    host, a, b = make_site(kind="host"), make_site(), make_site()
    session = make_session([host, a, b], conference_provider="builtin")
    for handle, site in ((11, None), (12, a.id), (13, b.id)):
        db.session.add(ConferenceHandle(handle_id=handle, janus_session_id=100 + handle,
                                        session_id=session.id, site_id=site, publisher=True))
    db.session.commit()
    return SimpleNamespace(janus=janus, scheduled=scheduled, session=session, a=a, b=b,
                           folder=tmp_path, organiser=make_user("organiser"),
                           coord_a=make_user("coordinator", sites=[a]))


def url(session: Any) -> str:
    return f"/api/v1/sessions/{session.id}/conference/recording"


def parts(session_id: int) -> list[tuple[int | None, str]]:
    return [(p.site_id, p.state) for p in db.session.query(ConferenceRecording)
            .filter_by(session_id=session_id).order_by(ConferenceRecording.id)]


def test_the_host_and_the_floor_are_recorded_and_the_floor_is_followed(
        world: Any, api_as: Any) -> None:
    organiser = api_as(world.organiser)
    assert organiser.post(f"/api/v1/sessions/{world.session.id}/conference/floor",
                          json={"site_id": world.a.id}).status_code == 200
    r = organiser.post(url(world.session), json={"recording": True})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["recording"] is True and body["since"]
    assert [(p["site_id"], p["state"]) for p in body["parts"]] == [
        (None, "recording"), (world.a.id, "recording")]
    # The room's recordings go where trainer reads them; host (11) and A (12), never B (13).
    assert world.janus.calls[0] == ("lock", str(world.folder))
    assert [(h, on) for h, on, _ in world.janus.calls[1:]] == [(11, True), (12, True)]
    assert all(name and name.startswith(f"s{world.session.id}-")
               for _, _, name in world.janus.calls[1:])
    # The floor moves to B: A's recording stops (and is converted), B's starts.
    world.janus.calls.clear()
    organiser.post(f"/api/v1/sessions/{world.session.id}/conference/floor",
                   json={"site_id": world.b.id})
    assert [(h, on) for h, on, _ in world.janus.calls] == [(12, False), (13, True)]
    assert parts(world.session.id) == [(None, "recording"), (world.a.id, "converting"),
                                       (world.b.id, "recording")]
    assert world.scheduled
    # Pressing Record again changes nothing; Stop ends every stretch.
    assert organiser.post(url(world.session), json={"recording": True}).status_code == 200
    assert len(parts(world.session.id)) == 3
    body = organiser.post(url(world.session), json={"recording": False}).get_json()
    assert body["recording"] is False
    assert {p["state"] for p in body["parts"]} == {"converting"}
    assert organiser.get(f"/api/v1/sessions/{world.session.id}/conference").get_json()[
        "recording"] is False


def test_a_publisher_joining_again_is_recorded_on_its_new_connection(world: Any,
                                                                      api_as: Any) -> None:
    api_as(world.organiser).post(url(world.session), json={"recording": True})
    db.session.add(ConferenceHandle(handle_id=21, janus_session_id=121,
                                    session_id=world.session.id, site_id=None, publisher=True))
    db.session.commit()
    world.janus.calls.clear()
    recording.publisher_joined(world.session.id, None, 21)
    recording.publisher_joined(world.session.id, None, 21)  # the same join reported twice
    recording.publisher_joined(world.session.id, world.b.id, 13)  # not the floor: not recorded
    assert [(h, on) for h, on, _ in world.janus.calls] == [(11, False), (21, True)]
    assert parts(world.session.id) == [(None, "converting"), (None, "recording")]


def test_the_end_of_the_session_stops_the_recording(world: Any, api_as: Any) -> None:
    api_as(world.organiser).post(url(world.session), json={"recording": True})
    assert recording.stop_ended() == 0
    world.session.status = SessionStatus.ENDED
    db.session.commit()
    assert recording.stop_ended() == 1
    assert db.session.get(ConferenceRoom, world.session.id).recording_since is None
    assert parts(world.session.id) == [(None, "converting")]


def test_permissions_and_faults_say_what_happened(world: Any, api_as: Any,
                                                  make_session: Any) -> None:
    coord = api_as(world.coord_a, lang="en")
    assert coord.post(url(world.session), json={"recording": True}).status_code == 403
    assert coord.get(url(world.session)).status_code == 200  # its site sees it is recorded
    organiser = api_as(world.organiser, lang="en")
    r = organiser.post(url(world.session), json={"recording": False})
    assert r.status_code == 409 and "not being recorded" in r.get_json()["detail"]
    r = organiser.post(url(world.session), json={"recording": "yes please"})
    assert r.status_code == 422
    world.janus.down = True
    r = api_as(world.organiser, lang="vi").post(url(world.session), json={"recording": True})
    assert r.status_code == 503
    assert "không trả lời" in r.get_json()["detail"]
    assert parts(world.session.id) == []
    assert organiser.get(url(world.session)).get_json()["recording"] is False
    # The rest of the session is untouched: its state still answers.
    assert organiser.get(f"/api/v1/sessions/{world.session.id}/conference").status_code == 200


def test_without_a_recordings_folder_recording_is_refused(world: Any, api_as: Any,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          app: Any) -> None:
    monkeypatch.setattr(runtime(app), "recordings_dir", None)
    r = api_as(world.organiser, lang="en").post(url(world.session), json={"recording": True})
    assert r.status_code == 503 and "JANUS_RECORDINGS_DIR" in r.get_json()["detail"]
    assert api_as(world.organiser).get(url(world.session)).get_json()["possible"] is False


def _stopped_part(world: Any, basename: str) -> int:
    """A stretch of the host's recording, stopped and waiting to be converted."""
    from trainer.dbtypes import utcnow

    part = ConferenceRecording(session_id=world.session.id, site_id=None, basename=basename,
                               state="converting", started_at=utcnow(), stopped_at=utcnow(),
                               started_by_id=world.organiser.id)
    db.session.add(part)
    db.session.commit()
    return int(part.id)


@pytest.mark.skipif(shutil.which("janus-pp-rec") is None, reason="janus-tools not installed")
def test_a_conversion_failure_keeps_the_raw_files_and_says_so(world: Any, api_as: Any) -> None:
    raw = world.folder / "s1-bad-video-1.mjr"
    raw.write_bytes(b"MJR00002" + b"\x00" * 200)  # a header janus-pp-rec cannot read
    part_id = _stopped_part(world, "s1-bad")
    assert attach.convert_all() == 0
    part = db.session.get(ConferenceRecording, part_id)
    assert part.state == "failed" and part.error.startswith("conversion-failed")
    assert raw.exists()  # kept for another try by hand
    body = api_as(world.organiser, lang="en").get(url(world.session)).get_json()
    assert "raw files are kept" in body["parts"][0]["error"]
    assert body["parts"][0]["material_ids"] == []


def test_without_janus_pp_rec_the_recording_stays_raw(world: Any, api_as: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(world.folder))  # no janus-pp-rec to be found
    raw = world.folder / "s1-raw-audio-0.mjr"
    raw.write_bytes(b"MJR00002")
    part_id = _stopped_part(world, "s1-raw")
    assert attach.convert_all() == 0
    assert db.session.get(ConferenceRecording, part_id).error == "tool-missing"
    assert raw.exists()
    body = api_as(world.organiser, lang="vi").get(url(world.session)).get_json()
    assert body["converter"] is False
    assert "janus-tools" in body["parts"][0]["error"]  # in Vietnamese, naming the package
    assert "tệp gốc" in body["parts"][0]["error"]


def test_a_recording_larger_than_the_upload_limit_is_attached(
        world: Any, app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A day's recording is several GB: what Janus recorded is not bound by the limit that
    protects uploads (here 64 kB against a 300 kB recording)."""
    from trainer.materials.models import Material

    app.config["MATERIALS_MAX_BYTES"] = 64 * 1024
    webm = world.folder / "s1-long.webm"
    webm.write_bytes(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm"
                     + bytes(300 * 1024))
    size = webm.stat().st_size
    monkeypatch.setattr(convert, "convert", lambda folder, basename: [
        convert.Track("av", webm)] if basename == "s1-long" else [])
    part_id = _stopped_part(world, "s1-long")
    assert attach.convert_all() == 1
    part = db.session.get(ConferenceRecording, part_id)
    assert (part.state, part.error) == ("attached", None)
    material = db.session.get(Material, part.video_material_id)
    assert material.session_id == world.session.id
    assert material.version.size == size > app.config["MATERIALS_MAX_BYTES"]
    assert material.version.content_type == "video/webm"


def test_a_host_that_shared_slides_gets_its_picture_and_its_slides_attached(
        world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from trainer.materials.models import Material

    webm = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm"
    camera, slides = world.folder / "s1-talk-video-1.webm", world.folder / "s1-talk-video-2.webm"
    camera.write_bytes(webm + b"camera" * 2000)
    slides.write_bytes(webm + b"slides" * 2000)
    monkeypatch.setattr(convert, "convert", lambda folder, basename: [
        convert.Track("video", camera), convert.Track("video", slides)])
    part_id = _stopped_part(world, "s1-talk")
    assert attach.convert_all() == 1
    part = db.session.get(ConferenceRecording, part_id)
    titles = {m.id: m.title for m in db.session.query(Material)
              .filter_by(session_id=world.session.id)}
    assert len(titles) == 2
    assert titles[part.video_material_id].endswith("(hình)")  # the part links the picture
    (other,) = set(titles) - {part.video_material_id}
    assert titles[other].endswith("(trình chiếu)")


def test_a_stretch_without_files_recorded_nothing(world: Any) -> None:
    with pytest.raises(convert.ConversionFailed) as failed:
        convert.convert(world.folder, "s1-none")
    assert failed.value.code in ("no-media", "tool-missing")


def test_the_child_janus_may_record_into_a_data_folder_under_var(tmp_path: Path) -> None:
    config = JanusConfig(folder=Path("/var/lib/trainer/janus"), http_host="127.0.0.1",
                         events_url="http://127.0.0.1:1/x", http_port=1, admin_port=2)
    assert '"/var"' not in config.protected_folders()
    assert '"/etc"' in config.protected_folders()
    here = JanusConfig(folder=tmp_path / "janus", http_host="127.0.0.1",
                       events_url="http://127.0.0.1:1/x", http_port=1, admin_port=2)
    assert '"/var"' in here.files()["janus.jcfg"] or str(tmp_path).startswith("/var")
