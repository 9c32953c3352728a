"""CPU-heavy work off the gevent loop: parsing imports, building XLSX and PDF files.

Under `trainer serve` every request and socket shares one gevent loop: a request that
computes for seconds (a 100,000-row workbook) would stall them all. A thread is not enough:
openpyxl, the PDF writer and the QR encoder are pure Python and hold the GIL most of the
time, so the loop would get the processor only now and then. `off_loop(fn, ...)` therefore
runs `fn` in one of a few worker processes (`concurrent.futures.ProcessPoolExecutor`,
started on first use) while the calling greenlet waits and the loop serves everyone else.
Without gevent (tests, the threaded development server) it just calls `fn`.

`fn` must be a module-level function and its arguments and result plain data (they are
pickled). It runs with an application context of the worker's own (the same configuration)
and the caller's language, nothing more: it must not touch the request or the logged-in user
(check permissions first). It may read the database through that app's session: on SQLite a
read-only connection (deferred transactions, which under WAL never wait for writers nor make
them wait); writing stays with the caller, whose transaction is ended before waiting so that
its connection serves others meanwhile.

`one_at_a_time(key)` lets one such job per key (e.g. one import per user) run at a time,
across server processes when REDIS_URL is set.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, current_app
from flask_babel import force_locale, get_locale, gettext

from trainer.errors import TooMany

T = TypeVar("T")

POOL_SIZE = 2  # heavy jobs at once per server process; more wait their turn
WORKER_NICENESS = 10  # the workers' priority below the server's (os.nice)
LOCK_TTL_S = 15 * 60  # a crashed process's lock is forgotten after this
TURN_S = 0.01  # longest stretch a loop on the gevent loop runs before others get a turn
TURN_PAUSE_S = 0.001  # and the pause it then takes (the loop polls sockets meanwhile)

_pool: ProcessPoolExecutor | None = None
_worker_app: Flask | None = None


def _gevent_patched() -> bool:
    try:
        from gevent import monkey
    except ImportError:  # pragma: no cover
        return False
    return bool(monkey.is_module_patched("socket"))


def read_only_url(url: str) -> str:
    """The database URL a worker reads through: SQLite opened read-only, others as they are."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database \
            or parsed.database == ":memory:" or parsed.query.get("mode") == "ro":
        return url
    return str(parsed.set(database=f"file:{parsed.database}",
                          query={**parsed.query, "mode": "ro", "uri": "true"}))


def _start_worker(database_url: str) -> None:
    """In each worker process, once: the application, reading the server's database; and a
    lower priority, so that the server's loop gets the processor first when both want it."""
    global _worker_app
    os.nice(WORKER_NICENESS)
    from trainer import create_app

    _worker_app = create_app({"SQLALCHEMY_DATABASE_URI": read_only_url(database_url),
                              "REDIS_URL": None})


def _run_in_worker(folder: str) -> None:
    """The job in `folder`/job.pickle: its result goes to `folder`/result.pickle."""
    if _worker_app is None:
        raise RuntimeError("off_loop: the worker process has no application")
    job, result = Path(folder, "job.pickle"), Path(folder, "result.pickle")
    locale, fn, args, kwargs = pickle.loads(job.read_bytes())  # noqa: S301 - written by us
    with _worker_app.app_context(), force_locale(locale):
        result.write_bytes(pickle.dumps(fn(*args, **kwargs), pickle.HIGHEST_PROTOCOL))


def _workers(app: Flask) -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        # spawn: a fresh interpreter, not a fork of this one with its loop and threads
        _pool = ProcessPoolExecutor(
            POOL_SIZE, mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker, initargs=(app.config["SQLALCHEMY_DATABASE_URI"],))
    return _pool


def off_loop(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """fn(*args, **kwargs) in a worker process (under gevent), with an application context
    and the caller's language; exceptions propagate to the caller."""
    global _pool
    if not _gevent_patched():
        return fn(*args, **kwargs)  # no loop to keep free: here, in the caller's context
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    locale = str(get_locale() or app.config.get("BABEL_DEFAULT_LOCALE", "vi"))
    _release_connection()
    pool = _workers(app)
    # The job and its result travel as files, the executor's pipes carry only the folder's
    # name: a pipe write blocks the whole process (not just this greenlet) until a worker
    # reads, which may be many seconds if all are busy.
    with tempfile.TemporaryDirectory(prefix="trainer-job-") as folder:
        Path(folder, "job.pickle").write_bytes(
            pickle.dumps((locale, fn, args, kwargs), pickle.HIGHEST_PROTOCOL))
        try:
            pool.submit(_run_in_worker, folder).result()
        except BrokenProcessPool:
            if _pool is pool:
                _pool = None  # a worker died (killed, out of memory): start afresh next time
            raise
        result: T = pickle.loads(Path(folder, "result.pickle").read_bytes())  # noqa: S301
        return result


def in_thread(fn: Callable[..., T], /, *args: Any) -> T:
    """fn(*args) on a native thread of gevent's pool (under gevent), for work that leaves the
    GIL most of the time (copying and hashing files), so the loop serves others meanwhile.
    `fn` must not touch the request, the database session or gevent's sockets. Without gevent
    it just calls `fn`."""
    if not _gevent_patched():
        return fn(*args)
    import gevent

    result: T = gevent.get_hub().threadpool.apply(fn, args)
    return result


def _release_connection() -> None:
    """End the request's read-only transaction before waiting, so that its database
    connection serves other requests meanwhile (SQLite has one per process)."""
    from trainer.extensions import db

    session = db.session()
    if not (session.new or session.dirty or session.deleted):
        session.commit()


class Turns:
    """For a long loop that stays on the gevent loop (checking 100,000 rows): call `tick()`
    at each step; every TURN_S it lets the other requests and sockets run. A short sleep, not
    sleep(0): gevent runs a greenlet that sleeps(0) again at once, for up to 50 turns, before
    it polls the sockets; a timer makes it poll first. Without gevent it does nothing."""

    def __init__(self) -> None:
        self.active = _gevent_patched()
        self.last = time.monotonic()

    def tick(self) -> None:
        if self.active and time.monotonic() - self.last >= TURN_S:
            time.sleep(TURN_PAUSE_S)
            self.last = time.monotonic()


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
