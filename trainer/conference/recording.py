"""Recording the video room, the host's choice: the host and the site holding the floor.

Janus records: trainer sends VideoRoom `configure` {record, filename, secret} on the
publisher's own handle (rooms are created with `lock_record`, so only a request with the room's
secret, which only trainer knows, starts or stops a recording; no page can). Each recorded
stretch of one publisher is a `ConferenceRecording`: started when the host presses Record (for
the host and the floor), when the floor moves to a site while recording, or when the host or
the floor site joins again; ended by Stop, a floor change, or the session's end (the health
watch stops the recording of a session that has ended).

A stretch that ended is converted (`trainer.conference.convert`, in a background task) and
attached to the session as materials; its state is recording -> converting -> attached, or
failed with a reason (the raw files are then kept). Pushed to the session's watchers as
`conference_recording`.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from flask_babel import gettext
from sqlalchemy import select

from trainer import live
from trainer.auth.models import User
from trainer.auth.services import require_staff
from trainer.checkin.services import get_session, iso, require_session_viewer
from trainer.conference import convert, services
from trainer.conference.janus import JanusClient, JanusError, JanusUnavailable
from trainer.conference.models import ConferenceHandle, ConferenceRecording, ConferenceRoom
from trainer.conference.runtime import runtime
from trainer.dbtypes import utcnow
from trainer.errors import Conflict, Unavailable
from trainer.extensions import db, socketio
from trainer.sessions.models import SessionStatus, TrainingSession

log = logging.getLogger(__name__)

TOKEN_S = 600  # trainer's own token for the configure requests it sends


def recordings_dir() -> Path | None:
    return runtime().recordings_dir


def _unavailable() -> Unavailable:
    return Unavailable(gettext("The video server is not answering; try again in a moment."),
                       reason="video-unavailable")


def _token(client: JanusClient, session_id: int) -> str:
    token = services.make_token(session_id, None, utcnow() + timedelta(seconds=TOKEN_S))
    client.add_token(token)
    return token


# --------------------------------------------------------------------------- reading

REASONS = {
    "tool-missing": lambda: gettext(
        "janus-pp-rec is not installed (apt-get install janus-tools), so the recording could "
        "not be converted; the raw files are kept."),
    "no-media": lambda: gettext("Nothing was recorded: no picture or sound arrived."),
    "conversion-failed": lambda: gettext(
        "The recording could not be converted; the raw files are kept."),
    "attach-failed": lambda: gettext(
        "The converted recording could not be added to the materials; the files are kept."),
    "video-unavailable": lambda: gettext(
        "The video server did not answer: this part was not recorded."),
}


def reason_text(error: str | None) -> str | None:
    if not error:
        return None
    code, _, detail = error.partition(": ")
    text = REASONS[code]() if code in REASONS else code
    return f"{text} ({detail})" if detail else text


def _part_body(part: ConferenceRecording) -> dict[str, Any]:
    return {"id": part.id, "site_id": part.site_id, "state": part.state,
            "started_at": iso(part.started_at), "stopped_at": iso(part.stopped_at),
            "error": reason_text(part.error),
            "material_ids": [m for m in (part.video_material_id, part.audio_material_id) if m],
            "video_material_id": part.video_material_id,
            "audio_material_id": part.audio_material_id}


def state_body(session_id: int) -> dict[str, Any]:
    room = db.session.get(ConferenceRoom, session_id)
    parts = db.session.scalars(select(ConferenceRecording)
                               .where(ConferenceRecording.session_id == session_id)
                               .order_by(ConferenceRecording.id))
    since = room.recording_since if room is not None else None
    return {"session_id": session_id, "recording": since is not None, "since": iso(since),
            "possible": recordings_dir() is not None and services.janus_available(),
            "converter": convert.tool_path() is not None,
            "parts": [_part_body(p) for p in parts]}


def recording_state(actor: User | None, session_id: int) -> dict[str, Any]:
    """GET .../conference/recording (organisers; coordinators of the session's sites)."""
    require_session_viewer(actor, session_id)
    get_session(session_id)
    return state_body(session_id)


def is_recording(session_id: int) -> bool:
    room = db.session.get(ConferenceRoom, session_id)
    return room is not None and room.recording_since is not None


def _push(session_id: int) -> None:
    room = db.session.get(ConferenceRoom, session_id)
    since = room.recording_since if room is not None else None
    live.emit(session_id, "conference_recording", {
        "session_id": session_id, "recording": since is not None, "since": iso(since)})


# --------------------------------------------------------------------------- stretches


def _publisher_handle(session_id: int, site_id: int | None) -> ConferenceHandle | None:
    """The newest publishing handle of the host (None) or a site in this session."""
    site = (ConferenceHandle.site_id.is_(None) if site_id is None
            else ConferenceHandle.site_id == site_id)
    return db.session.scalar(select(ConferenceHandle).where(
        ConferenceHandle.session_id == session_id, ConferenceHandle.publisher.is_(True), site)
        .order_by(ConferenceHandle.created_at.desc()).limit(1))


def _open(client: JanusClient, token: str, room: ConferenceRoom, site_id: int | None,
          handle: ConferenceHandle | None, actor_id: int | None, now: datetime) -> None:
    """Start recording one publisher (nothing when it is not on the call: it starts when the
    publisher joins)."""
    if handle is None:
        return
    part = ConferenceRecording(
        session_id=room.session_id, site_id=site_id, janus_session_id=handle.janus_session_id,
        janus_handle_id=handle.handle_id, state="recording", started_at=now,
        started_by_id=actor_id, basename=f"s{room.session_id}-{secrets.token_hex(8)}")
    try:
        client.record(handle.janus_session_id, handle.handle_id, room_secret=room.secret,
                      on=True, filename=part.basename, token=token)
    except JanusUnavailable:
        raise
    except JanusError as exc:  # the handle is gone: the publisher left meanwhile
        log.info("could not record %s of session %s: %s", services.display(site_id),
                 room.session_id, exc)
        return
    db.session.add(part)


def _close(client: JanusClient | None, token: str | None, room: ConferenceRoom,
           parts: list[ConferenceRecording], now: datetime) -> None:
    for part in parts:
        if (client is not None and token is not None and part.janus_session_id is not None
                and part.janus_handle_id is not None):
            try:
                client.record(part.janus_session_id, part.janus_handle_id,
                              room_secret=room.secret, on=False, filename=None, token=token)
            except JanusError as exc:  # gone, or Janus down: the recorder is closed anyway
                log.info("stopping recording %s: %s", part.basename, exc)
        part.state = "converting"
        part.stopped_at = now


def _open_parts(session_id: int, site_id: Any = ...) -> list[ConferenceRecording]:
    query = select(ConferenceRecording).where(ConferenceRecording.session_id == session_id,
                                              ConferenceRecording.state == "recording")
    if site_id is not ...:
        query = query.where(ConferenceRecording.site_id.is_(None) if site_id is None
                            else ConferenceRecording.site_id == site_id)
    return list(db.session.scalars(query))


# --------------------------------------------------------------------------- commands


def start(actor: User | None, session_id: int) -> dict[str, Any]:
    """Record the host and the site holding the floor, from now on (organisers)."""
    user = require_staff(actor)
    session = services.builtin_session(session_id)
    folder = recordings_dir()
    client = services.janus_client()
    if folder is None:
        raise Unavailable(gettext(
            "Recording needs a folder that the video server writes and trainer reads: set "
            "JANUS_RECORDINGS_DIR."), reason="recording-unavailable")
    now = utcnow()
    try:
        room = services.ensure_room(client, session)
        if room.recording_since is not None:
            db.session.commit()
            return state_body(session_id)
        client.lock_recording(room.janus_room, room.secret, str(folder))
        token = _token(client, session_id)
        room.recording_since = now
        targets: list[int | None] = [None]
        if room.floor_site_id is not None:
            targets.append(room.floor_site_id)
        for site_id in targets:
            _open(client, token, room, site_id, _publisher_handle(session_id, site_id),
                  user.id, now)
    except JanusError as exc:
        db.session.rollback()
        log.warning("could not start recording session %s: %s", session_id, exc)
        raise _unavailable() from exc
    db.session.commit()
    _push(session_id)
    return state_body(session_id)


def stop(actor: User | None, session_id: int) -> dict[str, Any]:
    """Stop recording; what was recorded is converted and attached (organisers)."""
    require_staff(actor)
    get_session(session_id)
    room = db.session.get(ConferenceRoom, session_id)
    if room is None or room.recording_since is None:
        raise Conflict(gettext("The room is not being recorded."), reason="not-recording")
    _stop(room)
    return state_body(session_id)


def _stop(room: ConferenceRoom) -> None:
    client = runtime().client
    token = None
    if client is not None:
        try:
            token = _token(client, room.session_id)
        except JanusError as exc:
            log.warning("stopping the recording of session %s without Janus: %s",
                        room.session_id, exc)
    _close(client, token, room, _open_parts(room.session_id), utcnow())
    room.recording_since = None
    db.session.commit()
    _push(room.session_id)
    schedule_conversion()


def set_recording(actor: User | None, session_id: int, on: bool) -> dict[str, Any]:
    return start(actor, session_id) if on else stop(actor, session_id)


def floor_changed(session_id: int, old: int | None, new: int | None, actor_id: int | None,
                  ) -> None:
    """While recording, the floor's recording follows the floor (after set_floor's commit).
    Janus not answering: logged; the floor itself has moved already."""
    room = db.session.get(ConferenceRoom, session_id)
    if room is None or room.recording_since is None or old == new:
        return
    client = runtime().client
    now = utcnow()
    try:
        token = _token(client, session_id) if client is not None else None
        if old is not None:
            _close(client, token, room, _open_parts(session_id, old), now)
        if new is not None and client is not None and token is not None:
            _open(client, token, room, new, _publisher_handle(session_id, new), actor_id, now)
    except JanusError as exc:
        log.warning("the recording could not follow the floor of session %s: %s",
                    session_id, exc)
    db.session.commit()
    if old is not None:
        schedule_conversion()


def publisher_joined(session_id: int, site_id: int | None, handle_id: int) -> None:
    """The host or the floor site (re)joined while recording: record its new connection."""
    room = db.session.get(ConferenceRoom, session_id)
    if room is None or room.recording_since is None:
        return
    if site_id is not None and site_id != room.floor_site_id:
        return
    handle = db.session.get(ConferenceHandle, handle_id)
    client = runtime().client
    if handle is None or client is None:
        return
    parts = _open_parts(session_id, site_id)
    if any(p.janus_handle_id == handle_id for p in parts):
        return  # this connection is being recorded already
    earlier = parts
    now = utcnow()
    try:
        token = _token(client, session_id)
        _close(client, token, room, earlier, now)
        first = db.session.scalar(select(ConferenceRecording.started_by_id).where(
            ConferenceRecording.session_id == session_id)
            .order_by(ConferenceRecording.id.desc()).limit(1))
        _open(client, token, room, site_id, handle, first, now)
    except JanusError as exc:
        log.warning("could not record the new connection of %s: %s",
                    services.display(site_id), exc)
    db.session.commit()
    if earlier:
        schedule_conversion()


def stop_ended() -> int:
    """The recordings of sessions that have ended are stopped (the health watch calls this)."""
    rooms = list(db.session.scalars(
        select(ConferenceRoom).join(TrainingSession,
                                    TrainingSession.id == ConferenceRoom.session_id)
        .where(ConferenceRoom.recording_since.is_not(None),
               TrainingSession.status == SessionStatus.ENDED)))
    for room in rooms:
        log.info("session %s ended: its recording stops", room.session_id)
        _stop(room)
    return len(rooms)


# --------------------------------------------------------------------------- conversion


def schedule_conversion() -> None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    socketio.start_background_task(convert_pending, app)


def convert_pending(app: Flask) -> None:
    """Convert and attach every stretch waiting for it; one runner per process at a time."""
    state = runtime(app)
    state.convert_wanted = True
    if not state.convert_lock.acquire(blocking=False):
        return
    try:
        while state.convert_wanted:
            state.convert_wanted = False
            with app.app_context():
                try:
                    from trainer.conference.attach import convert_all

                    convert_all()
                except Exception:  # noqa: BLE001 - a background job must not die silently
                    log.exception("converting recordings failed")
                finally:
                    db.session.remove()
    finally:
        state.convert_lock.release()
