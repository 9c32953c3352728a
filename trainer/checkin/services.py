"""Check-in: the rules, the attendance counts, site status and presence, the roll-call of sites.

Every entry point (pages, JSON API, Socket.IO) calls these functions; they check permissions,
own the commit, and push live updates after it.

Decisions (see also docs in the API schemas):
- Idempotency: a check-in is unique per (session, participant) and per `client_id`, both
  enforced by the database. A retry (same `client_id`) or a second scan at the same site
  answers the stored check-in (created=False); a race between two requests is settled by the
  unique constraints inside a SAVEPOINT, so nothing is ever counted twice.
- Device time (`at`, offline capture): kept in Checkin.device_at beside Checkin.server_at;
  Checkin.at is the device time when given, else the server time. Flags (pretix style):
  "offline" (device time given), "late_upload" (uploaded more than 2 minutes after capture),
  "clock_skew" (device time more than 2 minutes ahead of the server, or before the session's
  check-in window opened), "after_end" (taken in the grace period after the session ended),
  "other_site_roster" (registered for this session at another site), "not_registered" (not on
  this session's roster at all). A flagged check-in counts like any other; organisers review
  them in `flagged()`.
- Attendance counts a person at the site where they checked in.
- Window: a scheduled session opens for check-in CHECKIN_OPENS_BEFORE_MIN (60) minutes before
  it starts; a live one is open; an ended one is closed, except during the session's
  `checkin_grace_minutes` after it ended, and except offline captures whose device time lies
  within the session (accepted, flagged late_upload). Refusals are 409 "checkin-closed".
- Site status shown on the wall: "offline" while no coordinator page of the site is connected
  (pages expire SITE_OFFLINE_AFTER_S after their last heartbeat or disconnect), else the
  status the coordinator reported ("online" until they report otherwise).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from flask import Flask, current_app
from flask_babel import gettext
from sqlalchemy import and_, delete, func, null, select, union, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached

from trainer import live
from trainer.audit.services import record
from trainer.auth.models import User
from trainer.auth.services import can_act_for_site, require_any, require_site, require_staff
from trainer.checkin.models import CheckinUndo, SitePresence
from trainer.dbtypes import utcnow
from trainer.errors import Conflict, Forbidden, Invalid, NotFound
from trainer.extensions import db, socketio
from trainer.fastsql import GroupCommit, commit_keeping_objects
from trainer.i18n import fmt_time
from trainer.people.models import Participant, Sex
from trainer.sessions.models import (
    Checkin,
    CheckinIssue,
    Registration,
    SessionSite,
    SessionStatus,
    SiteStatus,
    TrainingSession,
)
from trainer.sites.models import Site, SiteKind
from trainer.text import has_control_chars, nfc

log = logging.getLogger(__name__)

CLOCK_TOLERANCE = timedelta(minutes=2)
LATE_UPLOAD_AFTER = timedelta(minutes=2)

OFFLINE = "offline"
LATE_UPLOAD = "late_upload"
CLOCK_SKEW = "clock_skew"
AFTER_END = "after_end"
OTHER_SITE_ROSTER = "other_site_roster"
NOT_REGISTERED = "not_registered"
FLAGS = (OFFLINE, LATE_UPLOAD, CLOCK_SKEW, AFTER_END, OTHER_SITE_ROSTER, NOT_REGISTERED)

METHODS = ("manual", "search", "code", "scan", "camera", "walk_in", "kiosk", "api")
SITE_STATUSES = ("online", "issue", "offline")
NOTE_MAX = 500

SEXES = tuple(s.value for s in Sex)


class CheckinClosed(Conflict):
    slug = "checkin-closed"


class CheckedInElsewhere(Conflict):
    slug = "checked-in-elsewhere"


class CheckinUndone(Conflict):
    slug = "checkin-undone"


@dataclass(frozen=True)
class CheckinResult:
    checkin: Checkin
    created: bool
    version: int | None = None  # an attendance version that includes this check-in

    @property
    def participant(self) -> Participant:
        return self.checkin.participant


def pages_room(session_id: int) -> str:
    """Every coordinator page of a session (roll-call prompts go there)."""
    return f"session-{session_id}-sites"


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# --- input checks ---------------------------------------------------------------------------

def _client_id(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, uuid.UUID):
        return str(value)
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, AttributeError, TypeError):
        raise Invalid.field("client_id", gettext("Not a valid UUID.")) from None


def _device_time(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise Invalid.field("at", gettext("Not a valid date and time.")) from None
    if not isinstance(value, datetime):
        raise Invalid.field("at", gettext("Not a valid date and time."))
    if value.tzinfo is None or value.utcoffset() is None:
        raise Invalid.field("at", gettext("Give the time with its offset, e.g. "
                                          "2024-05-01T08:30:00+07:00."))
    return value


def _method(value: Any) -> str:
    value = value or "manual"
    if value not in METHODS:
        raise Invalid.field("method", gettext("Must be one of: %(values)s",
                                              values=", ".join(METHODS)))
    return str(value)


def _note(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid.field("note", gettext("Not a valid text."))
    if has_control_chars(value):
        raise Invalid.field("note", gettext("Control characters are not allowed."))
    value = nfc(value)
    if len(value) > NOTE_MAX:
        raise Invalid.field("note", gettext("At most %(n)s characters.", n=NOTE_MAX))
    return value or None


# --- sessions -------------------------------------------------------------------------------

def get_session(session_id: int) -> TrainingSession:
    s = db.session.get(TrainingSession, session_id)
    if s is None:
        raise NotFound(gettext("Unknown session."))
    return s


def _session_for_site(session_id: int, site_id: int) -> TrainingSession:
    """The session, checking that the site takes part in it (one query)."""
    takes_part = (select(SessionSite.site_id)
                  .where(SessionSite.session_id == TrainingSession.id,
                         SessionSite.site_id == site_id).exists())
    row = db.session.execute(
        select(TrainingSession, takes_part).where(TrainingSession.id == session_id)
    ).first()
    if row is None:
        raise NotFound(gettext("Unknown session."))
    if not row[1]:
        raise Invalid.field("site_id", gettext("This site does not take part in this session."))
    return row[0]


def session_for_site(actor: User | None, session_id: int, site_id: int) -> TrainingSession:
    """For a site's check-in page: the session, if the actor acts for the site and the site
    takes part (Forbidden / NotFound / Invalid otherwise)."""
    require_site(actor, site_id)
    return _session_for_site(session_id, site_id)


def checkin_window(session: TrainingSession) -> dict[str, Any]:
    """Whether check-in is open now, for a page to say so: {open, message, opens_at,
    closes_at} (closes_at only once the session has ended)."""
    now = utcnow()
    closes = None
    if session.status == SessionStatus.ENDED:
        closes = _ended_at(session) + timedelta(minutes=session.checkin_grace_minutes or 0)
    try:
        _window(session, now, None)
        message = None
    except CheckinClosed as exc:
        message = str(exc.detail)
    return {"open": message is None, "message": message,
            "opens_at": iso(_opens_at(session)), "closes_at": iso(closes)}


def session_site_ids(session_id: int) -> list[int]:
    return list(db.session.scalars(
        select(SessionSite.site_id).where(SessionSite.session_id == session_id)
        .order_by(SessionSite.site_id)))


def require_session_viewer(actor: User | None, session_id: int) -> User:
    """Organisers see every session; coordinators the sessions one of their sites is in."""
    user = require_any(actor)
    get_session(session_id)
    if user.is_staff:
        return user
    mine = set(user.site_ids)
    if not mine.intersection(session_site_ids(session_id)):
        raise Forbidden(gettext("None of your sites takes part in this session."))
    return user


def _ended_at(s: TrainingSession) -> datetime:
    """When an ended session ended: its `ended_at` when the model keeps one, else the time of
    its last change (the status change to ended)."""
    ended = getattr(s, "ended_at", None)
    return ended or s.updated_at or s.ends_at


def _opens_at(s: TrainingSession) -> datetime:
    early = int(current_app.config.get("CHECKIN_OPENS_BEFORE_MIN", 60))
    return s.starts_at - timedelta(minutes=early)


def _window(s: TrainingSession, now: datetime, device_at: datetime | None) -> list[str]:
    """Flags from the session's check-in window, or CheckinClosed."""
    opens = _opens_at(s)
    if s.status == SessionStatus.ENDED:
        end = _ended_at(s)
        closes = end + timedelta(minutes=s.checkin_grace_minutes or 0)
        if now <= closes:
            return [AFTER_END] if now > end else []
        if device_at is not None and opens <= device_at <= end:
            return []  # captured offline during the session; flagged late_upload by the times
        raise CheckinClosed(
            gettext("The session has ended: check-in closed at %(time)s.",
                    time=fmt_time(closes)), closed_at=iso(closes))
    if s.status == SessionStatus.SCHEDULED and now < opens:
        raise CheckinClosed(
            gettext("Check-in for this session opens at %(time)s.", time=fmt_time(opens)),
            opens_at=iso(opens))
    return []


