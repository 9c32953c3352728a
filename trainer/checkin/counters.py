"""The attendance counters of a site (SiteAttendance), changed in the transaction of each
check-in, walk-in and undo, with the attendance version bump and the command's audit entry
that go with them.

The bump takes the session's row lock, which every other change of the session then waits
for until the bumping transaction ends (so that versions follow the commit order); so it is
written last, and the commit follows at once. On PostgreSQL the bump, the site's counters (an
upsert, or an UPDATE for an undo) and the audit entry are one statement (WITHs of a SELECT);
a first check-in's write is that statement with the check-in's INSERT in it too, run in
autocommit mode (`add_checkin`), so the row is never locked while the database waits for the
application. On SQLite (no UPDATE inside a WITH; BEGIN IMMEDIATE serialises whole
transactions anyway) they are one statement each. What they return is the site's row of a
live push: the request that changed it hands it to trainer.checkin.push, which sends it
without counting check-ins again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext
from sqlalchemy import (
    JSON,
    Integer,
    String,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    true,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from trainer.audit.models import AuditEntry
from trainer.audit.services import INSERT as AUDIT
from trainer.checkin.models import SiteAttendance
from trainer.dbtypes import commit_keeping_objects
from trainer.errors import Unavailable
from trainer.extensions import db
from trainer.people.models import Participant, Sex
from trainer.sessions.models import Checkin, TrainingSession
from trainer.state import app_state

SEXES = ("female", "male", "unspecified")

_t = SiteAttendance.__table__
_s = TrainingSession.__table__

_BUMP = (update(_s).where(_s.c.id == bindparam("bumped_session_id"))
         .values(attendance_version=_s.c.attendance_version + 1,
                 updated_at=_s.c.updated_at)  # not an edit of the session
         .returning(_s.c.attendance_version))


_NEW: dict[str, Any] = {
    "session_id": bindparam("session_id"), "site_id": bindparam("site_id"),
    "female": bindparam("female"), "male": bindparam("male"),
    "unspecified": bindparam("unspecified"), "last_checkin_at": bindparam("at")}


def _upsert(dialect: Any, version: Any) -> Any:
    """Count one more at a site: INSERT ... ON CONFLICT DO UPDATE ... RETURNING the counters
    (`version`: the new attendance version, a parameter or an expression)."""
    if dialect is postgresql:  # the version is read from the bump: a SELECT, not VALUES
        stmt = dialect.insert(_t).from_select(
            [*_NEW, "version"],
            select(*[type_coerce(v, _t.c[k].type) for k, v in _NEW.items()], version))
    else:
        stmt = dialect.insert(_t).values(**_NEW, version=version)
    new = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=["session_id", "site_id"],
        set_={"female": _t.c.female + new.female, "male": _t.c.male + new.male,
              "unspecified": _t.c.unspecified + new.unspecified,
              "last_checkin_at": case(
                  (_t.c.last_checkin_at.is_(None), new.last_checkin_at),
                  (_t.c.last_checkin_at < new.last_checkin_at, new.last_checkin_at),
                  else_=_t.c.last_checkin_at),
              "version": new.version},
    ).returning(*_COUNTS)


def _remove(version: Any) -> Any:
    """Count one less at a site (its last check-in's time read again) ... RETURNING the
    counters; no row: a check-in counted before the counters existed."""
    return (
        update(_t).where(_t.c.session_id == bindparam("b_session_id"),
                         _t.c.site_id == bindparam("b_site_id"))
        .values(female=_t.c.female - bindparam("b_female"), male=_t.c.male - bindparam("b_male"),
                unspecified=_t.c.unspecified - bindparam("b_unspecified"), version=version,
                last_checkin_at=select(func.max(Checkin.at))
                .where(Checkin.session_id == bindparam("b_session_id"),
                       Checkin.site_id == bindparam("b_site_id")).scalar_subquery())
        .returning(*_COUNTS))


_COUNTS = (_t.c.female, _t.c.male, _t.c.unspecified, _t.c.last_checkin_at)
_a = AuditEntry.__table__
_AUDIT_COLUMNS = ("at", "action", "user_id", "session_id", "site_id", "participant_id",
                  "address")  # and details; the ids typed (a foreign key's type is set late)


def _in_one_statement(removed: bool = False, checkin: bool = False) -> Any:
    """PostgreSQL: the version bump, the site's counters and the audit entry (its details with
    the version) as one statement, WITH ... SELECT the version and the counters (none when an
    undo finds no counters). `checkin`: the check-in's INSERT too, first (ON CONFLICT DO
    NOTHING: a check-in stored since the read leaves no row, and nothing is written); the
    statement then also returns its id, which the audit entry's details carry."""
    bump = _BUMP
    inserted = None
    extra: dict[str, Any] = {}
    if checkin:
        inserted = (postgresql.insert(_c).values({k: bindparam(f"c_{k}") for k in _CHECKIN})
                    .on_conflict_do_nothing().returning(_c.c.id).cte("inserted"))
        bump = bump.where(select(inserted.c.id).exists())
        extra["checkin_id"] = inserted.c.id
    bumped = bump.cte("bumped")
    counted = (_remove(select(bumped.c.attendance_version).scalar_subquery()) if removed
               else _upsert(postgresql, bumped.c.attendance_version)).cte("counted")
    pairs = [x for k, v in {**extra, "version": bumped.c.attendance_version}.items()
             for x in (literal(k, String), v)]
    details = cast(
        bindparam("a_details", type_=postgresql.JSONB).op("||", return_type=postgresql.JSONB)(
            func.jsonb_build_object(*pairs)), JSON)
    audited = insert(_a).from_select(
        [*_AUDIT_COLUMNS, "details"],
        select(*[bindparam(f"a_{k}", type_=Integer if k.endswith("_id") else _a.c[k].type)
                 for k in _AUDIT_COLUMNS], details)
        .select_from(bumped if inserted is None else bumped.join(inserted, true()))
    ).cte("audited")
    columns = [bumped.c.attendance_version, *[counted.c[c.name] for c in _COUNTS]]
    joined = bumped.outerjoin(counted, true())
    if inserted is not None:
        columns.insert(0, inserted.c.id)
        joined = inserted.outerjoin(joined, true())
    return select(*columns).select_from(joined).add_cte(audited)


