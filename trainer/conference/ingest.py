"""Janus's events (its sample event handler posts them to trainer) -> each site's media status.

What counts, per event type of Janus: 2 a handle attached (with the token trainer issued,
which names the session and the site) or detached; 64 a VideoRoom participant joined, left or
unpublished; 16 the PeerConnection is up (webrtcup) or hung up; 32 Janus receives a stream or
no longer does (after `no_media_timer`), or the link is slow; 1 a Janus session ended. Only a
site's publishing handle changes its status; events about other handles, unknown sessions or
rooms are ignored (and logged when they claim to be ours). A participant who joins the room
under another publisher id than its token's is kicked at once: a token for one site cannot
publish as another.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Flask, current_app
from sqlalchemy import delete, select

from trainer.conference import recording, rules, services
from trainer.conference.janus import VIDEOROOM, JanusError
from trainer.conference.models import ConferenceHandle, ConferenceRoom, ConferenceSite
from trainer.conference.runtime import runtime
from trainer.dbtypes import utcnow
from trainer.extensions import db, socketio
from trainer.sessions.models import SessionSite, TrainingSession

log = logging.getLogger(__name__)

SESSION_ENDED = ("destroyed", "timeout")
GONE_EVENTS = ("leaving", "unpublished")


def _int(value: Any) -> int | None:
    """A Janus id (session, handle, room, publisher): a positive 64-bit integer, else None."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63:
        return value
    return None


@dataclass
class Batch:
    now: datetime
    sites: dict[tuple[int, int], ConferenceSite] = field(default_factory=dict)
    kicks: list[tuple[int, str, int]] = field(default_factory=list)
    joined: list[tuple[int, int | None, int]] = field(default_factory=list)  # to record
    ignored: int = 0

    def site(self, session_id: int, site_id: int) -> ConferenceSite:
        key = (session_id, site_id)
        row = self.sites.get(key) or db.session.scalar(select(ConferenceSite).where(
            ConferenceSite.session_id == session_id, ConferenceSite.site_id == site_id))
        if row is None:
            row = rules.new_site(session_id, site_id)
            db.session.add(row)
        self.sites[key] = row
        return row

    def publisher_site(self, handle_id: int | None) -> ConferenceSite | None:
        """The site whose publishing handle this is, or None."""
        if handle_id is None:
            return None
        h = db.session.get(ConferenceHandle, handle_id)
        if h is None or not h.publisher or h.site_id is None:
            return None
        row = self.site(h.session_id, h.site_id)
        return row if row.janus_handle_id == handle_id else None


def ingest(payload: Any) -> Batch:
    """Apply one POST of Janus's event handler (an event or a list of them)."""
    batch = Batch(now=utcnow())
    for event in payload if isinstance(payload, list) else [payload]:
        if not isinstance(event, dict) or not isinstance(event.get("event"), dict):
            batch.ignored += 1
            continue
        kind = event.get("type")
        handler = HANDLERS.get(kind) if isinstance(kind, int) else None
        if handler is None or not handler(batch, event, event["event"]):
            batch.ignored += 1
    changed: list[ConferenceSite] = []
    again: list[tuple[ConferenceSite, datetime]] = []
    for row in batch.sites.values():
        did, when = rules.settle(row, batch.now)
        if did:
            changed.append(row)
        if when is not None:
            again.append((row, when))
    db.session.commit()
    for row in changed:
        services.push_status(row)
    for row, when in again:
        schedule_settle(row.session_id, row.site_id, (when - batch.now).total_seconds())
    _kick(batch.kicks)
    for session_id, site_id, handle_id in batch.joined:
        recording.publisher_joined(session_id, site_id, handle_id)
    return batch


# --------------------------------------------------------------------------- per type


def _handle(batch: Batch, event: dict[str, Any], body: dict[str, Any]) -> bool:
    handle_id, janus_session = _int(event.get("handle_id")), _int(event.get("session_id"))
    if handle_id is None:
        return False
    if body.get("name") == "attached":
        parsed = services.parse_token(body.get("token"))
        if body.get("plugin") != VIDEOROOM or parsed is None or janus_session is None:
            return False
        session_id, site_id, _expires = parsed
        if db.session.get(TrainingSession, session_id) is None:
            log.info("Janus handle %s: a token of unknown session %s; ignored",
                     handle_id, session_id)
            return False
        db.session.merge(ConferenceHandle(handle_id=handle_id, janus_session_id=janus_session,
                                          session_id=session_id, site_id=site_id,
                                          publisher=False, created_at=batch.now))
        return True
    if body.get("name") == "detached":
        row = batch.publisher_site(handle_id)
        if row is not None:
            rules.gone(row, batch.now)
        db.session.execute(delete(ConferenceHandle).where(
            ConferenceHandle.handle_id == handle_id))
        return row is not None
    return False