def _time_flags(s: TrainingSession, server_at: datetime, device_at: datetime | None) -> list[str]:
    if device_at is None:
        return []
    flags = [OFFLINE]
    if device_at > server_at + CLOCK_TOLERANCE or device_at < _opens_at(s):
        flags.append(CLOCK_SKEW)
    if server_at - device_at > LATE_UPLOAD_AFTER:
        flags.append(LATE_UPLOAD)
    return flags


def _rowcount(result: Any) -> int:
    return int(result.rowcount)


def _bump_version(session_id: int) -> int:
    """attendance_version + 1 in the caller's transaction (it also serialises check-ins of
    one session on PostgreSQL until the commit, so versions follow the commit order)."""
    return int(db.session.execute(
        update(TrainingSession).where(TrainingSession.id == session_id)
        .values(attendance_version=TrainingSession.attendance_version + 1,
                updated_at=TrainingSession.updated_at)
        .returning(TrainingSession.attendance_version)
        .execution_options(synchronize_session=False)
    ).scalar_one())


def _current_version(session_id: int) -> int | None:
    """The session's attendance version now (read after the check-in it answers for was
    found, so it includes that check-in)."""
    return db.session.scalar(select(TrainingSession.attendance_version)
                             .where(TrainingSession.id == session_id))


# --- check-in -------------------------------------------------------------------------------

def checkin_body(c: Checkin) -> dict[str, Any]:
    """The API.md body: {"id", "participant_id", "site_id", "at"} (plus a few extras)."""
    return {"id": c.id, "participant_id": c.participant_id, "site_id": c.site_id,
            "at": c.at, "server_at": c.server_at, "device_at": c.device_at,
            "flags": list(c.flags or []), "walk_in": c.walk_in, "method": c.method}


def _participant_query(session_id: int, participant_id: int | None, code: str | None,
                       client_id: str | None) -> Any:
    from trainer.people.services import normalise_code

    stmt = (
        select(Participant, Checkin, Registration.site_id,
               select(CheckinUndo.id).where(CheckinUndo.client_id == client_id)
               .scalar_subquery() if client_id else null())
        .outerjoin(Checkin, and_(Checkin.participant_id == Participant.id,
                                 Checkin.session_id == session_id))
        .outerjoin(Registration, and_(Registration.participant_id == Participant.id,
                                      Registration.session_id == session_id))
    )
    if participant_id is not None:
        stmt = stmt.where(Participant.id == participant_id)
    if code is not None:
        stmt = stmt.where(Participant.code == normalise_code(code))
    return db.session.execute(stmt).first()


def _issue(session_id: int, *, site_id: int, reason: str, participant_id: int | None,
           client_id: str | None, device_at: datetime | None, user: User,
           details: dict[str, Any]) -> None:
    """A CheckinIssue for organisers (once per client_id and reason) and its audit entry."""
    if client_id is not None and db.session.scalar(
            select(CheckinIssue.id).where(CheckinIssue.client_id == client_id,
                                          CheckinIssue.reason == reason)) is not None:
        return
    db.session.add(CheckinIssue(
        session_id=session_id, participant_id=participant_id, site_id=site_id,
        client_id=client_id, reason=reason, device_at=device_at, by_user_id=user.id,
        details=details))
    record(f"checkin_{reason}", user_id=user.id, session_id=session_id, site_id=site_id,
           participant_id=participant_id, client_id=client_id, device_at=iso(device_at),
           **details)
    db.session.commit()


def _answer_existing(user: User, session_id: int, site_id: int, existing: Checkin,
                     participant: Participant, client_id: str | None,
                     device_at: datetime | None) -> CheckinResult:
    """A participant already checked in: the same check-in again (200) or elsewhere (409)."""
    if existing.site_id == site_id or (client_id is not None and existing.client_id == client_id):
        return CheckinResult(existing, False, _current_version(session_id))
    site = db.session.get(Site, existing.site_id)
    site_name = site.name if site else str(existing.site_id)
    if client_id is not None or device_at is not None:
        _issue(session_id, site_id=site_id, reason="conflict", participant_id=participant.id,
               client_id=client_id, device_at=device_at, user=user,
               details={"other_site_id": existing.site_id, "other_checkin_id": existing.id,
                        "other_at": iso(existing.at)})
    if not can_act_for_site(user, participant.site_id):
        # another site's person (a walk-in, or ids tried one after another): no name, site
        # or time of theirs
        raise CheckedInElsewhere(gettext(
            "This person is already checked in at another site in this session."))
    raise CheckedInElsewhere(
        gettext("%(name)s is already checked in at %(site)s (%(time)s).",
                name=participant.full_name, site=site_name, time=fmt_time(existing.at)),
        site_id=existing.site_id, site_name=site_name, checkin_at=iso(existing.at),
        checkin_id=existing.id, participant_id=participant.id)


def _check_window(user: User, s: TrainingSession, site_id: int, now: datetime,
                  device_at: datetime | None, client_id: str | None,
                  participant_id: int | None) -> list[str]:
    try:
        return _window(s, now, device_at)
    except CheckinClosed as exc:
        if device_at is not None:  # an offline upload refused: organisers should see it
            _issue(s.id, site_id=site_id, reason="closed", participant_id=participant_id,
                   client_id=client_id, device_at=device_at, user=user,
                   details={"message": str(exc.detail)})
        raise


def _existing_after_race(session_id: int, participant_id: int,
                         client_id: str | None) -> Checkin | None:
    cond = and_(Checkin.session_id == session_id, Checkin.participant_id == participant_id)
    found = db.session.scalar(select(Checkin).where(cond))
    if found is None and client_id is not None:
        other = db.session.scalar(select(Checkin).where(Checkin.client_id == client_id))
        if other is not None:
            raise Invalid.field("client_id", gettext(
                "This client_id was already used for another check-in."))
    return found


# --- the check-in fast path -----------------------------------------------------------------
# A first check-in (the common case at the door) in four statements run through
# trainer.fastsql (no ORM): one read of everything the rules need, the version bump, the
# insert, the audit entry. Anything unusual (unknown person or site, already checked in, an
# undone client_id, check-in closed, a race) rolls back and takes the general path below,
# which gives the answer and the error messages.

@dataclass
class _SessionTimes:
    """What _window and _time_flags read of a TrainingSession."""

    id: int
    status: SessionStatus
    starts_at: datetime
    ends_at: datetime
    updated_at: datetime | None
    checkin_grace_minutes: int
    ended_at: datetime | None = None


