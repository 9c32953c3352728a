"""The built-in conference: who may join a session's room, with what, and each site's media.

Permission rules live here (a coordinator joins only as one of its own sites; only organisers
and admins as the host), so the API and the pages cannot disagree. The room itself lives on
Janus; trainer keeps its id, pin and secret (`ConferenceRoom`) and creates it again when Janus
lost it (restarted). A browser gets, per join, a token that Janus accepts for the VideoRoom
plugin only and that names the session and the site, so that the events Janus sends back can
be attributed (see `trainer.conference.ingest`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, has_request_context, request
from flask_babel import gettext
from sqlalchemy import delete, select

from trainer import live
from trainer.auth.models import User
from trainer.auth.services import require_any, require_site, require_staff
from trainer.checkin.services import get_session, iso, require_session_viewer, session_site_ids
from trainer.conference import rules
from trainer.conference.janus import JanusClient, JanusError, JanusUnavailable
from trainer.conference.models import ConferenceHandle, ConferenceRoom, ConferenceSite
from trainer.conference.runtime import runtime
from trainer.dbtypes import utcnow
from trainer.errors import Conflict, Invalid, Unavailable
from trainer.extensions import db
from trainer.sessions.models import SessionStatus, TrainingSession

log = logging.getLogger(__name__)

BUILTIN, LINK = "builtin", "link"
HOST_PUBLISHER_ID = 2**31  # above every site id (INTEGER), so never a site's publisher id
TOKEN_PREFIX = "tr"  # noqa: S105 - marks the tokens trainer made, not a secret
TOKEN_MIN_S = 2 * 3600  # a join's token lasts until the session's end + 1 h, at least 2 h
TOKEN_MAX_S = 12 * 3600


def janus_available() -> bool:
    """A Janus server is configured (JANUS_URL) or `trainer serve` started one."""
    return runtime().client is not None


def janus_client() -> JanusClient:
    client = runtime().client
    if client is None:
        raise Unavailable(gettext(
            "The video server is not set up: install Janus (apt-get install janus) and "
            "restart trainer, or set JANUS_URL."), reason="video-unavailable")
    return client


def provider_of(session: TrainingSession) -> str | None:
    """builtin, link (a session with only a link, as before providers existed) or None."""
    return session.conference_provider or (LINK if session.conference_url else None)


def publisher_id(site_id: int | None) -> int:
    return HOST_PUBLISHER_ID if site_id is None else site_id


def display(site_id: int | None) -> str:
    """What Janus shows as the participant's name: plain ids (names stay in our database)."""
    return "host" if site_id is None else f"site-{site_id}"


# --------------------------------------------------------------------------- tokens


