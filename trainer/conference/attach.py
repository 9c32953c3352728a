"""Recorded stretches -> the session's materials: each one waiting ("converting") is converted
(by janus-pp-rec, and ffmpeg when present, in child processes: under gevent this background
greenlet waits for them cooperatively, so the loop keeps serving; gevent's child watchers do
not work from the thread pool of `trainer.offload`) and its files added through the materials
services (storage by content, copied and hashed on a native thread, type checked by content,
permissions and download counts as for any material; the upload size limit does not bound
what Janus recorded), under the topic "recordings", visible to staff. A failure keeps the raw
files and says why."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import select

from trainer.auth.models import User
from trainer.auth.services import require_staff
from trainer.conference import convert, recording
from trainer.conference.models import ConferenceRecording
from trainer.errors import Conflict, DomainError, TooMany
from trainer.extensions import db
from trainer.i18n import to_local
from trainer.materials import services as materials
from trainer.materials.models import Topic
from trainer.offload import one_at_a_time
from trainer.sessions.models import SessionSite, TrainingSession

log = logging.getLogger(__name__)

TOPIC = "recordings"
KIND_WORDS = {"av": "", "video": " (hình)", "audio": " (tiếng)", "slides": " (trình chiếu)"}
KIND_FILES = {"av": "", "video": "-hinh", "audio": "-tieng", "slides": "-trinh-chieu"}


def convert_all() -> int:
    """Convert and attach every stretch waiting; answers how many were attached."""
    attached = 0
    ids = list(db.session.scalars(select(ConferenceRecording.id).where(
        ConferenceRecording.state == "converting").order_by(ConferenceRecording.id)))
    db.session.commit()
    for part_id in ids:
        try:
            with one_at_a_time(f"conference-recording-{part_id}"):
                attached += _one(part_id)
        except TooMany:
            continue  # another process converts it
    return attached


def _fail(part: ConferenceRecording, code: str, detail: str = "") -> int:
    part.state = "failed"
    part.error = (f"{code}: {detail}" if detail else code)[:1000]
    db.session.commit()
    log.warning("recording %s of session %s: %s", part.basename, part.session_id, part.error)
    recording._push(part.session_id)  # noqa: SLF001 - the feature's own push
    return 0


def _one(part_id: int) -> int:
    part = db.session.get(ConferenceRecording, part_id)
    if part is None:
        return 0
    db.session.refresh(part)
    if part.state != "converting":
        return 0
    folder = recording.recordings_dir()
    if folder is None:
        return _fail(part, "conversion-failed", "no recordings folder")
    db.session.commit()  # no transaction held while the converter runs
    try:
        tracks = convert.convert(folder, part.basename)
    except convert.ConversionFailed as exc:
        return _fail(part, exc.code, exc.detail)
    try:
        videos = 0
        for track in tracks:
            # A host that shared its slides has a second picture (the stream added later)
            slides = track.kind == "video" and videos > 0
            material_id = _attach(part, track, slides=slides)
            if track.kind == "audio":
                part.audio_material_id = material_id
            elif not slides:
                part.video_material_id = material_id
            videos += track.kind == "video"
    except DomainError as exc:
        db.session.rollback()
        part = db.session.get(ConferenceRecording, part_id)
        assert part is not None
        return _fail(part, "attach-failed", str(exc.detail or exc))
    part.state = "attached"
    part.error = None
    db.session.commit()
    convert.remove_files(folder, part.basename)
    recording._push(part.session_id)  # noqa: SLF001
    return 1


def _topic() -> str:
    if db.session.get(Topic, TOPIC) is None:
        try:
            materials.create_topic(None, name_vi="Ghi hình buổi tập huấn",
                                   name_en="Session recordings", key=TOPIC)
        except Conflict:
            db.session.rollback()  # made meanwhile by another process
    return TOPIC


def _who(session: TrainingSession | None, site_id: int | None) -> str:
    if site_id is None:
        host = session.host_site if session is not None else None
        return f"điểm cầu chính {host.name}" if host is not None else "điểm cầu chính"
    row = db.session.get(SessionSite, (session.id, site_id)) if session is not None else None
    return row.site.name if row is not None else f"điểm cầu {site_id}"


def _actor(part: ConferenceRecording) -> User | None:
    user = db.session.get(User, part.started_by_id) if part.started_by_id else None
    try:
        return require_staff(user) if user is not None else None
    except DomainError:
        return None  # no longer an organiser: the material is the system's


def _attach(part: ConferenceRecording, track: convert.Track, *, slides: bool = False) -> int:
    session = db.session.get(TrainingSession, part.session_id)
    who = _who(session, part.site_id)
    start = to_local(part.started_at)
    end = to_local(part.stopped_at) if part.stopped_at else start
    kind = "slides" if slides else track.kind
    title = (f"Ghi hình {who}, {start:%d/%m/%Y %H:%M}–{end:%H:%M}"
             f"{KIND_WORDS[kind]}")
    filename = (f"ghi-hinh-{part.session_id}-{part.site_id or 'chinh'}-{start:%Y%m%d-%H%M%S}"
                f"{KIND_FILES[kind]}{Path(track.path).suffix}")
    with open(track.path, "rb") as stream:
        material = materials.create_file(
            _actor(part), stream, filename,
            {"title": title, "topic": _topic(), "language": "vi", "visibility": "staff",
             "session_id": part.session_id,
             "description": "Ghi hình tự động của phòng họp trực tuyến."},
            made_here=True)  # a day's recording passes the upload limit
    return int(material.id)