def _fast_statements() -> dict[str, Any]:
    from sqlalchemy import bindparam, exists, insert, literal, true

    from trainer.audit.models import AuditEntry
    from trainer.fastsql import Prepared

    s, p = TrainingSession, Participant
    sid: Any = bindparam("session_id")
    pid: Any = bindparam("participant_id")
    ended_at = getattr(s, "ended_at", None)  # read by _ended_at when the model keeps one

    def read(where: Any) -> Prepared:
        return Prepared(
            select(s.status, s.starts_at, s.ends_at, s.updated_at, s.checkin_grace_minutes,
                   exists().where(SessionSite.session_id == s.id,
                                  SessionSite.site_id == bindparam("site_id")),
                   p.id, p.code, p.full_name, p.sex, p.unit, p.position, p.site_id,
                   select(Checkin.id).where(Checkin.session_id == s.id,
                                            Checkin.participant_id == p.id).scalar_subquery(),
                   select(Registration.site_id).where(
                       Registration.session_id == s.id,
                       Registration.participant_id == p.id).scalar_subquery(),
                   select(CheckinUndo.id).where(
                       CheckinUndo.client_id == bindparam("client_id")).limit(1)
                   .scalar_subquery(),
                   ended_at if ended_at is not None else null())
            .select_from(s).join(p, true()).where(s.id == sid, where))

    checkin = Checkin.__table__
    audit = AuditEntry.__table__
    return {
        "by_id": read(p.id == pid),
        "by_code": read(p.code == bindparam("code")),
        "bump": Prepared(
            update(s).where(s.id == sid)
            .values(attendance_version=s.attendance_version + literal(1),
                    updated_at=s.updated_at)
            .returning(s.attendance_version)),
        "insert": Prepared(insert(checkin).returning(checkin.c.id).values(
            {c: bindparam(c) for c in ("session_id", "participant_id", "site_id", "at",
                                       "server_at", "device_at", "client_id", "by_user_id",
                                       "method", "walk_in", "flags")})),
        "audit": Prepared(insert(audit).values(
            {c: bindparam(c) for c in ("at", "user_id", "action", "session_id", "site_id",
                                       "participant_id", "address", "details")})),
        "write:postgresql": _write_postgresql(),
    }


def _write_postgresql() -> Any:
    """PostgreSQL: the check-in, the version bump and the audit entry in one statement. The
    bump locks the session's row until the commit, so every round trip between it and the
    commit is time in which no other check-in of the session can commit (and under load the
    server is slow to come back to a request between round trips): this leaves one. The audit
    details are those record() writes."""
    from sqlalchemy import JSON, Boolean, Integer, String, bindparam, cast, func, insert, true

    from trainer.audit.models import AuditEntry
    from trainer.dbtypes import UTCDateTime
    from trainer.fastsql import Prepared

    s = TrainingSession
    checkin, audit = Checkin.__table__, AuditEntry.__table__
    c = (insert(checkin).values(
        session_id=bindparam("session_id", type_=Integer),
        participant_id=bindparam("participant_id", type_=Integer),
        site_id=bindparam("site_id", type_=Integer), at=bindparam("at", type_=UTCDateTime),
        server_at=bindparam("server_at", type_=UTCDateTime),
        device_at=bindparam("device_at", type_=UTCDateTime),
        client_id=bindparam("client_id", type_=String),
        by_user_id=bindparam("by_user_id", type_=Integer),
        method=bindparam("method", type_=String), walk_in=bindparam("walk_in", type_=Boolean),
        flags=bindparam("flags", type_=JSON)).returning(checkin.c.id).cte("c"))
    v = (update(s).where(s.id == bindparam("session_id", type_=Integer))
         .values(attendance_version=s.attendance_version + 1, updated_at=s.updated_at)
         .returning(s.attendance_version).cte("v"))
    details = func.json_strip_nulls(func.json_build_object(
        "checkin_id", c.c.id,
        "client_id", bindparam("client_id", type_=String),
        "device_at", bindparam("device_at_iso", type_=String),
        "server_at", bindparam("server_at_iso", type_=String),
        "flags", cast(bindparam("flags_json", type_=String), JSON),
        "method", bindparam("method", type_=String),
        "version", v.c.attendance_version), type_=JSON)
    columns = select(bindparam("server_at", type_=UTCDateTime),
                     bindparam("by_user_id", type_=Integer), bindparam("action", type_=String),
                     bindparam("session_id", type_=Integer), bindparam("site_id", type_=Integer),
                     bindparam("participant_id", type_=Integer),
                     bindparam("address", type_=String), details
                     ).select_from(c).join(v, true())
    return Prepared(insert(audit).from_select(
        ["at", "user_id", "action", "session_id", "site_id", "participant_id", "address",
         "details"], columns).returning(audit.c.details))


_FAST: dict[str, Any] = {}


@dataclass
class _Job:
    """One check-in for the fast path; `out` is filled when it was written."""

    user_id: int
    session_id: int
    site_id: int
    participant_id: int | None
    code: str | None
    client_id: str | None
    device_at: datetime | None
    method: str
    address: str | None
    out: dict[str, Any] | None = None


def _write_job(job: _Job, conn: Any) -> None:
    """Read what the rules need and write the check-in in the open transaction, or leave
    `job.out` None (nothing written) for the general path. On SQLite a failed INSERT undoes
    only itself; on PostgreSQL the IntegrityError goes to the caller, which rolls back."""
    params = {"session_id": job.session_id, "site_id": job.site_id,
              "client_id": job.client_id}
    if job.participant_id is not None:
        row = _FAST["by_id"].first({**params, "participant_id": job.participant_id}, conn)
    else:
        row = _FAST["by_code"].first({**params, "code": job.code}, conn)
    if row is None:
        return
    (status, starts_at, ends_at, updated_at, grace, takes_part, p_id, code, full_name, sex,
     unit, position, p_site_id, existing_id, registered_site_id, undone_id, ended) = row
    if not takes_part or existing_id is not None or undone_id is not None:
        return
    times = _SessionTimes(job.session_id, SessionStatus(status), starts_at, ends_at,
                          updated_at, grace or 0, ended)
    now = utcnow()
    try:
        flags = _window(times, now, job.device_at)  # type: ignore[arg-type]
    except CheckinClosed:
        return
    flags = _time_flags(times, now, job.device_at) + flags  # type: ignore[arg-type]
    if registered_site_id is None:
        flags.append(NOT_REGISTERED)
    elif registered_site_id != job.site_id:
        flags.append(OTHER_SITE_ROSTER)
    values = {"session_id": job.session_id, "participant_id": p_id, "site_id": job.site_id,
              "at": job.device_at or now, "server_at": now, "device_at": job.device_at,
              "client_id": job.client_id, "by_user_id": job.user_id, "method": job.method,
              "walk_in": False, "flags": flags}
    if conn.dialect.name == "postgresql":
        stored = _FAST["write:postgresql"].all({  # an IntegrityError: the caller rolls back
            **values, "device_at_iso": iso(job.device_at), "server_at_iso": iso(now),
            "flags_json": json.dumps(flags) if flags else None, "action": "checkin",
            "address": job.address}, conn)[0][0]
        new_id, version = int(stored["checkin_id"]), int(stored["version"])
    else:
        try:
            new_id = int(_FAST["insert"].all(values, conn)[0][0])
        except IntegrityError:  # a race with another request: the general path settles it
            return
        # The bump after the insert: the audit entry below carries the version, and it is
        # the audit ids that attendance_push follows (they come after the bump on every path).
        version = int(_FAST["bump"].all({"session_id": job.session_id}, conn)[0][0])
        details = {"checkin_id": new_id, "client_id": job.client_id,
                   "device_at": iso(job.device_at), "server_at": iso(now),
                   "flags": flags or None, "method": job.method, "version": version}
        _FAST["audit"].all({
            "at": now, "user_id": job.user_id, "action": "checkin",
            "session_id": job.session_id, "site_id": job.site_id, "participant_id": p_id,
            "address": job.address,
            "details": {k: v for k, v in details.items() if v is not None}}, conn)
    job.out = {"values": values, "id": new_id, "version": version,
               "registered_site_id": registered_site_id,
               "participant": SimpleNamespace(id=p_id, code=code, full_name=full_name,
                                              sex=Sex(sex), unit=unit, position=position,
                                              site_id=p_site_id)}