def _session(batch: Batch, event: dict[str, Any], body: dict[str, Any]) -> bool:
    janus_session = _int(event.get("session_id"))
    if janus_session is None or body.get("name") not in SESSION_ENDED:
        return False
    handles = list(db.session.scalars(select(ConferenceHandle.handle_id).where(
        ConferenceHandle.janus_session_id == janus_session)))
    used = False
    for handle_id in handles:
        row = batch.publisher_site(handle_id)
        if row is not None:
            rules.gone(row, batch.now)
            used = True
    db.session.execute(delete(ConferenceHandle).where(
        ConferenceHandle.janus_session_id == janus_session))
    return used


def _plugin(batch: Batch, event: dict[str, Any], body: dict[str, Any]) -> bool:
    data = body.get("data")
    handle_id = _int(event.get("handle_id"))
    if body.get("plugin") != VIDEOROOM or not isinstance(data, dict) or handle_id is None:
        return False
    what = data.get("event")
    if what == "joined":
        return _joined(batch, handle_id, _int(event.get("session_id")), data)
    if what in GONE_EVENTS:
        row = batch.publisher_site(handle_id)
        if row is not None:
            rules.gone(row, batch.now)
        return row is not None
    return False


def _joined(batch: Batch, handle_id: int, janus_session: int | None,
            data: dict[str, Any]) -> bool:
    h = db.session.get(ConferenceHandle, handle_id)
    room_id, pub_id = _int(data.get("room")), _int(data.get("id"))
    if h is None:
        log.info("Janus: a participant joined room %s from a handle trainer does not know; "
                 "ignored", room_id)
        return False
    room = db.session.get(ConferenceRoom, h.session_id)
    if room is None or room.janus_room != room_id or pub_id != services.publisher_id(h.site_id):
        log.warning("Janus: a token of session %s, %s joined room %s as publisher %s: kicked",
                    h.session_id, services.display(h.site_id), room_id, pub_id)
        if room_id is not None and pub_id is not None:
            secret = db.session.scalar(select(ConferenceRoom.secret).where(
                ConferenceRoom.janus_room == room_id))
            if secret is not None:
                batch.kicks.append((room_id, secret, pub_id))
        return True
    h.publisher = True
    batch.joined.append((h.session_id, h.site_id, handle_id))
    if h.site_id is None:
        return True  # the host: its media is not a site's status
    takes_part = db.session.get(SessionSite, (h.session_id, h.site_id))
    if takes_part is None:
        return False
    row = batch.site(h.session_id, h.site_id)
    if row.janus_handle_id != handle_id:
        rules.gone(row, batch.now)  # a new connection of the site replaces the old one
    row.janus_handle_id, row.janus_session_id = handle_id, janus_session
    row.last_seen = batch.now
    return True


def _webrtc(batch: Batch, event: dict[str, Any], body: dict[str, Any]) -> bool:
    row = batch.publisher_site(_int(event.get("handle_id")))
    if row is None:
        return False
    if body.get("connection") == "webrtcup":
        rules.webrtc_up(row, batch.now)
    elif body.get("connection") == "hangup" or body.get("ice") == "failed":
        rules.gone(row, batch.now)
    return True


def _media(batch: Batch, event: dict[str, Any], body: dict[str, Any]) -> bool:
    row = batch.publisher_site(_int(event.get("handle_id")))
    if row is None:
        return False
    if "receiving" in body:
        rules.stream(row, str(body.get("media")), bool(body["receiving"]), batch.now)
    if body.get("slow_link"):
        rules.slow_link(row, batch.now)
    return True


HANDLERS = {1: _session, 2: _handle, 16: _webrtc, 32: _media, 64: _plugin}


# --------------------------------------------------------------------------- after the commit


def _kick(kicks: list[tuple[int, str, int]]) -> None:
    client = runtime().client
    for room_id, secret, pub_id in kicks:
        if client is None:
            return
        try:
            client.kick(room_id, secret, pub_id)
        except JanusError as exc:
            log.warning("could not kick publisher %s from room %s: %s", pub_id, room_id, exc)


def schedule_settle(session_id: int, site_id: int, delay_s: float) -> None:
    """Settle a site's status again after `delay_s` (a grace or a slow-link mark ends)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    socketio.start_background_task(_settle_later, app, session_id, site_id, max(0.0, delay_s))


def _settle_later(app: Flask, session_id: int, site_id: int, delay_s: float) -> None:
    socketio.sleep(delay_s + 0.05)
    with app.app_context():
        try:
            row = db.session.scalar(select(ConferenceSite).where(
                ConferenceSite.session_id == session_id, ConferenceSite.site_id == site_id))
            if row is None:
                return
            now = utcnow()
            changed, when = rules.settle(row, now)
            db.session.commit()
            if changed:
                services.push_status(row)
            if when is not None:
                schedule_settle(session_id, site_id, (when - now).total_seconds())
        except Exception:  # noqa: BLE001 - a background settle must not die silently
            log.exception("settling the media status of site %s failed", site_id)
        finally:
            db.session.remove()
