"""CPU-heavy work off the gevent loop: parsing imports, building XLSX and PDF files.

Under `trainer serve` every request and socket shares one gevent loop: a request that
computes for seconds (a 100,000-row workbook) would stall them all. `off_loop(fn, ...)`
runs `fn` on a worker thread of gevent's thread pool while the calling greenlet waits and
the loop serves everyone else (the threads share the GIL, which Python hands over every few
milliseconds). Without gevent (tests, the threaded development server) it just calls `fn`.

`fn` gets an application context and the caller's language, nothing more: it must not
touch the request or the logged-in user (check permissions first). It may read the database
through its own session (the caller's transaction is ended first, so that its connection
serves others meanwhile); writing stays with the caller.

`one_at_a_time(key)` lets one such job per key (e.g. one import per user) run at a time,
across server processes when REDIS_URL is set.
"""

from __future__ import annotations

import functools
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from flask import current_app, has_app_context
from flask_babel import force_locale, get_locale, gettext

from trainer.errors import TooMany

T = TypeVar("T")

POOL_SIZE = 4  # heavy jobs at once per process; more wait their turn
LOCK_TTL_S = 15 * 60  # a crashed process's lock is forgotten after this


def _gevent_hub() -> Any:
    try:
        from gevent import get_hub, monkey
    except ImportError:  # pragma: no cover
        return None
    return get_hub() if monkey.is_module_patched("socket") else None


def off_loop(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """fn(*args, **kwargs) on a worker thread (under gevent), with an application context
    and the caller's language; exceptions propagate to the caller."""
    hub = _gevent_hub()
    if hub is None:
        return fn(*args, **kwargs)  # no loop to keep free: here, in the caller's context
    call = functools.partial(fn, *args, **kwargs)
    if has_app_context():
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        locale = str(get_locale() or app.config.get("BABEL_DEFAULT_LOCALE", "vi"))

        def call_in_context() -> T:
            with app.app_context(), force_locale(locale):
                return fn(*args, **kwargs)

        call = call_in_context  # type: ignore[assignment]
        _release_connection()
    pool = hub.threadpool
    if pool.maxsize != POOL_SIZE:
        pool.maxsize = POOL_SIZE
    return pool.apply(call)  # type: ignore[no-any-return]


def _release_connection() -> None:
    """End the request's read-only transaction before waiting, so that its database
    connection serves other requests meanwhile (SQLite has one per process)."""
    from trainer.extensions import db

    session = db.session()
    if not (session.new or session.dirty or session.deleted):
        session.commit()


class _LocalLocks:
    def __init__(self) -> None:
        self.held: set[str] = set()
        self.lock = threading.Lock()


def _local_locks() -> _LocalLocks:
    return current_app.extensions.setdefault("trainer.offload.locks", _LocalLocks())


@contextmanager
def one_at_a_time(key: str, message: str | None = None) -> Iterator[None]:
    """Run the block only if no other holder of `key` is running; else 429."""
    refusal = TooMany(message or gettext(
        "Your previous file is still being processed. Wait for it to finish, then try "
        "again."), retry_after=5)
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        from redis import Redis

        client = Redis.from_url(redis_url)
        name, token = f"trainer:busy:{key}", secrets.token_hex(8)
        if not client.set(name, token, nx=True, ex=LOCK_TTL_S):
            raise refusal
        try:
            yield
        finally:
            if client.get(name) == token.encode():
                client.delete(name)
            client.close()
        return
    locks = _local_locks()
    with locks.lock:
        if key in locks.held:
            raise refusal
        locks.held.add(key)
    try:
        yield
    finally:
        with locks.lock:
            locks.held.discard(key)