def _write_autocommit(job: _Job) -> None:
    """PostgreSQL: the read and the one-statement write (see _write_postgresql) each run as a
    transaction of their own. The write is atomic by itself, and a race between the two ends
    in the unique index (the general path settles it) exactly as it would inside one READ
    COMMITTED transaction; but the session's row, which the version bump locks, is now held
    only while that statement runs, not until a COMMIT one more round trip later, and BEGIN
    and COMMIT cost no round trips: every check-in of a session queues on that lock. The
    session holds no transaction here (_fast_check_in ended it before queueing)."""
    conn = db.session.connection()
    raw: Any = conn.connection.dbapi_connection
    raw.autocommit = True  # idle here, so psycopg switches without a round trip
    try:
        _write_job(job, conn)
    finally:
        raw.autocommit = False
    commit_keeping_objects()


def _write_jobs(jobs: list[_Job]) -> None:
    """One transaction for `jobs` (a lone check-in on PostgreSQL: _write_autocommit); on a
    database error nothing is kept and every job is left to the general path, which then
    answers the error, or the race (two phones scanning one person at once)."""
    try:
        if len(jobs) == 1 and db.engine.dialect.name == "postgresql":
            _write_autocommit(jobs[0])
            return
        conn = db.session.connection()
        for job in jobs:
            _write_job(job, conn)
        if any(job.out for job in jobs):
            commit_keeping_objects()
        else:
            db.session.rollback()
    except Exception as exc:  # noqa: BLE001
        db.session.rollback()
        for job in jobs:
            job.out = None
        if len(jobs) == 1:
            return
        if isinstance(exc, IntegrityError):
            log.info("a race in a batch of %d check-ins; each takes the general path",
                     len(jobs))
        else:
            log.exception("a batch of %d check-ins failed; each takes the general path",
                          len(jobs))


_group_commit = GroupCommit()  # see trainer.fastsql.GroupCommit


def _fast_check_in(user: User, session_id: int, site_id: int, participant_id: int | None,
                   participant_code: str | None, client_id: str | None,
                   device_at: datetime | None, method: str) -> CheckinResult | None:
    """The check-in committed, or None (nothing written) for the general path to handle."""
    from flask import has_request_context, request

    from trainer.people.services import normalise_code

    if not _FAST:
        _FAST.update(_fast_statements())
    if participant_id is not None and participant_code:
        return None  # both given: the general path checks they agree
    job = _Job(user.id, session_id, site_id, participant_id,
               None if participant_id is not None else normalise_code(participant_code or ""),
               client_id, device_at, method,
               request.remote_addr if has_request_context() else None)
    if db.session().in_transaction():  # never wait for the leader holding a connection
        commit_keeping_objects()
    _group_commit.run(job, _write_jobs)
    out = job.out
    if out is None:
        return None
    values, participant = out["values"], out["participant"]
    # What was stored, as plain objects with the models' attribute names (the answer and the
    # events read only these): cheaper than ORM instances.
    checkin: Any = SimpleNamespace(id=out["id"], participant=participant, **values)
    registered = out["registered_site_id"]
    sites = {site_id} | ({registered} if registered else set())
    _after_change(session_id, "checkin", _checkin_event(checkin, participant), sites)
    return CheckinResult(checkin, True, out["version"])


def check_in(actor: User | None, session_id: int, *, site_id: int,
             participant_id: int | None = None, participant_code: str | None = None,
             client_id: Any = None, at: Any = None, method: str | None = "manual") -> CheckinResult:
    """Check a participant in at a site. created=False: already checked in there (or the same
    client_id again). Raises Forbidden, NotFound, CheckedInElsewhere (409), CheckinClosed (409),
    CheckinUndone (409: this client_id's check-in was undone since), Invalid."""
    user = require_site(actor, site_id)
    client_id = _client_id(client_id)
    device_at = _device_time(at)
    method = _method(method)
    if participant_id is None and not participant_code:
        raise Invalid.field("participant_id",
                            gettext("Give a participant_id or a participant_code."))
    fast = _fast_check_in(user, session_id, site_id, participant_id, participant_code,
                          client_id, device_at, method)
    if fast is not None:
        return fast
    s = _session_for_site(session_id, site_id)
    row = _participant_query(session_id, participant_id, participant_code, client_id)
    if row is None:
        if device_at is not None:
            _issue(session_id, site_id=site_id, reason="unknown_participant",
                   participant_id=None, client_id=client_id, device_at=device_at, user=user,
                   details={"requested_participant_id": participant_id,
                            "code": participant_code})
        if participant_code and participant_id is None:
            raise NotFound(gettext("No participant has the code %(code)s.",
                                   code=participant_code), code=participant_code)
        raise NotFound(gettext("Unknown participant."))
    participant, existing, registered_site_id, undone_id = row
    if existing is not None:
        return _answer_existing(user, session_id, site_id, existing, participant, client_id,
                                device_at)
    if undone_id is not None:
        raise CheckinUndone(gettext("This check-in was undone. Check the person in again "
                                    "if they are here."))
    now = utcnow()
    flags = _check_window(user, s, site_id, now, device_at, client_id, participant.id)
    flags = _time_flags(s, now, device_at) + flags
    if registered_site_id is None:
        flags.append(NOT_REGISTERED)
    elif registered_site_id != site_id:
        flags.append(OTHER_SITE_ROSTER)
    values = {"session_id": session_id, "participant_id": participant.id, "site_id": site_id,
              "at": device_at or now, "server_at": now, "device_at": device_at,
              "client_id": client_id, "by_user_id": user.id, "method": method,
              "walk_in": False, "flags": flags}
    table = Checkin.__table__
    try:
        with db.session.begin_nested():
            new_id = db.session.execute(
                table.insert().values(**values).returning(table.c.id)).scalar_one()
    except IntegrityError:
        found = _existing_after_race(session_id, participant.id, client_id)
        if found is None:
            raise Conflict(gettext("The check-in could not be saved; please try again.")) \
                from None
        return _answer_existing(user, session_id, site_id, found, participant, client_id,
                                device_at)
    checkin = Checkin(id=new_id, **values)  # what was inserted, without reading it back
    checkin.participant = participant
    make_transient_to_detached(checkin)
    db.session.add(checkin)
    version = _bump_version(session_id)
    record("checkin", user_id=user.id, session_id=session_id, site_id=site_id,
           participant_id=participant.id, checkin_id=new_id, client_id=client_id,
           device_at=iso(device_at), server_at=iso(now), flags=flags or None, method=method,
           version=version)
    commit_keeping_objects()
    sites = {site_id} | ({registered_site_id} if registered_site_id else set())
    _after_change(session_id, "checkin", _checkin_event(checkin, participant), sites)
    return CheckinResult(checkin, True, version)


def _checkin_event(c: Checkin, p: Participant) -> dict[str, Any]:
    return {"session_id": c.session_id, "site_id": c.site_id, "participant_id": c.participant_id,
            "checkin_id": c.id, "at": iso(c.at), "full_name": p.full_name, "code": p.code,
            "walk_in": c.walk_in}


def _after_change(session_id: int, event: str, payload: dict[str, Any],
                  site_ids: Iterable[int]) -> None:
    """After the commit: the attendance push (coalesced) and the event to the site rooms."""
    live.schedule(session_id, "attendance", lambda: _attendance_message(session_id))
    for site_id in site_ids:
        try:
            live.emit(session_id, event, payload, site_id=site_id)
        except Exception:  # noqa: BLE001 - a push must never undo a committed check-in
            log.exception("could not push %s for session %s", event, session_id)


