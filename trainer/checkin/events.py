"""Socket.IO on namespace /live: authentication at connect, watching a session's attendance,
coordinator pages of a site (presence, status, roll-call).

Client -> server (every event answers through its acknowledgement; bad input answers
{"error": "..."} and the connection stays open):
- `watch` {session_id} -> the attendance body; the caller joins room session-<id> and then
  receives `attendance`, `site_status`, `rollcall`, `rollcall_confirmed`, `session_status`...
- `unwatch` {session_id} -> {ok}.
- `watch_site` {session_id, site_id} -> {ok, rollcall_active, rollcall_started_at,
  rollcall_confirmed_at, status, reported_status, note, session_status, heartbeat_s,
  offline_after_s}; joins session-<id>-site-<site_id> (`checkin`, `checkin_undone`,
  `site_status`, `rollcall_confirmed` of that site) and session-<id>-sites (`rollcall`), and
  marks the site's page connected.
- `heartbeat` {session_id, site_id} every ~10 s -> {ok}.
- `site_status` {session_id, site_id, status, note?} -> {ok, ...the site_status event}.
- `rollcall_confirm` {session_id, site_id} -> {ok, session_id, site_id, at}.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from flask import current_app, request
from flask_babel import gettext
from flask_login import current_user
from flask_socketio import disconnect, join_room, leave_room

from trainer import live
from trainer.auth.models import User
from trainer.auth.services import user_for_token
from trainer.checkin import push, services
from trainer.errors import DomainError
from trainer.extensions import db, socketio

log = logging.getLogger(__name__)

NS = live.NAMESPACE
USER_KEY = "trainer.live.user_id"
VERSION_KEY = "trainer.live.session_version"
TOKEN_KEY = "trainer.live.token"  # noqa: S105 - an environ key, not a secret
PAGES_KEY = "trainer.live.site_pages"  # this connection registered a site page
MAX_ID = 2**53


class BadPayload(Exception):
    pass


def connection_user() -> User | None:
    """The account this Socket.IO connection authenticated as (any feature's handlers), while
    its credentials still hold: a revoked token, a logout, a new password or a deactivation
    since the connection opened closes it instead."""
    user = services.socket_user(request.environ.get(USER_KEY))
    token = request.environ.get(TOKEN_KEY)
    still = user is not None and user.session_version == request.environ.get(VERSION_KEY) and (
        token is None or user_for_token(token) is not None)
    if not still:
        disconnect()
        return None
    return user


@socketio.on("connect", namespace=NS)
def on_connect(auth: Any = None) -> None:
    user: User | None = None
    token = auth.get("token") if isinstance(auth, dict) else None
    try:
        if isinstance(token, str) and token:
            user = user_for_token(token)
        elif current_user.is_authenticated:
            user = current_user._get_current_object()  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - a database hiccup refuses, it does not crash
        log.exception("socket authentication failed")
        db.session.rollback()
        user = None
    if user is None:
        log.info("socket connection refused: no valid credentials (%s)", request.remote_addr)
        raise ConnectionRefusedError(gettext("Log in or send a valid bearer token."))
    request.environ[USER_KEY] = user.id
    request.environ[VERSION_KEY] = user.session_version
    request.environ[TOKEN_KEY] = token if isinstance(token, str) and token else None
    join_room(live.user_room(user.id))
    live.remember_connection(user.id, request.sid)  # type: ignore[attr-defined]
    services.start_presence_sweeper(current_app._get_current_object())  # type: ignore[attr-defined]


@socketio.on("disconnect", namespace=NS)
def on_disconnect(*_: Any) -> None:
    if (user_id := request.environ.get(USER_KEY)) is not None:
        live.forget_connection(user_id, request.sid)  # type: ignore[attr-defined]
    if not request.environ.get(PAGES_KEY):
        return  # a watcher without site pages: nothing to record (no write per screen)
    try:
        services.page_gone(request.sid)  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001
        log.exception("could not record a page leaving")
        db.session.rollback()


def _id(data: dict[str, Any], name: str) -> int:
    value = data.get(name)
    if isinstance(value, str) and value.isdigit() and len(value) <= 15:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < MAX_ID:
        raise BadPayload(gettext("%(field)s must be a positive whole number.", field=name))
    return value


def _object(data: Any, *names: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise BadPayload(gettext("Send an object with %(fields)s.", fields=", ".join(names)))
    return data


def handler(event: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register an event handler taking (user, payload); it never raises: bad input and
    refusals answer {"error": ...} and are logged, the connection stays."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def run(*args: Any) -> Any:
            data = args[0] if args else None
            try:
                user = connection_user()
                if user is None:
                    return {"error": gettext("Log in or send a valid bearer token."),
                            "status": 401}
                return fn(user, data)
            except BadPayload as exc:
                log.warning("ignored %s from %s: %s", event, getattr(request, "sid", "?"), exc)
                return {"error": str(exc), "status": 400}
            except DomainError as exc:
                db.session.rollback()
                log.info("refused %s from %s: %s", event, getattr(request, "sid", "?"),
                         exc.detail)
                return {"error": str(exc.detail if exc.detail is not None else exc.slug),
                        "status": exc.status, "type": f"/problems/{exc.slug}"}
            except Exception:  # noqa: BLE001
                log.exception("socket event %s failed", event)
                db.session.rollback()
                return {"error": gettext("Something went wrong on our side. Nothing was saved; "
                                         "please try again."), "status": 500}

        socketio.on_event(event, run, namespace=NS)
        return run

    return decorate


@handler("watch")
def on_watch(user: User, data: Any) -> Any:
    session_id = _id(_object(data, "session_id"), "session_id")
    services.require_session_viewer(user, session_id)
    # Join before reading the snapshot: a push built meanwhile is then received (and ignored
    # if older), so the pushes that carry only changed sites never leave a gap.
    join_room(live.room(session_id))
    body = push.watch_snapshot(session_id)
    _release_after_ack(request.sid)  # type: ignore[attr-defined]
    return body


def _release_after_ack(sid: str) -> None:
    """Engine.IO's WebSocket writer keeps the last packet it sent until it sends another: after
    a 1,000-site snapshot that is about 200 kB per idle screen (1 GB for 5,000). An Engine.IO
    no-op packet queued right behind the acknowledgement lets it go."""
    from engineio import packet as eio_packet

    def send() -> None:
        try:
            eio_sid = socketio.server.manager.eio_sid_from_sid(sid, NS)
            if eio_sid is not None:
                socketio.server.eio.send_packet(eio_sid, eio_packet.Packet(eio_packet.NOOP))
        except Exception:  # noqa: BLE001 - only memory is at stake
            log.debug("no-op after the snapshot failed for %s", sid, exc_info=True)

    socketio.start_background_task(send)


@handler("unwatch")
def on_unwatch(user: User, data: Any) -> Any:
    session_id = _id(_object(data, "session_id"), "session_id")
    leave_room(live.room(session_id))
    return {"ok": True}


def _join_site(user: User, session_id: int, site_id: int) -> dict[str, Any]:
    request.environ[PAGES_KEY] = True  # before the write: a failed one may still leave a row
    ack = services.page_connected(user, session_id, site_id, request.sid)  # type: ignore[attr-defined]
    join_room(live.site_room(session_id, site_id))
    join_room(services.pages_room(session_id))
    return ack


@handler("watch_site")
def on_watch_site(user: User, data: Any) -> Any:
    data = _object(data, "session_id", "site_id")
    return _join_site(user, _id(data, "session_id"), _id(data, "site_id"))


@handler("heartbeat")
def on_heartbeat(user: User, data: Any) -> Any:
    data = _object(data, "session_id", "site_id")
    session_id, site_id = _id(data, "session_id"), _id(data, "site_id")
    if services.page_heartbeat(request.sid, session_id, site_id):  # type: ignore[attr-defined]
        return {"ok": True}
    return _join_site(user, session_id, site_id)  # expired or never watched: register again


@handler("site_status")
def on_site_status(user: User, data: Any) -> Any:
    data = _object(data, "session_id", "site_id", "status")
    status, note = data.get("status"), data.get("note")
    if not isinstance(status, str):
        raise BadPayload(gettext("status must be one of: %(values)s",
                                 values=", ".join(services.SITE_STATUSES)))
    if note is not None and not isinstance(note, str):
        raise BadPayload(gettext("note must be a text."))
    payload = services.set_site_status(user, _id(data, "session_id"), _id(data, "site_id"),
                                       status, note)
    return {"ok": True, **payload}


@handler("rollcall_confirm")
def on_rollcall_confirm(user: User, data: Any) -> Any:
    data = _object(data, "session_id", "site_id")
    payload = services.confirm_rollcall(user, _id(data, "session_id"), _id(data, "site_id"))
    return {"ok": True, **payload}
