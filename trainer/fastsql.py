"""Hot-path statements: a Core statement compiled once per dialect and run on the request's
DBAPI cursor, with SQLAlchemy's own bind and result processing.

SQLAlchemy spends 100-300 µs of Python per `session.execute()` (cache key, execution
context, result object) for a statement SQLite runs in about 10 µs. The few statements of a
check-in are run through `Prepared` instead. It uses the session's connection (so the
transaction, BEGIN IMMEDIATE on SQLite, and the commit stay the session's) and raises
SQLAlchemy's exception classes (IntegrityError, OperationalError, ...) like `execute()` does.
Statements must not use expanding IN parameters or literal execution.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import exc
from sqlalchemy.sql import ClauseElement

from trainer.extensions import db

Processor = Callable[[Any], Any] | None


class _Compiled:
    __slots__ = ("defaults", "names", "positional", "procs", "results", "sql")

    def __init__(self, stmt: ClauseElement, dialect: Any) -> None:
        compiled: Any = stmt.compile(dialect=dialect)
        self.sql: str = compiled.string
        self.positional: bool = bool(compiled.positional)
        binds = compiled._bind_processors
        if self.positional:
            self.names: Sequence[str] = list(compiled.positiontup or ())
        else:
            self.names = list(compiled.bind_names.values())
        self.procs: dict[str, Any] = {n: binds[n] for n in self.names if n in binds}
        # values bound in the statement itself (literals), used when the caller gives none
        self.defaults: dict[str, Any] = {
            name: bp.effective_value for name, bp in compiled.binds.items() if not bp.required}
        self.results: list[Processor] = [
            col[3]._cached_result_processor(dialect, None)
            for col in (compiled._result_columns or ())]


class Prepared:
    """`Prepared(select(...).where(X.id == bindparam("id"))).all({"id": 1})`."""

    def __init__(self, stmt: ClauseElement) -> None:
        self.stmt = stmt
        self._by_dialect: dict[str, _Compiled] = {}

    def _compiled(self, dialect: Any) -> _Compiled:
        key = dialect.name
        compiled = self._by_dialect.get(key)
        if compiled is None:
            compiled = self._by_dialect[key] = _Compiled(self.stmt, dialect)
        return compiled

    def all(self, params: Mapping[str, Any], conn: Any = None) -> list[tuple[Any, ...]]:
        """Run with `params`; `conn`: the session's connection when the caller has it."""
        if conn is None:
            conn = db.session.connection()  # begins the session's transaction if needed
        dialect = conn.dialect
        c = self._compiled(dialect)
        procs, defaults = c.procs, c.defaults
        values = {**defaults, **params} if defaults else params
        if c.positional:
            args: Any = [procs[n](values[n]) if n in procs else values[n] for n in c.names]
        else:
            args = {n: procs[n](values[n]) if n in procs else values[n] for n in c.names}
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(c.sql, args)
            rows = cursor.fetchall() if cursor.description else []
        except dialect.loaded_dbapi.Error as e:
            raise exc.DBAPIError.instance(c.sql, args, e, dialect.loaded_dbapi.Error,
                                          dialect=dialect) from e
        finally:
            cursor.close()
        results = c.results
        if not any(results):
            return [tuple(r) for r in rows]
        return [tuple(p(v) if p is not None else v for p, v in zip(results, r, strict=False))
                for r in rows]

    def first(self, params: Mapping[str, Any], conn: Any = None) -> tuple[Any, ...] | None:
        rows = self.all(params, conn)
        return rows[0] if rows else None


def commit_keeping_objects() -> None:
    """Commit without expiring what was loaded and written: what is read after it (the answer
    built from those objects, a live push) is what this transaction stored, without reading
    it back (no extra SELECT, and on SQLite no second write lock)."""
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


class GroupCommit:
    """The hot-path writes that are ready at the same moment share one transaction. On SQLite
    (one writer per process) that is one BEGIN and one COMMIT, the WAL write, which costs more
    than the statements themselves; on PostgreSQL one commit, one pool checkout and one turn
    on the row that every check-in of a session locks (its version) for the whole batch.

    A caller that finds no batch running leads: it lets the other ready requests reach this
    point (one turn of the event loop), runs `write(jobs)` for all of them (which commits) and
    wakes them; the callers that arrived meanwhile form the next batch, led by the first of
    them. `write` must never raise and must leave each job telling its caller what happened.
    A caller must not hold a database connection while it waits (on SQLite the leader needs
    the pool's only one): commit or roll back first."""

    MAX = 64

    class _Slot:
        __slots__ = ("done", "job", "wake")

        def __init__(self, job: Any) -> None:
            self.job = job
            self.done = False
            self.wake = threading.Event()

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[GroupCommit._Slot] = []
        self._leading = False

    def run(self, job: Any, write: Callable[[list[Any]], None]) -> None:
        from trainer.extensions import socketio

        slot = self._Slot(job)
        with self._lock:
            self._queue.append(slot)
            follow = self._leading
            self._leading = True
        if follow:
            slot.wake.wait(timeout=60)
            if slot.done:
                return
            # handed the lead: what queued meanwhile is the batch, no need to wait for more
        batch: list[GroupCommit._Slot] = []
        try:
            if not follow:
                socketio.sleep(0)  # let the requests that are ready reach the queue
            with self._lock:
                batch, self._queue = self._queue[:self.MAX], self._queue[self.MAX:]
            write([s.job for s in batch])
        finally:
            with self._lock:
                for other in batch:
                    other.done = True
                nxt = self._queue[0] if self._queue else None
                self._leading = nxt is not None
            for other in batch:
                if other is not slot:
                    other.wake.set()
            if nxt is not None:
                nxt.wake.set()  # not done: it leads the next batch
            if not slot.done:  # not in the batch (a full queue): a later leader writes it
                slot.wake.wait(timeout=60)
