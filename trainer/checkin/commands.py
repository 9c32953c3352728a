"""Check-in commands: check in, undo, walk in (one path each, Core statements, counters in the same
transaction); flagged check-ins and their resolution."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from flask_babel import gettext
from sqlalchemy import and_, bindparam, delete, exists, select
from sqlalchemy.exc import IntegrityError

from trainer import live
from trainer.audit import services as audit
from trainer.audit.services import record
from trainer.auth.models import User
from trainer.auth.services import can_act_for_site, require_any, require_site, require_staff
from trainer.checkin import counters, push
from trainer.checkin.models import CheckinUndo
from trainer.checkin.rules import (
    NOT_REGISTERED,
    OTHER_SITE_ROSTER,
    CheckedInElsewhere,
    CheckinClosed,
    CheckinUndone,
    _client_id,
    _current_version,
    _device_time,
    _method,
    _rowcount,
    _session_for_site,
    _time_flags,
    _window,
    get_session,
    iso,
)
from trainer.dbtypes import commit_keeping_objects, utcnow
from trainer.errors import Conflict, Invalid, NotFound
from trainer.extensions import db
from trainer.i18n import fmt_time
from trainer.people.models import Participant, Sex
from trainer.sessions.models import (
    Checkin,
    CheckinIssue,
    Registration,
    SessionSite,
    SessionStatus,
    TrainingSession,
)
from trainer.sites.models import Site

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckinResult:
    checkin: Checkin
    created: bool
    version: int | None = None  # an attendance version that includes this check-in

    @property
    def participant(self) -> Participant:
        return self.checkin.participant


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


def check_in(actor: User | None, session_id: int, *, site_id: int,
             participant_id: int | None = None, participant_code: str | None = None,
             client_id: Any = None, at: Any = None, method: str | None = "manual") -> CheckinResult:
    """Check a participant in at a site. created=False: already checked in there (or the same
    client_id again). Raises Forbidden, NotFound, CheckedInElsewhere (409), CheckinClosed (409),
    CheckinUndone (409: this client_id's check-in was undone since), Invalid.

    One read, then (a first check-in) the write: the check-in, the counters with the version
    bump and the audit entry, a transaction of its own (trainer.checkin.counters.add_checkin);
    a refusal is decided from that one read."""
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
    stored = counters.add_checkin(values, participant.sex.value, audit.entry(
        "checkin", user_id=user.id, session_id=session_id, site_id=site_id,
        participant_id=participant.id, client_id=client_id, device_at=iso(device_at),
        server_at=iso(now), flags=flags or None, method=method))
    if stored is None:  # another request stored it since the read
        return _after_race(user, session_id, site_id, participant_id, code, client_id,
                           device_at)
    new_id, version, site_row = stored
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
    db.session.flush()  # before the version bump: the commit follows it at once
    with counters.turn(session_id):
        version, site_row = counters.change(
            session_id, site_id, Sex(sex).value, None, audit.entry(
                "checkin_undone", user_id=user.id, session_id=session_id, site_id=site_id,
                participant_id=participant_id, **snapshot), removed=True)
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
    with counters.turn(session_id):
        version, site_row = counters.change(session_id, site_id, participant.sex.value,
                                            checkin.at, audit.entry(
            "walk_in", user_id=user.id, session_id=session_id, site_id=site_id,
            participant_id=participant.id, checkin_id=checkin.id, client_id=client_id,
            device_at=iso(device_at), server_at=iso(now), flags=flags or None,
            full_name=participant.full_name, code=participant.code))
        commit_keeping_objects()
    _after_change(session_id, "checkin", _checkin_event(checkin, participant), {site_id},
                  version, site_row)
    return CheckinResult(checkin, True, version)


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