_c = Checkin.__table__
_CHECKIN = ("session_id", "participant_id", "site_id", "at", "server_at", "device_at",
            "client_id", "by_user_id", "method", "walk_in", "flags")
_ONE_STATEMENT = {removed: _in_one_statement(removed) for removed in (False, True)}
_CHECKIN_STATEMENT = _in_one_statement(checkin=True)
_CHECKIN_INSERT = _c.insert().returning(_c.c.id)
_ADD_SQLITE = _upsert(sqlite, bindparam("version"))
_REMOVE_SQLITE = _remove(bindparam("b_version"))


def bump_version(session_id: int) -> int:
    """attendance_version + 1 in the caller's transaction (on PostgreSQL it also serialises
    the changes of one session until the commit, so versions follow the commit order)."""
    conn = db.session.connection()
    return int(conn.execute(_BUMP, {"bumped_session_id": session_id}).scalar_one())


def site_row(site_id: int, counts: Any) -> dict[str, Any]:
    """A site's row of the attendance body (without `registered`, which the push adds)."""
    female, male, unspecified, last = counts
    return {"site_id": site_id, "present": female + male + unspecified, "female": female,
            "male": male, "unspecified": unspecified,
            "last_checkin_at": last.isoformat() if last is not None else None}


TURNS = 16  # a process's writes of one session's attendance under way at once


@contextmanager
def turn(session_id: int) -> Iterator[None]:
    """Around a write that changes a session's attendance: at most TURNS of this process's
    requests write one session at once; the others wait here, for CHECKIN_WAIT_S at most,
    rather than in the database, where dozens of backends waiting for the session's row lock
    take the lock manager and the CPU its holder needs (and each holds a pooled connection
    from the read on: a check-in waits here without one, see `add_checkin`). More than one,
    so that the next write is already waiting in the database when the lock is released.
    Past the wait: Unavailable (503 with Retry-After), nothing written; the phone retries
    its queued check-in (same client_id), so nothing it was told is saved is lost."""
    state = app_state()
    with state.lock:
        gate = state.change_turns.get(session_id)
        if gate is None:
            gate = state.change_turns[session_id] = threading.BoundedSemaphore(TURNS)
    if not gate.acquire(timeout=float(current_app.config["CHECKIN_WAIT_S"])):
        raise Unavailable(gettext("Too many check-ins are being saved at once; this one was "
                                  "not saved. Try again in a few seconds."))
    try:
        yield
    finally:
        gate.release()


