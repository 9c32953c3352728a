"""Live updates over Socket.IO (namespace `/live`): rooms per session and coalesced pushes.

Counts never come from here: a push is built from the database when it is sent. What this
module keeps in memory is only *when* each (session, kind) was last pushed, per process, so
that a burst of check-ins yields at most one push every LIVE_COALESCE_S seconds (and a late or
duplicate one carries an older `version` that clients ignore).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app

from trainer.extensions import db, socketio
from trainer.state import app_state

log = logging.getLogger(__name__)

NAMESPACE = "/live"

Builder = Callable[[], tuple[str, dict[str, Any]] | None]


def room(session_id: int) -> str:
    return f"session-{session_id}"


def site_room(session_id: int, site_id: int) -> str:
    return f"session-{session_id}-site-{site_id}"


def emit(session_id: int, event: str, payload: dict[str, Any], *,
         site_id: int | None = None) -> None:
    """Send now to every watcher of a session (or of one of its sites), in every process."""
    target = site_room(session_id, site_id) if site_id is not None else room(session_id)
    socketio.emit(event, payload, to=target, namespace=NAMESPACE)


def schedule(session_id: int, kind: str, build: Builder) -> None:
    """Push `build()`'s (event, payload) to the session's room soon, coalesced per kind: at
    most one push every LIVE_COALESCE_S seconds per (session, kind), per app.

    Call after the commit that changed what `build` reads.
    """
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    interval = float(app.config.get("LIVE_COALESCE_S", 0.1))
    if interval <= 0:
        _send(app, session_id, build, inline=True)
        return
    state = app_state(app)
    key = (session_id, kind)
    with state.lock:
        if key in state.scheduled:
            return  # the pending push runs later: it will include this
        state.scheduled.add(key)
        delay = max(0.0, state.last_push.get(key, 0.0) + interval - time.monotonic())
    socketio.start_background_task(_run, app, key, delay, build)


def _run(app: Flask, key: tuple[int, str], delay: float, build: Builder) -> None:
    if delay:
        socketio.sleep(delay)
    state = app_state(app)
    with state.lock:
        state.scheduled.discard(key)  # changes committed from now on schedule another push
        state.last_push[key] = time.monotonic()
    _send(app, key[0], build, inline=False)


def _send(app: Flask, session_id: int, build: Builder, *, inline: bool) -> None:
    try:
        if inline:
            message = build()
        else:
            with app.app_context():
                try:
                    message = build()
                finally:
                    db.session.remove()
        if message is not None:
            event, payload = message
            emit(session_id, event, payload)
    except Exception:  # noqa: BLE001 - a failed push must not break the request that caused it
        log.exception("live push for session %s failed", session_id)


# --------------------------------------------------------------------------- the message queue

QUEUE_RETRY_MAX_S = 5.0  # longest wait between two attempts to subscribe again to Redis


def message_queue(url: str | None, channel: str) -> Any:
    """The Socket.IO client manager for several processes (Redis), or None for one process.

    python-socketio's RedisManager subscribes again once Redis is back, but whatever was
    published while this process was not subscribed is lost, so a wall could show old counts
    until the next check-in; and its wait between attempts grows to a minute. Here every break
    of the subscription goes through one loop (redis-py's silent reconnects are off), the wait
    stays under QUEUE_RETRY_MAX_S, and once subscribed again the process closes its live
    connections: the pages connect again by themselves and ask for a fresh snapshot, as after
    any reconnect, so no screen stays behind.

    Kept instead of the stock RedisManager because tests/faults/test_redis_outage.py fails
    with it: its wait grows 1, 2, 4, ... s, so after Redis returns the processes stay deaf to
    each other's pushes for longer than the test's 10 s, and a page that never disconnected
    never asks for a fresh snapshot. It overrides RedisManager._redis_listen_with_retries, so
    python-socketio is pinned to the minor version it was tested with (pyproject.toml).
    """
    if not url:
        return None
    import socketio as sio
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    class RecoveringRedisManager(sio.RedisManager):  # type: ignore[misc]
        def _redis_listen_with_retries(self) -> Any:
            delay, broken = 1.0, False
            while True:
                try:
                    self._redis_connect()
                    pubsub = self.pubsub
                    pubsub.subscribe(self.channel)
                    if broken:
                        log.warning("message queue reachable again: restarting this process's "
                                    "live connections so that they catch up")
                        self.server.start_background_task(_restart_connections, self.server)
                    delay = 1.0
                    yield from pubsub.listen()
                except Exception as exc:  # noqa: BLE001 - any failure: subscribe again
                    log.warning("message queue unreachable (%s); next attempt in %.0f s",
                                exc, delay)
                broken = True
                time.sleep(delay)  # gevent-patched under `trainer serve`
                delay = min(delay * 2, QUEUE_RETRY_MAX_S)

    return RecoveringRedisManager(url, channel=channel, redis_options={
        "retry": Retry(NoBackoff(), 0), "socket_connect_timeout": 3})


def _restart_connections(server: Any) -> None:
    """Close every Engine.IO connection of this process (Socket.IO clients reconnect after a
    transport close, and the pages then ask for fresh snapshots)."""
    try:
        server.eio.disconnect()
    except Exception:  # noqa: BLE001 - a failed close must not stop the listener
        log.exception("could not restart the live connections")


# --------------------------------------------------------------------------- accounts' sockets
# Every live connection joins its account's room; ending an account's sessions (logout, new
# password, deactivation) closes them all. The connections of other processes are found in
# Redis (a set per account, kept while they are open) and closed through the message queue.

SOCKETS_TTL_S = 7 * 24 * 3600


def user_room(user_id: int) -> str:
    return f"user-{user_id}"


def _registry() -> Any:
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    client = current_app.extensions.get("trainer.live.registry")
    if client is None:
        from redis import Redis

        client = current_app.extensions["trainer.live.registry"] = Redis.from_url(
            url, socket_connect_timeout=3, socket_timeout=3)
    return client


def remember_connection(user_id: int, sid: str) -> None:
    try:
        if (registry := _registry()) is not None:
            key = f"trainer:sockets:{user_id}"
            registry.sadd(key, sid)
            registry.expire(key, SOCKETS_TTL_S)
    except Exception:  # noqa: BLE001 - the same-process close and the per-event check remain
        log.warning("could not record live connection %s of user %s", sid, user_id)


def forget_connection(user_id: int, sid: str) -> None:
    try:
        if (registry := _registry()) is not None:
            registry.srem(f"trainer:sockets:{user_id}", sid)
    except Exception:  # noqa: BLE001
        log.warning("could not forget live connection %s of user %s", sid, user_id)


def end_user_connections(user_id: int) -> None:
    """Close every live connection of the account, in this process and the others."""
    server = socketio.server
    if server is None:
        return
    sids = {sid for sid, _eio in server.manager.get_participants(NAMESPACE, user_room(user_id))}
    try:
        if (registry := _registry()) is not None:
            key = f"trainer:sockets:{user_id}"
            sids |= {s.decode() for s in registry.smembers(key)}
            registry.delete(key)
    except Exception:  # noqa: BLE001
        log.warning("could not read the live connections of user %s", user_id)
    for sid in sids:
        try:
            server.disconnect(sid, namespace=NAMESPACE)
        except Exception:  # noqa: BLE001 - gone already
            log.debug("live connection %s already closed", sid)
