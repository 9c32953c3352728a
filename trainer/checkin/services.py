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

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from flask import Flask, current_app
from flask_babel import gettext
from sqlalchemy import and_, bindparam, delete, exists, func, select, union, update
from sqlalchemy.exc import IntegrityError

from trainer import live
from trainer.audit.services import record
from trainer.auth.models import User
from trainer.auth.services import can_act_for_site, require_any, require_site, require_staff
from trainer.checkin import counters, liveness, push
from trainer.checkin.models import CheckinUndo, SitePresence
from trainer.dbtypes import commit_keeping_objects, utcnow
from trainer.errors import Conflict, Forbidden, Invalid, NotFound
from trainer.extensions import db, socketio
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
from trainer.state import app_state
from trainer.validation import field_text

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
    return field_text("note", value, NOTE_MAX)


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


@dataclass
class _SessionTimes:
    """What _window and _time_flags read of a session."""

    id: int
    status: SessionStatus
    starts_at: datetime
    ends_at: datetime
    updated_at: datetime | None
    checkin_grace_minutes: int


def _lookup_statements() -> dict[str, Any]:
    """One read of everything a check-in's rules need: the session (no row: unknown), whether
    the site takes part, the participant (by id, code or both; None: unknown), its check-in
    in this session, the site it is registered at, and whether this client_id's check-in was
    undone."""
    s, p, c, r = TrainingSession, Participant, Checkin, Registration
    columns = (
        s.status, s.starts_at, s.ends_at, s.updated_at, s.checkin_grace_minutes,
        exists().where(SessionSite.session_id == s.id,
                       SessionSite.site_id == bindparam("site_id")).label("takes_part"),
        p.id.label("p_id"), p.code, p.full_name, p.sex, p.unit, p.position,
        p.site_id.label("p_site_id"),
        c.id.label("c_id"), c.site_id.label("c_site_id"), c.at, c.server_at, c.device_at,
        c.client_id, c.flags, c.walk_in, c.method, c.by_user_id,
        r.site_id.label("registered_site_id"),
        select(CheckinUndo.id).where(CheckinUndo.client_id == bindparam("client_id"))
        .limit(1).scalar_subquery().label("undone_id"))

    def read(person: Any) -> Any:
        return (select(*columns).select_from(s)
                .outerjoin(p, person)
                .outerjoin(c, and_(c.session_id == s.id, c.participant_id == p.id))
                .outerjoin(r, and_(r.session_id == s.id, r.participant_id == p.id))
                .where(s.id == bindparam("session_id")))

    by_id, by_code = p.id == bindparam("participant_id"), p.code == bindparam("code")
    return {"id": read(by_id), "code": read(by_code), "both": read(and_(by_id, by_code))}


_LOOKUP = _lookup_statements()


def _lookup(session_id: int, site_id: int, participant_id: int | None, code: str | None,
            client_id: str | None) -> Any:
    kind = "both" if participant_id is not None and code else \
        "id" if participant_id is not None else "code"
    return db.session.connection().execute(_LOOKUP[kind], {
        "session_id": session_id, "site_id": site_id, "participant_id": participant_id,
        "code": code, "client_id": client_id}).first()


def _found(row: Any, session_id: int) -> tuple[Any, Any]:
    """(participant, its check-in in the session or None) as plain objects with the models'
    attribute names (the answer and the events read only these)."""
    participant = SimpleNamespace(id=row.p_id, code=row.code, full_name=row.full_name,
                                  sex=Sex(row.sex), unit=row.unit, position=row.position,
                                  site_id=row.p_site_id)
    if row.c_id is None:
        return participant, None
    existing = SimpleNamespace(
        id=row.c_id, session_id=session_id, participant_id=row.p_id, site_id=row.c_site_id,
        at=row.at, server_at=row.server_at, device_at=row.device_at, client_id=row.client_id,
        flags=row.flags, walk_in=row.walk_in, method=row.method, by_user_id=row.by_user_id,
        participant=participant)
    return participant, existing


_INSERT = Checkin.__table__.insert().returning(Checkin.__table__.c.id)