def undo(actor: User | None, session_id: int, checkin_id: int) -> None:
    """Undo a check-in (kept in the audit log). Repeating it is harmless (204 again)."""
    user = require_any(actor)
    c = db.session.get(Checkin, checkin_id)
    if c is None or c.session_id != session_id:
        gone = db.session.scalar(select(CheckinUndo).where(
            CheckinUndo.checkin_id == checkin_id, CheckinUndo.session_id == session_id))
        if gone is None:
            raise NotFound(gettext("Unknown check-in."))
        require_site(user, gone.site_id)
        return
    require_site(user, c.site_id)
    s = get_session(session_id)
    if not user.is_staff:
        _window(s, utcnow(), None)
    registered_site_id = db.session.scalar(select(Registration.site_id).where(
        Registration.session_id == session_id, Registration.participant_id == c.participant_id))
    snapshot = {"checkin_id": c.id, "client_id": c.client_id, "at": iso(c.at),
                "device_at": iso(c.device_at), "server_at": iso(c.server_at),
                "flags": list(c.flags or []) or None, "checked_in_by": c.by_user_id,
                "method": c.method, "walk_in": c.walk_in}
    event = {"session_id": session_id, "site_id": c.site_id, "participant_id": c.participant_id,
             "checkin_id": c.id}
    site_id, participant_id = c.site_id, c.participant_id
    deleted = _rowcount(db.session.execute(
        delete(Checkin).where(Checkin.id == checkin_id)
        .execution_options(synchronize_session=False)))
    if not deleted:  # undone by someone else meanwhile
        db.session.rollback()
        return
    db.session.expunge(c)
    db.session.add(CheckinUndo(session_id=session_id, checkin_id=checkin_id,
                               participant_id=participant_id, site_id=site_id,
                               client_id=snapshot["client_id"],
                               checked_in_at=c.at, by_user_id=user.id))
    version = _bump_version(session_id)
    record("checkin_undone", user_id=user.id, session_id=session_id, site_id=site_id,
           participant_id=participant_id, version=version, **snapshot)
    db.session.commit()
    sites = {site_id} | ({registered_site_id} if registered_site_id else set())
    _after_change(session_id, "checkin_undone", event, sites)


def walk_in(actor: User | None, session_id: int, *, site_id: int, full_name: Any, sex: Any,
            unit: Any = None, position: Any = None, phone: Any = None, birth_year: Any = None,
            client_id: Any = None, at: Any = None) -> CheckinResult:
    """Register a person who was not on any list, at this site, and check them in, in one
    step. The same client_id again answers the first walk-in (created=False)."""
    from trainer.people import services as people

    user = require_site(actor, site_id)
    client_id = _client_id(client_id)
    device_at = _device_time(at)
    s = _session_for_site(session_id, site_id)
    if client_id is not None:
        existing = db.session.scalar(select(Checkin).where(Checkin.client_id == client_id))
        if existing is not None:
            if existing.session_id != session_id:
                raise Invalid.field("client_id", gettext(
                    "This client_id was already used for another check-in."))
            return CheckinResult(existing, False, _current_version(session_id))
        if db.session.scalar(select(CheckinUndo.id).where(CheckinUndo.client_id == client_id)):
            raise CheckinUndone(gettext("This check-in was undone. Check the person in again "
                                        "if they are here."))
    data = {"full_name": full_name, "sex": sex, "site_id": site_id, "unit": unit,
            "position": position, "phone": phone, "birth_year": birth_year}
    people.validate(data)  # field errors before anything is written
    now = utcnow()
    flags = _check_window(user, s, site_id, now, device_at, client_id, None)
    flags = _time_flags(s, now, device_at) + flags
    try:
        with db.session.begin_nested():
            participant = people.create(user, data, commit=False)
            db.session.add(Registration(session_id=session_id, participant_id=participant.id,
                                        site_id=site_id, walk_in=True))
            checkin = Checkin(session_id=session_id, participant_id=participant.id,
                              site_id=site_id, at=device_at or now, server_at=now,
                              device_at=device_at, client_id=client_id, by_user_id=user.id,
                              method="walk_in", walk_in=True, flags=flags)
            db.session.add(checkin)
    except IntegrityError:
        found = (db.session.scalar(select(Checkin).where(Checkin.client_id == client_id))
                 if client_id else None)
        if found is None:
            raise Conflict(gettext("The walk-in could not be saved; please try again.")) \
                from None
        return CheckinResult(found, False, _current_version(session_id))
    version = _bump_version(session_id)
    record("walk_in", user_id=user.id, session_id=session_id, site_id=site_id,
           participant_id=participant.id, checkin_id=checkin.id, client_id=client_id,
           device_at=iso(device_at), server_at=iso(now), flags=flags or None,
           full_name=participant.full_name, code=participant.code, version=version)
    commit_keeping_objects()
    _after_change(session_id, "checkin", _checkin_event(checkin, participant), {site_id})
    return CheckinResult(checkin, True, version)


# --- attendance -----------------------------------------------------------------------------

def _zero() -> dict[str, Any]:
    return {"registered": 0, "present": 0, "female": 0, "male": 0, "unspecified": 0}


def _counts(session_id: int, site_ids: Iterable[int] | None = None
            ) -> tuple[dict[int, dict[str, Any]], dict[int, datetime]]:
    """Registered and present (by sex) per site, and the last check-in time per site:
    two GROUP BY queries."""
    reg = select(Registration.site_id, func.count()).where(
        Registration.session_id == session_id).group_by(Registration.site_id)
    present = (select(Checkin.site_id, Participant.sex, func.count(), func.max(Checkin.at))
               .join(Participant, Participant.id == Checkin.participant_id)
               .where(Checkin.session_id == session_id)
               .group_by(Checkin.site_id, Participant.sex))
    if site_ids is not None:
        ids = list(site_ids)
        reg = reg.where(Registration.site_id.in_(ids))
        present = present.where(Checkin.site_id.in_(ids))
    out: dict[int, dict[str, Any]] = {}
    last: dict[int, datetime] = {}
    for site_id, n in db.session.execute(reg):
        out.setdefault(site_id, _zero())["registered"] = n
    for site_id, sex, n, latest in db.session.execute(present):
        row = out.setdefault(site_id, _zero())
        row[Sex(sex).value] += n
        row["present"] += n
        if latest is not None and (site_id not in last or latest > last[site_id]):
            last[site_id] = latest
    return out, last


def attendance(session_id: int, site_ids: Iterable[int] | None = None) -> dict[str, Any]:
    """The API.md attendance body, read from the database, with its version.

    The version is read before the counts, so the counts are never older than the version
    says (a client keeps the newest version; a later push can only carry more)."""
    version = db.session.scalar(select(TrainingSession.attendance_version)
                                .where(TrainingSession.id == session_id))
    if version is None:
        raise NotFound(gettext("Unknown session."))
    wanted = None if site_ids is None else set(site_ids)
    ids = [i for i in session_site_ids(session_id) if wanted is None or i in wanted]
    counts, last = _counts(session_id, ids if wanted is not None else None)
    for extra in sorted(set(counts) - set(ids)):  # e.g. a site removed after its check-ins
        if wanted is None or extra in wanted:
            ids.append(extra)
    totals = _zero()
    sites = []
    for site_id in ids:
        row = counts.get(site_id) or _zero()
        for key in totals:
            totals[key] += row[key]
        sites.append({"site_id": site_id, **row, "last_checkin_at": iso(last.get(site_id))})
    return {"session_id": session_id, "version": int(version), "sites": sites,
            "totals": totals}


def watch(actor: User | None, session_id: int) -> dict[str, Any]:
    """What a watcher (the wall, a projector, a script) gets on `watch`: the attendance."""
    require_session_viewer(actor, session_id)
    return attendance(session_id)


