"""SQLite WAL checkpoints on a native thread, for `trainer serve`.

By default SQLite copies the write-ahead log back into the database file (a checkpoint, with
an fsync) inside whichever commit crosses 1,000 log pages. Under a stream of check-ins that is
about every hundredth commit, and it doubles the average commit time of the one process that
serves everything. `trainer serve` turns that off for its connections and checkpoints from a
native thread instead (PASSIVE: it never blocks the writer), on the machine's other core.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

log = logging.getLogger(__name__)

BACKGROUND = False  # set by start(); read by the connection pragmas in trainer.app


def connection_pragmas(cursor: Any) -> None:
    """Called for every new SQLite connection of the app (trainer.app._sqlite_pragmas)."""
    if BACKGROUND:
        cursor.execute("PRAGMA wal_autocheckpoint=0")


def start(path: str, interval: float = 0.2) -> None:
    """Checkpoint the database at `path` every `interval` seconds from a native thread.
    Call before the app's first connection (or dispose of the engine after)."""
    global BACKGROUND
    from gevent.monkey import get_original

    BACKGROUND = True
    start_thread = get_original("_thread", "start_new_thread")
    start_thread(_loop, (path, interval))


def _loop(path: str, interval: float) -> None:
    from gevent.monkey import get_original

    sleep = get_original("time", "sleep")
    conn: sqlite3.Connection | None = None
    while True:
        sleep(interval)
        try:
            if conn is None:
                conn = sqlite3.connect(path, timeout=1.0, isolation_level=None,
                                       check_same_thread=False)
                conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error:
            log.exception("background WAL checkpoint of %s failed", path)
            if conn is not None:
                conn.close()
            conn = None
            sleep(1.0)