def check_in(actor: User | None, session_id: int, *, site_id: int,
             participant_id: int | None = None, participant_code: str | None = None,
             client_id: Any = None, at: Any = None, method: str | None = "manual") -> CheckinResult:
    """Check a participant in at a site. created=False: already checked in there (or the same
    client_id again). Raises Forbidden, NotFound, CheckedInElsewhere (409), CheckinClosed (409),
    CheckinUndone (409: this client_id's check-in was undone since), Invalid.

    One read, then (a first check-in) the insert, the counters with the version bump and the
    audit entry in the same transaction; a refusal is decided from that one read."""
    from trainer.people.services import normalise_code

    user = require_site(actor, site_id)
    client_id = _client_id(client_id)
    device_at = _device_time(at)
    method = _method(method)
    if participant_id is None and not participant_code:
        raise Invalid.field("participant_id",
                            gettext("Give a participant_id or a participant_code."))
    code = normalise_code(participant_code) if participant_code else None
    row = _lookup(session_id, site_id, participant_id, code, client_id)
    if row is None:
        raise NotFound(gettext("Unknown session."))
    if not row.takes_part:
        raise Invalid.field("site_id", gettext("This site does not take part in this session."))
    if row.p_id is None:
        if device_at is not None:
            _issue(session_id, site_id=site_id, reason="unknown_participant",
                   participant_id=None, client_id=client_id, device_at=device_at, user=user,
                   details={"requested_participant_id": participant_id,
                            "code": participant_code})
        if participant_code and participant_id is None:
            raise NotFound(gettext("No participant has the code %(code)s.",
                                   code=participant_code), code=participant_code)
        raise NotFound(gettext("Unknown participant."))
    participant, existing = _found(row, session_id)
    if existing is not None:
        return _answer_existing(user, session_id, site_id, existing, participant, client_id,
                                device_at)
    if row.undone_id is not None:
        raise CheckinUndone(gettext("This check-in was undone. Check the person in again "
                                    "if they are here."))
    times = _SessionTimes(session_id, SessionStatus(row.status), row.starts_at, row.ends_at,
                          row.updated_at, row.checkin_grace_minutes or 0)
    now = utcnow()
    flags = _check_window(user, times, site_id, now, device_at, client_id,  # type: ignore[arg-type]
                          participant.id)
    flags = _time_flags(times, now, device_at) + flags  # type: ignore[arg-type]
    registered_site_id = row.registered_site_id
    if registered_site_id is None:
        flags.append(NOT_REGISTERED)
    elif registered_site_id != site_id:
        flags.append(OTHER_SITE_ROSTER)
    values = {"session_id": session_id, "participant_id": participant.id, "site_id": site_id,
              "at": device_at or now, "server_at": now, "device_at": device_at,
              "client_id": client_id, "by_user_id": user.id, "method": method,
              "walk_in": False, "flags": flags}
    try:
        new_id = db.session.connection().execute(_INSERT, values).scalar_one()
    except IntegrityError:  # PostgreSQL: another request stored it since the read
        db.session.rollback()
        return _after_race(user, session_id, site_id, participant_id, code, client_id,
                           device_at)
    version, site_row = counters.change(session_id, site_id, participant.sex.value,
                                        values["at"])
    record("checkin", user_id=user.id, session_id=session_id, site_id=site_id,
           participant_id=participant.id, checkin_id=new_id, client_id=client_id,
           device_at=iso(device_at), server_at=iso(now), flags=flags or None, method=method,
           version=version)
    commit_keeping_objects()  # the answer is built from what was written: nothing to reload
    checkin: Any = SimpleNamespace(id=new_id, participant=participant, **values)
    sites = {site_id} | ({registered_site_id} if registered_site_id else set())
    _after_change(session_id, "checkin", _checkin_event(checkin, participant), sites,
                  version, site_row)
    return CheckinResult(checkin, True, version)


def _after_race(user: User, session_id: int, site_id: int, participant_id: int | None,
                code: str | None, client_id: str | None,
                device_at: datetime | None) -> CheckinResult:
    """The unique constraints settled a race: answer the check-in that won, or say that the
    client_id belongs to another one."""
    row = _lookup(session_id, site_id, participant_id, code, client_id)
    participant, existing = _found(row, session_id) if row and row.p_id else (None, None)
    if participant is None or existing is None:
        if client_id is not None and db.session.scalar(
                select(Checkin.id).where(Checkin.client_id == client_id)) is not None:
            raise Invalid.field("client_id", gettext(
                "This client_id was already used for another check-in."))
        raise Conflict(gettext("The check-in could not be saved; please try again."))
    return _answer_existing(user, session_id, site_id, existing, participant, client_id,
                            device_at)


def _checkin_event(c: Checkin, p: Participant) -> dict[str, Any]:
    return {"session_id": c.session_id, "site_id": c.site_id, "participant_id": c.participant_id,
            "checkin_id": c.id, "at": iso(c.at), "full_name": p.full_name, "code": p.code,
            "walk_in": c.walk_in}


def _after_change(session_id: int, event: str, payload: dict[str, Any],
                  site_ids: Iterable[int], version: int, site_row: dict[str, Any]) -> None:
    """After the commit: the attendance push (coalesced, with the site's counters as this
    transaction left them) and the event to the site rooms."""
    push.changed(session_id, version, site_row)
    for site_id in site_ids:
        try:
            live.emit(session_id, event, payload, site_id=site_id)
        except Exception:  # noqa: BLE001 - a push must never undo a committed check-in
            log.exception("could not push %s for session %s", event, session_id)