def change(session_id: int, site_id: int, sex: str, at: datetime | None,
           audit: dict[str, Any], *, removed: bool = False) -> tuple[int, dict[str, Any]]:
    """Count one person more (or, `removed`, one less) at a site, bump the session's
    attendance version and write `audit` (trainer.audit.services.entry) with that version in
    its details, in the caller's transaction: (the new version, the site's row).

    The bump locks the session's row until the commit (it keeps versions in commit order),
    so this comes last: everything else the command writes is written before, and the
    caller commits right after. On PostgreSQL it is one statement (one round trip with the
    row locked before the COMMIT's); SQLite takes no UPDATE inside a WITH and serialises
    writers for the whole transaction anyway (BEGIN IMMEDIATE)."""
    conn = db.session.connection()
    params: dict[str, Any] = {"session_id": session_id, "site_id": site_id, "at": at,
                              **{s: int(s == sex) for s in SEXES}}
    if removed:  # an UPDATE's parameters must not be named as its table's columns
        params = {f"b_{k}": v for k, v in params.items()}
    counts: Any
    if conn.dialect.name == "postgresql":
        row = conn.execute(_ONE_STATEMENT[removed], {
            **params, "bumped_session_id": session_id,
            **{f"a_{k}": v for k, v in audit.items()}}).one()
        version, counts = row[0], row[1:]
    else:
        version = params["b_version" if removed else "version"] = bump_version(session_id)
        counts = conn.execute(_REMOVE_SQLITE if removed else _ADD_SQLITE, params).first()
        conn.execute(AUDIT, {**audit, "details": {**audit["details"], "version": version}})
    if counts is None or counts[0] is None:  # an undo of a check-in counted before the
        counts = (0, 0, 0, None)             # counters existed
    return int(version), site_row(site_id, counts)


def add_checkin(values: dict[str, Any], sex: str,
                audit: dict[str, Any]) -> tuple[int, int, dict[str, Any]] | None:
    """Store a first check-in (`values`: its row) with its site's counters, the version bump
    and its audit entry (the check-in's id and the version added to its details), and commit:
    (its id, the new version, the site's row); None when a check-in of the participant or
    with the client_id was stored since the caller's read (then nothing is written).

    On PostgreSQL the caller's read ends first (its connection goes back to the pool while
    this waits for its turn, `turn`), and the write is one statement in autocommit mode, a
    transaction of its own: the session's row is locked inside the database only, from the
    bump to the statement's own commit, never while the database waits for this process to
    send the next statement or the COMMIT (under load, with the event loop busy with other
    requests and pushes, that wait is several times the statement's own time). On SQLite
    the statements run one after the other in the read's transaction (BEGIN IMMEDIATE:
    serial anyway), then the commit."""
    session_id, site_id = values["session_id"], values["site_id"]
    postgres = db.session.get_bind().dialect.name == "postgresql"
    if postgres:
        commit_keeping_objects()  # the read's: its connection is not held during the wait
    with turn(session_id):
        try:
            if postgres:
                # Autocommit needs the session on the engine (the server). A session bound to
                # one connection inside an outer transaction (tests that roll every request
                # back) cannot leave it: the same statement then commits at once, there.
                on_engine = isinstance(db.session.get_bind(), Engine)
                conn = db.session.connection(execution_options={
                    "isolation_level": "AUTOCOMMIT"} if on_engine else None)
                counts = {"session_id": session_id, "site_id": site_id, "at": values["at"],
                          **{s: int(s == sex) for s in SEXES}}
                row = conn.execute(_CHECKIN_STATEMENT, {
                    **counts, "bumped_session_id": session_id,
                    **{f"c_{k}": values[k] for k in _CHECKIN},
                    **{f"a_{k}": v for k, v in audit.items()}}).first()
                commit_keeping_objects()  # ends the session's transaction (nothing to commit)
                if row is None:
                    return None
                return int(row[0]), int(row[1]), site_row(site_id, row[2:])
            new_id = int(db.session.connection().execute(_CHECKIN_INSERT, values).scalar_one())
        except IntegrityError:  # e.g. the participant deleted since the read
            db.session.rollback()
            return None
        audit["details"]["checkin_id"] = new_id
        version, counted = change(session_id, site_id, sex, values["at"], audit)
        commit_keeping_objects()
        return new_id, version, counted


def rebuild(session_id: int | None = None) -> None:
    """Count the counters again from the check-ins (after a bulk load: the demo, benchmarks),
    in the caller's transaction."""
    conn = db.session.connection()
    stale = delete(_t)
    counted = (select(Checkin.session_id, Checkin.site_id,
                      *[func.sum(case((Participant.sex == Sex(s), 1), else_=0))
                        for s in SEXES],
                      func.max(Checkin.at), func.max(TrainingSession.attendance_version)
                      + literal(0))
               .join(Participant, Participant.id == Checkin.participant_id)
               .join(TrainingSession, TrainingSession.id == Checkin.session_id)
               .group_by(Checkin.session_id, Checkin.site_id))
    if session_id is not None:
        stale = stale.where(_t.c.session_id == session_id)
        counted = counted.where(Checkin.session_id == session_id)
    conn.execute(stale)
    conn.execute(insert(_t).from_select(
        ["session_id", "site_id", "female", "male", "unspecified", "last_checkin_at",
         "version"], counted))