def _mac(body: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()[:32]


def make_token(session_id: int, site_id: int | None, expires_at: datetime) -> str:
    """`tr.<session>.<site or h>.<expiry>.<nonce>.<mac>`: Janus admits it because trainer
    added it; its MAC (SECRET_KEY) lets trainer trust what it names when Janus reports it."""
    who = "h" if site_id is None else str(site_id)
    body = (f"{TOKEN_PREFIX}.{session_id}.{who}.{int(expires_at.timestamp())}."
            f"{secrets.token_urlsafe(12)}")
    return f"{body}.{_mac(body)}"


def parse_token(token: Any, *, verify: bool = True) -> tuple[int, int | None, int] | None:
    """(session id, site id or None for the host, expiry as a Unix time) of a token trainer
    made (its MAC checked unless `verify` is False), or None for anything else."""
    if not isinstance(token, str):
        return None
    parts = token.split(".")
    if len(parts) != 6 or parts[0] != TOKEN_PREFIX:
        return None
    try:
        session_id, expires = int(parts[1]), int(parts[3])
        site_id = None if parts[2] == "h" else int(parts[2])
    except ValueError:
        return None
    if verify and not hmac.compare_digest(parts[5], _mac(token.rsplit(".", 1)[0])):
        return None
    return session_id, site_id, expires


def token_expiry(session: TrainingSession, now: datetime) -> datetime:
    wanted = (session.ends_at + timedelta(hours=1) - now).total_seconds()
    return now + timedelta(seconds=min(TOKEN_MAX_S, max(TOKEN_MIN_S, wanted)))


def sweep_tokens(client: JanusClient, now: datetime) -> int:
    """Remove the tokens trainer issued whose time is over; answers how many."""
    removed = 0
    for token in client.list_tokens():
        parsed = parse_token(token, verify=False)  # ours by its shape; expired, whoever made it
        if parsed is not None and parsed[2] <= now.timestamp():
            client.remove_token(token)
            removed += 1
    return removed


def prune_handles(now: datetime, older_than: timedelta = timedelta(days=1)) -> None:
    """Forget handles whose end Janus never reported (an event lost, Janus restarted)."""
    db.session.execute(delete(ConferenceHandle).where(
        ConferenceHandle.created_at < now - older_than))
    db.session.commit()


# --------------------------------------------------------------------------- rooms


def _room_row(session: TrainingSession) -> ConferenceRoom:
    room = db.session.get(ConferenceRoom, session.id)
    if room is None:
        room = ConferenceRoom(session_id=session.id, janus_room=secrets.randbelow(2**52) + 1,
                              pin=secrets.token_urlsafe(16), secret=secrets.token_urlsafe(24))
        db.session.add(room)
        db.session.flush()
    return room


def ensure_room(client: JanusClient, session: TrainingSession) -> ConferenceRoom:
    """The session's room, created on Janus when Janus does not have it (new, or restarted)."""
    room = _room_row(session)
    if not client.room_exists(room.janus_room):
        client.create_room(room.janus_room, pin=room.pin, secret=room.secret,
                           description=f"session-{session.id}",
                           publishers=len(session.session_sites) + 2,
                           rec_dir=str(folder) if (folder := runtime().recordings_dir) else None)
        log.info("created the Janus room of session %s", session.id)
    return room


# --------------------------------------------------------------------------- reading


def _site_body(site_id: int, row: ConferenceSite | None, now: datetime) -> dict[str, Any]:
    if row is None:
        return {"site_id": site_id, "media": "never", "video": False, "audio": False,
                "since": None, "last_seen": None, "connected_s": 0, "drops": 0,
                "first_joined_at": None, "muted": False, "hand_raised_at": None}
    return {"site_id": site_id, "media": row.media, "video": row.video, "audio": row.audio,
            "since": iso(row.since), "last_seen": iso(row.last_seen),
            "connected_s": rules.connected_seconds(row, now), "drops": row.drops,
            "first_joined_at": iso(row.first_joined_at), "muted": row.muted,
            "hand_raised_at": iso(row.hand_raised_at)}


def media_by_site(session_id: int) -> dict[int, dict[str, Any]]:
    """{site_id: media status} for the sites that have a row (one query); sites missing here
    were never on the call."""
    now = utcnow()
    rows = db.session.scalars(select(ConferenceSite)
                              .where(ConferenceSite.session_id == session_id))
    return {r.site_id: _site_body(r.site_id, r, now) for r in rows}


def wall_entry(media: dict[str, Any] | None) -> dict[str, Any]:
    """The `conference` key of a wall row, from a `media_by_site` value (None: never)."""
    m = media or {"media": "never", "since": None, "last_seen": None, "drops": 0}
    return {"media": m["media"], "since": m["since"], "last_seen": m["last_seen"],
            "drops": m["drops"]}


def conference_state(actor: User | None, session_id: int) -> dict[str, Any]:
    """What GET /sessions/<id>/conference answers (organisers; coordinators of its sites)."""
    require_session_viewer(actor, session_id)
    session = get_session(session_id)
    room = db.session.get(ConferenceRoom, session_id)
    media = media_by_site(session_id)
    now = utcnow()
    body: dict[str, Any] = {
        "session_id": session_id, "provider": provider_of(session),
        "available": janus_available(),
        "floor_site_id": room.floor_site_id if room is not None else None,
        "recording": room is not None and room.recording_since is not None,
        "sites": [media.get(i) or _site_body(i, None, now) for i in session_site_ids(session_id)],
    }
    if body["provider"] == LINK:
        body["url"] = session.conference_url
    return body


# --------------------------------------------------------------------------- commands


def builtin_session(session_id: int) -> TrainingSession:
    session = get_session(session_id)
    if session.conference_provider != BUILTIN:
        raise Conflict(gettext("This session's conference is not trainer's video room."),
                       reason="not-builtin")
    if session.status == SessionStatus.ENDED:
        raise Conflict(gettext("The session has ended."), reason="session-ended")
    return session


def _check_site(session_id: int, site_id: Any) -> int:
    if not isinstance(site_id, int) or site_id not in session_site_ids(session_id):
        raise Invalid.field("site_id", gettext("This site does not take part in the session."))
    return site_id


def join(actor: User | None, session_id: int, site_id: int | None,
         role: str = "site") -> dict[str, Any]:
    """A token for one browser to join the room as one site (its coordinators, organisers)
    or as the host (organisers and admins)."""
    if role == "host":
        require_staff(actor)
        site_id = None
    else:
        require_any(actor)
        if site_id is None:
            raise Invalid.field("site_id", gettext("Choose the site."))
        require_site(actor, site_id)
    session = builtin_session(session_id)
    if site_id is not None:
        _check_site(session_id, site_id)
    client = janus_client()
    now = utcnow()
    expires = token_expiry(session, now)
    token = make_token(session_id, site_id, expires)
    try:
        room = ensure_room(client, session)
        client.add_token(token)
    except JanusError as exc:
        db.session.rollback()
        log.warning("video server refused or did not answer a join: %s", exc)
        raise Unavailable(gettext("The video server is not answering; try again in a moment."),
                          reason="video-unavailable") from exc
    db.session.commit()
    state = runtime()
    server = state.public_url or _browser_url(state.client.url if state.client else "")
    return {"server": server, "room": room.janus_room, "token": token,
            "display": display(site_id), "expires_at": iso(expires), "pin": room.pin,
            "publisher_id": publisher_id(site_id), "session_id": session_id,
            "site_id": site_id, "role": "host" if site_id is None else "site",
            "floor_site_id": room.floor_site_id}


def _browser_url(url: str) -> str:
    """The Janus URL as seen from the browser: a loopback address is replaced by the host the
    browser reached trainer on (a child Janus serves on the same address as trainer)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.hostname not in ("127.0.0.1", "localhost") or not has_request_context():
        return url
    host = request.host.rsplit(":", 1)[0] if not request.host.endswith("]") else request.host
    return urlunsplit((parts.scheme, f"{host}:{parts.port}", parts.path, "", ""))


def set_floor(actor: User | None, session_id: int, site_id: int | None) -> dict[str, Any]:
    """Give a site the floor (every site sees and hears it beside the host), or take it back;
    while the room is recorded, the recording follows the floor."""
    user = require_staff(actor)
    session = builtin_session(session_id)
    if site_id is not None:
        _check_site(session_id, site_id)
    room = _room_row(session)
    before = room.floor_site_id
    room.floor_site_id = site_id
    asked = _site_row(session_id, site_id) if site_id is not None else None
    answered = asked is not None and asked.hand_raised_at is not None
    if asked is not None:
        asked.hand_raised_at = None  # its request is answered
    db.session.commit()
    payload = {"session_id": session_id, "site_id": site_id}
    live.emit(session_id, "conference_floor", payload)
    if answered:
        _push_hand(session_id, site_id, None)  # type: ignore[arg-type]
    from trainer.conference import recording  # it builds on this module

    recording.floor_changed(session_id, before, site_id, user.id)
    return payload


def _site_row(session_id: int, site_id: int) -> ConferenceSite | None:
    return db.session.scalar(select(ConferenceSite).where(
        ConferenceSite.session_id == session_id, ConferenceSite.site_id == site_id))


def _push_hand(session_id: int, site_id: int, at: datetime | None) -> dict[str, Any]:
    payload = {"session_id": session_id, "site_id": site_id, "raised": at is not None,
               "at": iso(at)}
    live.emit(session_id, "conference_hand", payload)
    return payload


def raise_hand(actor: User | None, session_id: int, site_id: Any, raised: bool,
               ) -> dict[str, Any]:
    """A site on the call asks for the floor ("Xin phát biểu", from its room computer: its
    coordinators, or organisers), or withdraws; organisers may also lower it. Giving the site
    the floor, or the site leaving the call, lowers it. Asking again keeps the first time
    (the host answers in the order asked)."""
    user = require_any(actor)
    require_site(user, site_id)
    builtin_session(session_id)
    site_id = _check_site(session_id, site_id)
    row = _site_row(session_id, site_id)
    if raised and (row is None or row.media not in rules.ON_CALL):
        raise Conflict(gettext("Join the call first: only a site on the call can ask for "
                               "the floor."), reason="not-on-call")
    if row is None:
        return _push_hand(session_id, site_id, None)
    if raised and row.hand_raised_at is None:
        row.hand_raised_at = utcnow()
    elif not raised:
        row.hand_raised_at = None
    at = row.hand_raised_at
    db.session.commit()
    return _push_hand(session_id, site_id, at)


def mute(actor: User | None, session_id: int, site_id: Any, muted: bool,
         mid: str | None = None) -> dict[str, Any]:
    """Mute or unmute a site's microphone at Janus (the host's control room; organisers):
    VideoRoom `moderate` with the room's secret, which only trainer knows, so the sound stops
    at the server for everyone whatever the site's page does. The site's own page cannot undo
    it and is told (`conference_mute`); a new connection of the site starts unmuted."""
    require_staff(actor)
    builtin_session(session_id)
    site_id = _check_site(session_id, site_id)
    row = _site_row(session_id, site_id)
    room = db.session.get(ConferenceRoom, session_id)
    if (row is None or room is None or not row.webrtc_up or row.janus_handle_id is None
            or row.janus_session_id is None):
        raise Conflict(gettext("This site is not on the call."), reason="not-on-call")
    client = janus_client()
    try:
        info = client.admin("handle_info", session_id=row.janus_session_id,
                            handle_id=row.janus_handle_id).get("info") or {}
        streams = (info.get("plugin_specific") or {}).get("streams") or []
        mids = [mid] if mid is not None else [
            s["mid"] for s in streams if s.get("type") == "audio" and s.get("mid") is not None]
        for one in mids:
            client.videoroom("moderate", room=room.janus_room, secret=room.secret,
                             id=publisher_id(site_id), mid=one, mute=muted)
    except JanusError as exc:
        log.warning("could not mute site %s: %s", site_id, exc)
        raise Unavailable(gettext("The video server is not answering; try again in a moment."),
                          reason="video-unavailable") from exc
    row.muted = muted
    db.session.commit()
    push_status(row)
    payload = {"session_id": session_id, "site_id": site_id, "muted": muted}
    live.emit(session_id, "conference_mute", payload)
    return payload


def push_status(row: ConferenceSite) -> None:
    live.emit(row.session_id, "conference_status", {
        "session_id": row.session_id, "site_id": row.site_id, "media": row.media,
        "video": row.video, "audio": row.audio, "since": iso(row.since), "muted": row.muted})


def janus_unreachable() -> int:
    """Janus stopped answering: every site on the call of a session that is not over is now
    lost (its media cannot reach anyone). Answers how many sites changed."""
    return _mark_gone(list(db.session.scalars(
        select(ConferenceSite).join(TrainingSession,
                                    TrainingSession.id == ConferenceSite.session_id)
        .where(TrainingSession.status != SessionStatus.ENDED,
               ConferenceSite.media.in_(rules.ON_CALL) | ConferenceSite.webrtc_up))))


def _mark_gone(rows: list[ConferenceSite]) -> int:
    now = utcnow()
    changed = []
    for row in rows:
        rules.gone(row, now)
        if rules.settle(row, now)[0]:
            changed.append(row)
    db.session.commit()
    for row in changed:
        push_status(row)
    return len(changed)


def reconcile(client: JanusClient) -> int:
    """Sites on the call whose Janus session no longer exists (Janus restarted, an event
    lost) are lost. Answers how many sites changed."""
    rows = list(db.session.scalars(select(ConferenceSite).where(
        ConferenceSite.media.in_(rules.ON_CALL) | ConferenceSite.webrtc_up)))
    if not rows:
        return 0
    alive = set(client.admin("list_sessions").get("sessions") or [])
    return _mark_gone([r for r in rows if r.janus_session_id not in alive])


def ensure_live_rooms(client: JanusClient) -> None:
    """After Janus came back: the rooms of builtin sessions that are live exist again."""
    sessions = db.session.scalars(select(TrainingSession).where(
        TrainingSession.conference_provider == BUILTIN,
        TrainingSession.status == SessionStatus.LIVE))
    for session in sessions:
        try:
            ensure_room(client, session)
        except JanusError as exc:
            if isinstance(exc, JanusUnavailable):
                raise
            log.exception("could not create the room of session %s again", session.id)
    db.session.commit()