def undo(actor: User | None, session_id: int, checkin_id: int) -> None:
    """Undo a check-in (kept in the audit log). Repeating it is harmless (204 again)."""
    user = require_any(actor)
    row = db.session.execute(
        select(Checkin, Participant.sex, Registration.site_id)
        .join(Participant, Participant.id == Checkin.participant_id)
        .outerjoin(Registration, and_(Registration.session_id == Checkin.session_id,
                                      Registration.participant_id == Checkin.participant_id))
        .where(Checkin.id == checkin_id)).first()
    if row is None or row[0].session_id != session_id:
        gone = db.session.scalar(select(CheckinUndo).where(
            CheckinUndo.checkin_id == checkin_id, CheckinUndo.session_id == session_id))
        if gone is None:
            raise NotFound(gettext("Unknown check-in."))
        require_site(user, gone.site_id)
        return
    c, sex, registered_site_id = row
    require_site(user, c.site_id)
    if not user.is_staff:
        _window(get_session(session_id), utcnow(), None)
    snapshot = {"checkin_id": c.id, "client_id": c.client_id, "at": iso(c.at),
                "device_at": iso(c.device_at), "server_at": iso(c.server_at),
                "flags": list(c.flags or []) or None, "checked_in_by": c.by_user_id,
                "method": c.method, "walk_in": c.walk_in}
    event = {"session_id": session_id, "site_id": c.site_id, "participant_id": c.participant_id,
             "checkin_id": c.id}
    site_id, participant_id, checked_in_at = c.site_id, c.participant_id, c.at
    db.session.expunge(c)
    deleted = _rowcount(db.session.execute(
        delete(Checkin).where(Checkin.id == checkin_id)
        .execution_options(synchronize_session=False)))
    if not deleted:  # undone by someone else meanwhile
        db.session.rollback()
        return
    db.session.add(CheckinUndo(session_id=session_id, checkin_id=checkin_id,
                               participant_id=participant_id, site_id=site_id,
                               client_id=snapshot["client_id"],
                               checked_in_at=checked_in_at, by_user_id=user.id))
    version, site_row = counters.change(session_id, site_id, Sex(sex).value, None,
                                        removed=True)
    record("checkin_undone", user_id=user.id, session_id=session_id, site_id=site_id,
           participant_id=participant_id, version=version, **snapshot)
    db.session.commit()
    sites = {site_id} | ({registered_site_id} if registered_site_id else set())
    _after_change(session_id, "checkin_undone", event, sites, version, site_row)


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
    version, site_row = counters.change(session_id, site_id, participant.sex.value,
                                        checkin.at)
    record("walk_in", user_id=user.id, session_id=session_id, site_id=site_id,
           participant_id=participant.id, checkin_id=checkin.id, client_id=client_id,
           device_at=iso(device_at), server_at=iso(now), flags=flags or None,
           full_name=participant.full_name, code=participant.code, version=version)
    commit_keeping_objects()
    _after_change(session_id, "checkin", _checkin_event(checkin, participant), {site_id},
                  version, site_row)
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
            "birth_year": p.birth_year, "site_id": reg_site if reg_site is not None else p.site_id,
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
            "connected": connected, **liveness.annotate(session_id, [
                {"site_id": site_id, "connected": connected}])[0]}


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
        .returning(SitePresence.session_id, SitePresence.site_id, SitePresence.last_seen)
        .execution_options(synchronize_session=False)).all()
    liveness.keep_heard(removed)
    db.session.commit()
    pairs = sorted({(int(a), int(b)) for a, b, _seen in removed})
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


def start_presence_sweeper(app: Flask) -> None:
    """Once per process and app: a background task that expires site pages every few seconds
    (PRESENCE_SWEEP_S; off by default under tests, which call sweep_presence directly)."""
    interval = float(app.config.get("PRESENCE_SWEEP_S", 0 if app.testing else 5))
    if interval <= 0:
        return
    state = app_state(app)
    with state.lock:
        if state.presence_sweeper:
            return
        state.presence_sweeper = True
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
    media = _conference_media(s)
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
            "conference": None if media is None else media[site.id],
        })
    return liveness.annotate(session_id, out)


def _conference_media(s: TrainingSession) -> dict[int, dict[str, Any]] | None:
    """Each site's media on trainer's video room (one query; a site without a row was never
    on the call), None when the session's conference is not the built-in room."""
    if s.conference_provider != "builtin":
        return None
    from collections import defaultdict

    from trainer.conference.services import media_by_site, wall_entry

    return defaultdict(lambda: wall_entry(None),
                       {k: wall_entry(v) for k, v in media_by_site(s.id).items()})


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
