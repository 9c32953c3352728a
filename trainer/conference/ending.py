"""The end of a session ends its video call, for everyone at once.

When a builtin session's status becomes "ended" (trainer.sessions.signals), the recording
stops (and is converted and attached), every site still on the call is taken off it with its
minutes connected closed at that moment and no drop counted (the session report would
otherwise count the hours a room computer stayed on after the end), and the room is destroyed
at Janus: every page in it is told at once, and joining again is refused (409
session-ended). The pages say the session has ended. If Janus does not answer at that moment,
the health watch destroys the room when it answers again (`end_ended_calls`).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from trainer.conference import recording, rules, services
from trainer.conference.janus import JanusClient, JanusError
from trainer.conference.models import ConferenceRoom, ConferenceSite
from trainer.conference.runtime import runtime
from trainer.dbtypes import utcnow
from trainer.extensions import db
from trainer.sessions.models import SessionStatus, TrainingSession

log = logging.getLogger(__name__)

RETRY_WITHIN = timedelta(hours=12)  # the watch retries rooms of sessions ended this recently


def on_status_changed(_app: Flask, *, session_id: int, new: SessionStatus, **_: Any) -> None:
    if new == SessionStatus.ENDED:
        end_call(session_id)


def end_call(session_id: int) -> None:
    """Stop the recording, take the sites off the call, destroy the room at Janus."""
    room = db.session.get(ConferenceRoom, session_id)
    if room is None:
        return  # never a builtin call
    if room.recording_since is not None:
        recording._stop(room)  # noqa: SLF001 - the feature's own command
    now = utcnow()
    rows = db.session.scalars(select(ConferenceSite)
                              .where(ConferenceSite.session_id == session_id))
    changed = [row for row in rows if rules.call_ended(row, now)]
    db.session.commit()
    for row in changed:
        services.push_status(row)
    client = runtime().client
    if client is not None:
        _destroy(client, room)


def _destroy(client: JanusClient, room: ConferenceRoom) -> bool:
    try:
        if client.room_exists(room.janus_room):
            client.destroy_room(room.janus_room, room.secret)
            log.info("session %s ended: its video room is closed", room.session_id)
    except JanusError as exc:
        log.warning("session %s ended but its video room could not be closed yet: %s",
                    room.session_id, exc)
        return False
    return True


def end_ended_calls(client: JanusClient) -> int:
    """Rooms of sessions ended in the last RETRY_WITHIN that Janus still has (it did not
    answer at the end): destroyed now. Answers how many were looked at."""
    rooms = list(db.session.scalars(
        select(ConferenceRoom).join(TrainingSession,
                                    TrainingSession.id == ConferenceRoom.session_id)
        .where(TrainingSession.status == SessionStatus.ENDED,
               TrainingSession.updated_at >= utcnow() - RETRY_WITHIN)))
    for room in rooms:
        _destroy(client, room)
    return len(rooms)