# --- live attendance pushes: only the sites that changed -----------------------------------
# API.md lets an `attendance` push carry "all sites or only the sites that changed". With
# 1,000 sites a full body is about 130 kB: four pushes a second to 1,000 watchers would be
# more than a server process can send. So each process pushes, per session, the sites changed
# since its own previous push, with their counts read from the database and totals kept from
# its last full body plus those changes.
# The changed sites come from the audit entries of check-ins, walk-ins and undos: they are
# written after the version bump, which holds the session's row until the commit (and SQLite
# has one writer), so their ids follow the commit order of one session's changes. A push whose
# version is newer than a watcher's therefore covers every change the watcher has not seen,
# whichever process made it, as long as the watcher joined the room before it read its
# snapshot (events.on_watch).
# The first push of a process carries every site, unless the process serves alone (no
# REDIS_URL): then its state starts from the first watcher's snapshot (watch_snapshot), so
# that 5,000 screens are not sent 1,000 sites each. Registrations added without a check-in
# change a site's `registered` in the next push that carries that site (the total at once);
# LIVE_FULL_EVERY_S > 0 also sends every site that often.

ATTENDANCE_ACTIONS = frozenset({"checkin", "walk_in", "checkin_undone"})


@dataclass
class _PushState:
    created_at: datetime | None  # tells a session apart from an earlier one with its id
    version: int
    audit_id: int
    sites: dict[int, dict[str, Any]]
    full_at: float
    lock: threading.Lock = field(default_factory=threading.Lock)


_push_states: dict[tuple[int, int], _PushState] = {}  # (app, session) -> state


def _last_attendance_audit_id(session_id: int) -> int:
    from trainer.audit.models import AuditEntry

    return int(db.session.scalar(
        select(func.max(AuditEntry.id)).where(AuditEntry.session_id == session_id,
                                              AuditEntry.action.in_(ATTENDANCE_ACTIONS)))
        or 0)


def attendance_push(session_id: int) -> dict[str, Any] | None:
    """This process's next `attendance` push for a session: the full body the first time and
    every LIVE_FULL_EVERY_S seconds, else the sites changed since its previous push (None when
    nothing changed since)."""
    from trainer.audit.models import AuditEntry

    every = float(current_app.config.get("LIVE_FULL_EVERY_S", 0))
    key = (id(current_app._get_current_object()), session_id)  # type: ignore[attr-defined]
    state = _push_states.get(key)
    head = db.session.execute(select(TrainingSession.attendance_version,
                                     TrainingSession.created_at)
                              .where(TrainingSession.id == session_id)).first()
    if head is None:
        raise NotFound(gettext("Unknown session."))
    version, created_at = head
    if (state is None or (every > 0 and time.monotonic() - state.full_at > every)
            or state.created_at != created_at or version < state.version):
        audit_id = _last_attendance_audit_id(session_id)  # read first: later ones are new
        body = attendance(session_id)
        _push_states[key] = _PushState(
            created_at, body["version"], audit_id,
            {r["site_id"]: dict(r) for r in body["sites"]}, time.monotonic())
        return body
    with state.lock:
        if version <= state.version:
            return None  # this process's previous push already carried it
        # `session_id + 0`: walk the primary key from the last id, not the session's index
        rows = db.session.execute(
            select(AuditEntry.id, AuditEntry.site_id, AuditEntry.action)
            .where(AuditEntry.id > state.audit_id,
                   AuditEntry.session_id + 0 == session_id)).all()
        changed: set[int] = set()
        top = state.audit_id
        for audit_id, site_id, action in rows:
            if action in ATTENDANCE_ACTIONS:
                top = max(top, audit_id)
                if site_id is not None:
                    changed.add(site_id)
        counts, last = _counts(session_id, changed) if changed else ({}, {})
        sites = []
        for site_id in sorted(changed):
            row = {"site_id": site_id, **(counts.get(site_id) or _zero()),
                   "last_checkin_at": iso(last.get(site_id))}
            state.sites[site_id] = row
            sites.append(row)
        totals = _zero()
        for row in state.sites.values():
            for name in totals:
                totals[name] += row[name]
        totals["registered"] = int(db.session.scalar(  # also registrations made meanwhile
            select(func.count()).select_from(Registration)
            .where(Registration.session_id == session_id)) or 0)
        state.version, state.audit_id = int(version), top
        return {"session_id": session_id, "version": int(version), "sites": sites,
                "totals": totals}


_snapshots: dict[tuple[int, int], tuple[float, Any, dict[str, Any]]] = {}


_building: dict[tuple[int, int], threading.Event] = {}


def _shared_snapshot(key: tuple[int, int], head: Any, ttl: float) -> dict[str, Any] | None:
    """A body another watcher read that includes everything up to `head` (read after this
    watcher joined the room): the cached one, or the one being read right now (waited for,
    without holding a database connection: 1,000 screens joining at once read it once)."""
    for _ in range(2):
        hit = _snapshots.get(key)
        if hit is not None and time.monotonic() - hit[0] < ttl and hit[1] == head[1] \
                and hit[2]["version"] >= head[0]:
            return hit[2]
        building = _building.get(key)
        if building is None:
            return None
        db.session.commit()  # give the connection back while waiting
        building.wait(timeout=10)
    return None


def watch_snapshot(session_id: int) -> dict[str, Any]:
    """The attendance body for a watcher that has just joined. Watchers that join while the
    version stays the same share one read for LIVE_SNAPSHOT_CACHE_S seconds (default 1; 0
    under tests): 5,000 screens reconnecting at once read the counts once, not 5,000 times."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    key = (id(app), session_id)
    head = db.session.execute(select(TrainingSession.attendance_version,
                                     TrainingSession.created_at)
                              .where(TrainingSession.id == session_id)).first()
    if head is None:
        raise NotFound(gettext("Unknown session."))
    ttl = float(app.config.get("LIVE_SNAPSHOT_CACHE_S", 0 if app.testing else 1.0))
    body = _shared_snapshot(key, head, ttl) if ttl > 0 else None
    if body is not None:
        return body
    state = _push_states.get(key)
    seed = not app.config.get("REDIS_URL") and (
        state is None or state.created_at != head[1] or state.version > head[0])
    audit_id = _last_attendance_audit_id(session_id) if seed else 0  # before the counts
    building = threading.Event()
    _building[key] = building
    try:
        body = attendance(session_id)
        _snapshots[key] = (time.monotonic(), head[1], body)
    finally:
        _building.pop(key, None)
        building.set()
    if seed:  # alone: this process's pushes continue from this snapshot
        _push_states[key] = _PushState(
            head[1], body["version"], audit_id,
            {r["site_id"]: dict(r) for r in body["sites"]}, time.monotonic())
    return body


def _attendance_message(session_id: int) -> tuple[str, dict[str, Any]] | None:
    body = attendance_push(session_id)
    return None if body is None else ("attendance", body)


# --- roster ---------------------------------------------------------------------------------

def roster(actor: User | None, session_id: int, site_id: int) -> list[dict[str, Any]]:
    """The people expected at a site (registered there) and the people checked in there,
    sorted the Vietnamese way, with their check-in if any (possibly at another site)."""
    require_site(actor, site_id)
    _session_for_site(session_id, site_id)
    ids = union(
        select(Registration.participant_id).where(Registration.session_id == session_id,
                                                  Registration.site_id == site_id),
        select(Checkin.participant_id).where(Checkin.session_id == session_id,
                                             Checkin.site_id == site_id),
    )
    stmt = (
        select(Participant, Registration.site_id, Registration.walk_in, Checkin.id, Checkin.at,
               Checkin.site_id, Checkin.flags)
        .outerjoin(Registration, and_(Registration.participant_id == Participant.id,
                                      Registration.session_id == session_id))
        .outerjoin(Checkin, and_(Checkin.participant_id == Participant.id,
                                 Checkin.session_id == session_id))
        .where(Participant.id.in_(select(ids.subquery().c[0])))
        .order_by(Participant.sort_key, Participant.id)
    )
    rows = []
    for p, reg_site, walk, c_id, c_at, c_site, c_flags in db.session.execute(stmt):
        rows.append({
            "participant_id": p.id, "code": p.code, "full_name": p.full_name,
            "sex": p.sex.value, "unit": p.unit, "position": p.position,
            "site_id": reg_site if reg_site is not None else p.site_id,
            "registered": reg_site is not None, "walk_in": bool(walk),
            "checkin_id": c_id, "checked_in_at": iso(c_at), "checkin_site_id": c_site,
            "present": c_id is not None and c_site == site_id,
            "flags": list(c_flags or []),
        })
    return rows


# --- site status and presence ---------------------------------------------------------------

def _offline_after() -> timedelta:
    return timedelta(seconds=float(current_app.config.get("SITE_OFFLINE_AFTER_S", 30)))


def _connected_sites(session_id: int, site_ids: Iterable[int] | None = None
                     ) -> dict[int, datetime]:
    """Site -> last time one of its pages was seen, for sites with a page seen recently."""
    stmt = (select(SitePresence.site_id, func.max(SitePresence.last_seen))
            .where(SitePresence.session_id == session_id,
                   SitePresence.last_seen >= utcnow() - _offline_after())
            .group_by(SitePresence.site_id))
    if site_ids is not None:
        stmt = stmt.where(SitePresence.site_id.in_(list(site_ids)))
    return {site_id: seen for site_id, seen in db.session.execute(stmt)}


def shown_status(reported: SiteStatus | str | None, connected: bool) -> str:
    """What the wall shows: offline without a connected page, else the reported status."""
    if not connected:
        return "offline"
    value = SiteStatus(reported or SiteStatus.UNKNOWN).value
    return "online" if value == "unknown" else value


def site_status(session_id: int, site_id: int) -> dict[str, Any]:
    """The `site_status` event for one site of a session."""
    ss = db.session.get(SessionSite, (session_id, site_id))
    if ss is None:
        raise NotFound(gettext("This site does not take part in this session."))
    connected = site_id in _connected_sites(session_id, [site_id])
    return {"session_id": session_id, "site_id": site_id,
            "status": shown_status(ss.status, connected), "note": ss.status_note,
            "reported_status": ss.status.value, "at": iso(ss.status_at),
            "connected": connected}


def _push_site_status(session_id: int, site_id: int) -> None:
    try:
        payload = site_status(session_id, site_id)
        live.emit(session_id, "site_status", payload)
        live.emit(session_id, "site_status", payload, site_id=site_id)
    except Exception:  # noqa: BLE001
        log.exception("could not push site_status for session %s site %s", session_id, site_id)


def set_site_status(actor: User | None, session_id: int, site_id: int, status: Any,
                    note: Any = None) -> dict[str, Any]:
    """A coordinator (or an organiser) reports a site ready ("online"), with a problem
    ("issue") or off the air ("offline"), with an optional note."""
    user = require_site(actor, site_id)
    if status not in SITE_STATUSES:
        raise Invalid.field("status", gettext("Must be one of: %(values)s",
                                              values=", ".join(SITE_STATUSES)))
    note = _note(note)
    _session_for_site(session_id, site_id)
    now = utcnow()
    db.session.execute(
        update(SessionSite)
        .where(SessionSite.session_id == session_id, SessionSite.site_id == site_id)
        .values(status=SiteStatus(status), status_note=note, status_at=now)
        .execution_options(synchronize_session=False))
    record("site_status", user_id=user.id, session_id=session_id, site_id=site_id,
           status=status, note=note)
    db.session.commit()
    payload = site_status(session_id, site_id)
    _push_site_status(session_id, site_id)
    return payload


def page_connected(actor: User | None, session_id: int, site_id: int, sid: str
                   ) -> dict[str, Any]:
    """A coordinator page of a site opened (Socket.IO `watch_site`): mark the site connected
    and answer what the page needs (the roll-call, the reported status)."""
    user = require_site(actor, site_id)
    s = _session_for_site(session_id, site_id)
    was_connected = site_id in _connected_sites(session_id, [site_id])
    now = utcnow()
    _touch(sid, session_id, site_id, user.id, now)
    db.session.commit()
    if not was_connected:
        _push_site_status(session_id, site_id)
    ss = db.session.get(SessionSite, (session_id, site_id))
    started = s.rollcall_started_at
    confirmed = ss.rollcall_at if ss and started and ss.rollcall_at and \
        ss.rollcall_at >= started else None
    return {"ok": True, "session_id": session_id, "site_id": site_id,
            "session_status": s.status.value,
            "rollcall_active": started is not None, "rollcall_started_at": iso(started),
            "rollcall_confirmed_at": iso(confirmed),
            "status": shown_status(ss.status if ss else None, True),
            "reported_status": ss.status.value if ss else "unknown",
            "note": ss.status_note if ss else None,
            "heartbeat_s": 10, "offline_after_s": _offline_after().total_seconds()}


def _touch(sid: str, session_id: int, site_id: int, user_id: int | None, now: datetime) -> None:
    updated = _rowcount(db.session.execute(
        update(SitePresence)
        .where(SitePresence.sid == sid, SitePresence.session_id == session_id,
               SitePresence.site_id == site_id)
        .values(last_seen=now, gone=False)
        .execution_options(synchronize_session=False)))
    if updated:
        return
    try:
        with db.session.begin_nested():
            db.session.add(SitePresence(session_id=session_id, site_id=site_id, sid=sid,
                                        user_id=user_id, connected_at=now, last_seen=now))
    except IntegrityError:  # the same page twice at once
        pass


def page_heartbeat(sid: str, session_id: int, site_id: int) -> bool:
    """A page says it is still there. False when it is not known (expired or never watched):
    the caller then registers it again with page_connected (which checks permissions)."""
    updated = _rowcount(db.session.execute(
        update(SitePresence)
        .where(SitePresence.sid == sid, SitePresence.session_id == session_id,
               SitePresence.site_id == site_id, SitePresence.gone.is_(False),
               SitePresence.last_seen >= utcnow() - _offline_after())
        .values(last_seen=utcnow())
        .execution_options(synchronize_session=False)))
    db.session.commit()
    return bool(updated)


def page_gone(sid: str) -> None:
    """A connection closed: its pages count as present for SITE_OFFLINE_AFTER_S more (a
    reload or a short network gap does not turn the site offline)."""
    db.session.execute(
        update(SitePresence).where(SitePresence.sid == sid, SitePresence.gone.is_(False))
        .values(last_seen=utcnow(), gone=True)
        .execution_options(synchronize_session=False))
    db.session.commit()


def sweep_presence(now: datetime | None = None) -> list[tuple[int, int]]:
    """Delete expired page rows; push `site_status` for each site left without a page.
    Several processes may sweep at once: only the one whose DELETE removed a row pushes."""
    cutoff = (now or utcnow()) - _offline_after()
    removed = db.session.execute(
        delete(SitePresence).where(SitePresence.last_seen < cutoff)
        .returning(SitePresence.session_id, SitePresence.site_id)
        .execution_options(synchronize_session=False)).all()
    db.session.commit()
    pairs = sorted({(int(a), int(b)) for a, b in removed})
    went_offline = []
    for session_id, site_id in pairs:
        if site_id in _connected_sites(session_id, [site_id]):
            continue
        if db.session.get(SessionSite, (session_id, site_id)) is None:
            continue
        went_offline.append((session_id, site_id))
        _push_site_status(session_id, site_id)
    db.session.rollback()
    return went_offline


_sweepers: set[int] = set()
_sweepers_lock = threading.Lock()


def start_presence_sweeper(app: Flask) -> None:
    """Once per process and app: a background task that expires site pages every few seconds
    (PRESENCE_SWEEP_S; off by default under tests, which call sweep_presence directly)."""
    interval = float(app.config.get("PRESENCE_SWEEP_S", 0 if app.testing else 5))
    if interval <= 0:
        return
    with _sweepers_lock:
        if id(app) in _sweepers:
            return
        _sweepers.add(id(app))
    socketio.start_background_task(_sweep_loop, app, interval)


def _sweep_loop(app: Flask, interval: float) -> None:
    while True:
        socketio.sleep(interval)
        try:
            with app.app_context():
                try:
                    sweep_presence()
                finally:
                    db.session.remove()
        except Exception:  # noqa: BLE001 - keep sweeping after a database hiccup
            log.exception("presence sweep failed")


def site_board(actor: User | None, session_id: int) -> list[dict[str, Any]]:
    """One row per site of the session for the wall: status, connection, roll-call, counts.
    Four queries whatever the number of sites."""
    require_session_viewer(actor, session_id)
    s = get_session(session_id)
    rows = db.session.execute(
        select(SessionSite, Site).join(Site, Site.id == SessionSite.site_id)
        .where(SessionSite.session_id == session_id)
        .order_by((Site.kind != SiteKind.HOST), Site.code)).all()
    counts, last = _counts(session_id)
    connected = _connected_sites(session_id)
    started = s.rollcall_started_at
    out = []
    for ss, site in rows:
        c = counts.get(site.id) or _zero()
        is_connected = site.id in connected
        confirmed = ss.rollcall_at if started and ss.rollcall_at and \
            ss.rollcall_at >= started else None
        out.append({
            "site_id": site.id, "code": site.code, "name": site.name, "kind": site.kind.value,
            "status": shown_status(ss.status, is_connected),
            "reported_status": ss.status.value, "status_note": ss.status_note,
            "status_at": iso(ss.status_at), "connected": is_connected,
            "last_seen": iso(connected.get(site.id)), "rollcall_at": iso(confirmed),
            **c, "last_checkin_at": iso(last.get(site.id)),
        })
    return out


# --- roll-call of the sites -----------------------------------------------------------------

def start_rollcall(actor: User | None, session_id: int) -> dict[str, Any]:
    """The organiser calls the sites in turn: every site page shows a prompt to confirm."""
    user = require_staff(actor)
    s = get_session(session_id)
    if s.status == SessionStatus.ENDED:
        raise Conflict(gettext("The session has ended."))
    now = utcnow()
    db.session.execute(
        update(TrainingSession).where(TrainingSession.id == session_id)
        .values(rollcall_started_at=now, updated_at=TrainingSession.updated_at)
        .execution_options(synchronize_session=False))
    db.session.execute(
        update(SessionSite).where(SessionSite.session_id == session_id).values(rollcall_at=None)
        .execution_options(synchronize_session=False))
    record("rollcall_started", user_id=user.id, session_id=session_id)
    db.session.commit()
    payload = {"session_id": session_id, "started_at": iso(now)}
    _emit_rollcall("rollcall", session_id, payload)
    return payload


def end_rollcall(actor: User | None, session_id: int) -> None:
    user = require_staff(actor)
    get_session(session_id)
    db.session.execute(
        update(TrainingSession).where(TrainingSession.id == session_id)
        .values(rollcall_started_at=None, updated_at=TrainingSession.updated_at)
        .execution_options(synchronize_session=False))
    record("rollcall_ended", user_id=user.id, session_id=session_id)
    db.session.commit()
    _emit_rollcall("rollcall", session_id, {"session_id": session_id, "started_at": None})


def confirm_rollcall(actor: User | None, session_id: int, site_id: int) -> dict[str, Any]:
    """A site answers the roll-call (once; confirming again answers the first time)."""
    user = require_site(actor, site_id)
    s = _session_for_site(session_id, site_id)
    started = s.rollcall_started_at
    if started is None:
        raise Conflict(gettext("No roll-call is running for this session."))
    ss = db.session.get(SessionSite, (session_id, site_id))
    assert ss is not None
    if ss.rollcall_at is not None and ss.rollcall_at >= started:
        return {"session_id": session_id, "site_id": site_id, "at": iso(ss.rollcall_at)}
    now = utcnow()
    ss.rollcall_at = now
    record("rollcall_confirmed", user_id=user.id, session_id=session_id, site_id=site_id)
    db.session.commit()
    payload = {"session_id": session_id, "site_id": site_id, "at": iso(now)}
    try:
        live.emit(session_id, "rollcall_confirmed", payload)
        live.emit(session_id, "rollcall_confirmed", payload, site_id=site_id)
    except Exception:  # noqa: BLE001
        log.exception("could not push rollcall_confirmed")
    return payload


def _emit_rollcall(event: str, session_id: int, payload: dict[str, Any]) -> None:
    try:
        live.emit(session_id, event, payload)
        socketio.emit(event, payload, to=pages_room(session_id), namespace=live.NAMESPACE)
    except Exception:  # noqa: BLE001
        log.exception("could not push %s", event)


# --- flagged check-ins ----------------------------------------------------------------------

def flagged(actor: User | None, session_id: int) -> list[dict[str, Any]]:
    """Check-ins with flags and refused uploads (CheckinIssue), newest first, for organisers."""
    require_staff(actor)
    get_session(session_id)
    checkins = db.session.execute(
        select(Checkin, Participant.full_name, Participant.code, Site.name)
        .join(Participant, Participant.id == Checkin.participant_id)
        .join(Site, Site.id == Checkin.site_id)
        .where(Checkin.session_id == session_id)).all()
    out: list[dict[str, Any]] = []
    for c, name, code, site_name in checkins:
        if not c.flags:
            continue
        out.append({"kind": "checkin", "id": c.id, "checkin_id": c.id,
                    "participant_id": c.participant_id, "full_name": name, "code": code,
                    "site_id": c.site_id, "site_name": site_name, "flags": list(c.flags),
                    "reason": None, "at": iso(c.at), "device_at": iso(c.device_at),
                    "server_at": iso(c.server_at), "client_id": c.client_id,
                    "by_user_id": c.by_user_id, "details": {}, "resolved_at": None})
    issues = db.session.execute(
        select(CheckinIssue, Participant.full_name, Participant.code, Site.name)
        .outerjoin(Participant, Participant.id == CheckinIssue.participant_id)
        .join(Site, Site.id == CheckinIssue.site_id)
        .where(CheckinIssue.session_id == session_id)).all()
    for i, name, code, site_name in issues:
        out.append({"kind": "issue", "id": i.id, "checkin_id": None,
                    "participant_id": i.participant_id, "full_name": name, "code": code,
                    "site_id": i.site_id, "site_name": site_name, "flags": [i.reason],
                    "reason": i.reason, "at": iso(i.device_at or i.server_at),
                    "device_at": iso(i.device_at), "server_at": iso(i.server_at),
                    "client_id": i.client_id, "by_user_id": i.by_user_id,
                    "details": dict(i.details or {}), "resolved_at": iso(i.resolved_at)})
    out.sort(key=lambda r: (r["server_at"] or "", r["kind"], r["id"]), reverse=True)
    return out


def resolve_issue(actor: User | None, session_id: int, issue_id: int) -> None:
    """An organiser has looked at a refused upload."""
    user = require_staff(actor)
    issue = db.session.get(CheckinIssue, issue_id)
    if issue is None or issue.session_id != session_id:
        raise NotFound(gettext("Unknown issue."))
    if issue.resolved_at is None:
        issue.resolved_at = utcnow()
        record("checkin_issue_resolved", user_id=user.id, session_id=session_id,
               site_id=issue.site_id, participant_id=issue.participant_id, issue_id=issue.id)
        db.session.commit()


def socket_user(user_id: int | None) -> User | None:
    """The account a Socket.IO connection authenticated as (for other features' events)."""
    if user_id is None:
        return None
    user = db.session.get(User, user_id)
    return user if user is not None and user.active else None


__all__ = [
    "FLAGS", "CheckedInElsewhere", "CheckinClosed", "CheckinResult", "CheckinUndone",
    "attendance", "check_in", "checkin_body", "checkin_window", "confirm_rollcall",
    "end_rollcall", "flagged", "page_connected", "page_gone", "page_heartbeat", "pages_room",
    "require_session_viewer", "resolve_issue", "roster", "session_for_site",
    "set_site_status", "site_board", "site_status", "start_presence_sweeper",
    "start_rollcall", "sweep_presence", "undo", "walk_in", "watch",
]
