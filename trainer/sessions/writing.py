"""Writing sessions: create, edit, delete, status transitions, copy; per-site settings."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext
from sqlalchemy import delete, func, insert, select, update

from trainer.auth.models import Role, User, user_site
from trainer.auth.services import require_staff
from trainer.dbtypes import INT_MAX, utcnow
from trainer.errors import Conflict, Invalid, NotFound
from trainer.extensions import db
from trainer.people.models import Participant
from trainer.sessions import signals
from trainer.sessions.models import (
    AgendaItem,
    Checkin,
    Registration,
    SessionSite,
    SessionStatus,
    Training,
    TrainingSession,
)
from trainer.sessions.rules import (
    ALLOWED_TRANSITIONS,
    MAX_GRACE_MINUTES,
    MAX_SESSION_DAYS,
    SESSION_FIELDS,
    _audit,
    _topics,
    _touch,
    clean_conference_url,
    status_label,
    to_utc,
)
from trainer.sites.models import Site
from trainer.validation import Errors

log = logging.getLogger(__name__)


def _int(value: Any) -> int | None:
    """An id from a form or JSON: a whole number 0..INT_MAX (an INTEGER column), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and 0 <= value <= INT_MAX:
        return value
    return None


def _check_times(starts_at: Any, ends_at: Any, errors: Errors) -> tuple[datetime | None,
                                                                          datetime | None]:
    start = end = None
    if not isinstance(starts_at, datetime):
        errors.add("starts_at", gettext("Give the date and time the session starts."))
    else:
        start = to_utc(starts_at)
    if not isinstance(ends_at, datetime):
        errors.add("ends_at", gettext("Give the date and time the session ends."))
    else:
        end = to_utc(ends_at)
    if start is not None and end is not None:
        if end <= start:
            errors.add("ends_at", gettext("The session must end after it starts."))
        elif end - start > timedelta(days=MAX_SESSION_DAYS):
            errors.add("ends_at", gettext("A session lasts at most %(n)d days; split a longer "
                                          "training into several sessions.", n=MAX_SESSION_DAYS))
    for value, name in ((start, "starts_at"), (end, "ends_at")):
        if value is not None and not 2000 <= value.year <= 2100:
            errors.add(name, gettext("A date between 2000 and 2100."))
    return start, end


def _site_name(site_id: int, sites: Mapping[int, Site]) -> str:
    site = sites.get(site_id)
    return site.name if site is not None else str(site_id)


def _check_sites(host_site_id: Any, site_ids: Any, errors: Errors) -> list[int] | None:
    """The final list of site ids, host first; None when something is wrong."""
    host = _int(host_site_id)
    if host_site_id in (None, ""):
        errors.add("host_site_id", gettext("Choose the host site."))
    elif host is None:
        errors.add("host_site_id", gettext("Unknown site."))
    if not isinstance(site_ids, list | tuple):
        errors.add("site_ids", gettext("Not a valid list."))
        return None
    ids: list[int] = []
    bad = False
    for raw in site_ids:
        value = _int(raw)
        if value is None:
            errors.add("site_ids", gettext("Unknown site: %(id)s.", id=str(raw)[:20]))
            bad = True
        else:
            ids.append(value)
    wanted = set(ids) | ({host} if host is not None else set())
    sites = {s.id: s for s in db.session.scalars(select(Site).where(Site.id.in_(wanted)))}
    if host is not None and host not in sites:
        errors.add("host_site_id", gettext("Unknown site: %(id)s.", id=host))
        bad = True
    seen: set[int] = set()
    for value in ids:
        if value in seen:
            errors.add("site_ids", gettext("%(site)s is named twice.",
                                           site=_site_name(value, sites)))
            bad = True
        seen.add(value)
        if value not in sites:
            errors.add("site_ids", gettext("Unknown site: %(id)s.", id=value))
            bad = True
    if bad or host is None:
        return None
    return [host] + [i for i in dict.fromkeys(ids) if i != host]


def _check_training(training_id: Any, errors: Errors) -> int | None:
    if training_id in (None, ""):
        return None
    value = _int(training_id)
    if value is None or db.session.get(Training, value) is None:
        errors.add("training_id", gettext("Unknown training."))
        return None
    return value


def _check_grace(value: Any, errors: Errors) -> int:
    if value in (None, ""):
        return 0
    minutes = _int(value)
    if minutes is None or not 0 <= minutes <= MAX_GRACE_MINUTES:
        errors.add("checkin_grace_minutes", gettext(
            "A number of minutes between 0 and %(n)d.", n=MAX_GRACE_MINUTES))
        return 0
    return minutes


def _session_values(data: Mapping[str, Any], current: TrainingSession | None,
                    errors: Errors) -> dict[str, Any]:
    """Check every field given (all of them for a new session) and return the new values."""
    unknown = set(data) - set(SESSION_FIELDS)
    for name in sorted(unknown):
        errors.add(name, gettext("Unknown field."))
    values: dict[str, Any] = {}
    new = current is None

    def given(name: str) -> bool:
        return new or name in data

    def now_or_given(name: str) -> Any:
        if given(name) or current is None:
            return data.get(name)
        if name == "site_ids":
            return [ss.site_id for ss in current.session_sites]
        return getattr(current, name)

    if given("title"):
        values["title"] = errors.text("title", data.get("title"), 300, required=True)
    if given("starts_at") or given("ends_at"):
        start, end = _check_times(now_or_given("starts_at"), now_or_given("ends_at"), errors)
        values["starts_at"], values["ends_at"] = start, end
    if given("host_site_id") or given("site_ids"):
        host = now_or_given("host_site_id")
        values["site_ids"] = _check_sites(host, now_or_given("site_ids") or [], errors)
        values["host_site_id"] = _int(host)
    if new or "topics" in data:
        values["topics"] = _topics(data.get("topics"), errors)
    if new or "conference_url" in data:
        try:
            values["conference_url"] = clean_conference_url(data.get("conference_url"))
        except Invalid as exc:
            errors.take(exc)
    if new or "conference_url" in data or "conference_provider" in data:
        from trainer.conference.providers import choose_provider

        try:
            values.update(choose_provider(data, values, current))
        except Invalid as exc:
            errors.take(exc)
    if new or "description" in data:
        values["description"] = errors.text("description", data.get("description"), 10000, multiline=True)
    if new or "training_id" in data:
        values["training_id"] = _check_training(data.get("training_id"), errors)
    if new or "checkin_grace_minutes" in data:
        values["checkin_grace_minutes"] = _check_grace(data.get("checkin_grace_minutes"), errors)
    return values


def site_coordinator_users(site_id: int) -> list[User]:
    """Active coordinator accounts of a site."""
    return list(db.session.scalars(
        select(User).join(user_site, user_site.c.user_id == User.id)
        .where(user_site.c.site_id == site_id, User.role == Role.COORDINATOR,
               User.active.is_(True))
        .order_by(User.username)))


def _new_session_site(site_id: int) -> SessionSite:
    return SessionSite(site_id=site_id, coordinators=site_coordinator_users(site_id))


def create_session(actor: User | None, data: Mapping[str, Any], *,
                   agenda: Sequence[Mapping[str, Any]] | None = None,
                   commit: bool = True) -> TrainingSession:
    """A new scheduled session; `site_ids` lists the bridge points, the host takes part too.

    Each site gets the coordinator accounts of that site; `agenda` items may come along.
    """
    from trainer.sessions.agenda import _check_agenda_list
    if actor is not None:
        require_staff(actor)
    errors = Errors()
    values = _session_values(data, None, errors)
    items = _check_agenda_list(agenda, errors) if agenda is not None else []
    errors.check()
    site_ids = values.pop("site_ids")
    session = TrainingSession(status=SessionStatus.SCHEDULED, ics_sequence=0, **values)
    session.session_sites = [_new_session_site(i) for i in site_ids]
    session.agenda = [AgendaItem(position=n, **item) for n, item in enumerate(items)]
    db.session.add(session)
    db.session.flush()
    _audit(actor, "session.create", session.id, title=session.title)
    if commit:
        db.session.commit()
    return session


def _blocked_site_removals(session: TrainingSession, removed: Iterable[int]) -> list[str]:
    removed = list(removed)
    if not removed:
        return []
    names = {ss.site_id: ss.site.name for ss in session.session_sites}
    regs = dict(db.session.execute(
        select(Registration.site_id, func.count())
        .where(Registration.session_id == session.id, Registration.site_id.in_(removed))
        .group_by(Registration.site_id)).all())
    checkins = dict(db.session.execute(
        select(Checkin.site_id, func.count())
        .where(Checkin.session_id == session.id, Checkin.site_id.in_(removed))
        .group_by(Checkin.site_id)).all())
    out = []
    for site_id in removed:
        if checkins.get(site_id):
            out.append(gettext(
                "%(site)s cannot leave this session: %(n)d people are checked in there.",
                site=names.get(site_id, site_id), n=checkins[site_id]))
        elif regs.get(site_id):
            out.append(gettext(
                "%(site)s cannot leave this session: %(n)d people are expected there. "
                "Empty its roster first.", site=names.get(site_id, site_id), n=regs[site_id]))
    return out


def update_session(actor: User, session: TrainingSession,
                   data: Mapping[str, Any]) -> TrainingSession:
    """Change the fields given; a site with people on its roster cannot be removed."""
    require_staff(actor)
    errors = Errors()
    values = _session_values(data, session, errors)
    errors.check()
    site_ids = values.pop("site_ids", None)
    if site_ids is not None:
        current = [ss.site_id for ss in session.session_sites]
        removed = [i for i in current if i not in site_ids]
        blocked = _blocked_site_removals(session, removed)
        if blocked:
            raise Conflict(" ".join(blocked), errors={"site_ids": blocked})
    changed = [k for k, v in values.items() if getattr(session, k) != v]
    for key, value in values.items():
        setattr(session, key, value)
    if site_ids is not None:
        keep = [ss for ss in session.session_sites if ss.site_id in site_ids]
        have = {ss.site_id for ss in keep}
        added = [_new_session_site(i) for i in site_ids if i not in have]
        if added or len(keep) != len(session.session_sites):
            changed.append("site_ids")
        session.session_sites = keep + added
    if changed:
        _touch(session)
        _audit(actor, "session.update", session.id, fields=sorted(set(changed)))
    db.session.commit()
    return session


def delete_session(actor: User, session: TrainingSession) -> None:
    """Only a session that never went live and has no check-ins can be deleted."""
    require_staff(actor)
    if session.status != SessionStatus.SCHEDULED:
        raise Conflict(gettext("Only a scheduled session can be deleted; this one is %(status)s.",
                               status=status_label(session.status)))
    if db.session.scalar(select(func.count()).select_from(Checkin)
                         .where(Checkin.session_id == session.id)):
        raise Conflict(gettext("This session has check-ins; it cannot be deleted."))
    session_id, title = session.id, session.title
    db.session.execute(delete(Registration).where(Registration.session_id == session_id))
    db.session.delete(session)
    _audit(actor, "session.delete", None, deleted_session_id=session_id, title=title)
    db.session.commit()


def _transition_refusal(old: SessionStatus, new: SessionStatus) -> str:
    if old == SessionStatus.ENDED:
        return gettext("This session has ended; its status cannot change any more.")
    if old == SessionStatus.SCHEDULED and new == SessionStatus.ENDED:
        return gettext("A scheduled session must go live before it can end.")
    if new == SessionStatus.SCHEDULED:
        return gettext("A session that has gone live cannot go back to scheduled.")
    return gettext("This change of status is not allowed.")


def set_status(actor: User, session: TrainingSession, status: str | SessionStatus) -> bool:
    """Move a session along its lifecycle; True if it changed.

    The change is a conditional UPDATE, so two organisers pressing at once cannot both win.
    After the commit, watchers of the session get `session_status`.
    """
    require_staff(actor)
    try:
        new = SessionStatus(status)
    except ValueError:
        raise Invalid.field("status", gettext("Must be one of: %(values)s",
                                              values="live, ended")) from None
    old = session.status
    if new == old:
        return False
    if new not in ALLOWED_TRANSITIONS[old]:
        raise Conflict(_transition_refusal(old, new), current_status=old.value)
    result = db.session.execute(
        update(TrainingSession)
        .where(TrainingSession.id == session.id, TrainingSession.status == old)
        .values(status=new, ics_sequence=TrainingSession.ics_sequence + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False))
    if getattr(result, "rowcount", 0) != 1:
        db.session.rollback()
        db.session.refresh(session)
        raise Conflict(gettext("Someone else changed the status meanwhile: it is now %(status)s.",
                               status=status_label(session.status)),
                       current_status=session.status.value)
    session_id = session.id
    _audit(actor, "session.status", session_id, old=old.value, new=new.value)
    db.session.commit()  # expires `session`: it reloads, with the new status, when next read
    _push_status(session_id, new)
    signals.status_changed.send(current_app._get_current_object(),  # type: ignore[attr-defined]
                                session_id=session_id, old=old, new=new)
    return True


def _push_status(session_id: int, status: SessionStatus) -> None:
    """Tell the session's watchers; called after the commit, without touching the database."""
    from trainer import live

    try:
        live.emit(session_id, "session_status", {"session_id": session_id,
                                                 "status": status.value})
    except Exception:  # noqa: BLE001 - the change is committed; a lost push must not undo it
        log.exception("session_status push for session %s failed", session_id)


def suggest_copy_title(title: str, old_year: int, new_year: int) -> str:
    """"… năm 2017" becomes "… năm 2018" when the copy falls in 2018."""
    if old_year == new_year:
        return title
    return re.sub(rf"\b{old_year}\b", str(new_year), title)


@dataclass
class CopyResult:
    session: TrainingSession
    registered: int = 0
    skipped: int = 0


def copy_session(actor: User, source: TrainingSession, data: Mapping[str, Any], *,
                 agenda: bool = True, roster: bool = False) -> CopyResult:
    """A new scheduled session like `source`, at new times: same host, sites, chairs and
    coordinators, topics and link; its agenda and its roster when asked. People on the old
    roster whose home site no longer takes part are left out (and counted)."""
    require_staff(actor)
    base = {
        "title": source.title, "training_id": source.training_id,
        "host_site_id": source.host_site_id,
        "site_ids": [ss.site_id for ss in source.session_sites],
        "topics": list(source.topics or []), "conference_url": source.conference_url,
        "conference_provider": source.conference_provider or "", "description": source.description,
        "checkin_grace_minutes": source.checkin_grace_minutes,
    }
    for key in ("title", "training_id", "starts_at", "ends_at"):
        if key in data:
            base[key] = data[key]
    errors = Errors()
    values = _session_values(base, None, errors)
    errors.check()
    site_ids = values.pop("site_ids")
    session = TrainingSession(status=SessionStatus.SCHEDULED, ics_sequence=0, **values)
    old_sites = {ss.site_id: ss for ss in source.session_sites}
    session.session_sites = [
        SessionSite(site_id=i, chair_name=old_sites[i].chair_name,
                    chair_title=old_sites[i].chair_title,
                    coordinators=[u for u in old_sites[i].coordinators if u.active])
        for i in site_ids]
    if agenda:
        session.agenda = [AgendaItem(position=n, starts_at=item.starts_at, title=item.title,
                                     presenter=item.presenter, presenter_org=item.presenter_org)
                          for n, item in enumerate(source.agenda)]
    db.session.add(session)
    db.session.flush()
    result = CopyResult(session=session)
    if roster:
        rows = db.session.execute(
            select(Participant.id, Participant.site_id)
            .join(Registration, Registration.participant_id == Participant.id)
            .where(Registration.session_id == source.id)).all()
        now = utcnow()
        keep = [{"session_id": session.id, "participant_id": pid, "site_id": sid,
                 "created_at": now, "walk_in": False}
                for pid, sid in rows if sid in site_ids]
        if keep:
            db.session.execute(insert(Registration), keep)
        result.registered, result.skipped = len(keep), len(rows) - len(keep)
    _audit(actor, "session.copy", session.id, source_session_id=source.id,
           agenda=agenda, roster=roster)
    db.session.commit()
    return result


def get_session_site(session: TrainingSession, site_id: int) -> SessionSite:
    for ss in session.session_sites:
        if ss.site_id == site_id:
            return ss
    raise NotFound(gettext("This site does not take part in this session."))


def update_session_site(actor: User, session: TrainingSession, site_id: int,
                        data: Mapping[str, Any]) -> SessionSite:
    """The local chair (name, title) and the coordinator accounts named for one site."""
    require_staff(actor)
    ss = get_session_site(session, site_id)
    errors = Errors()
    values: dict[str, Any] = {}
    if "chair_name" in data:
        values["chair_name"] = errors.text("chair_name", data.get("chair_name"), 200)
    if "chair_title" in data:
        values["chair_title"] = errors.text("chair_title", data.get("chair_title"), 200)
    coordinators: list[User] | None = None
    if "coordinator_ids" in data:
        raw = data.get("coordinator_ids") or []
        ids = [_int(i) for i in raw] if isinstance(raw, list | tuple) else [None]
        allowed = {u.id: u for u in site_coordinator_users(site_id)}
        coordinators = []
        for i, value in zip(raw if isinstance(raw, list | tuple) else [raw], ids, strict=True):
            user = allowed.get(value) if value is not None else None
            if user is None:
                other = db.session.get(User, value) if value is not None else None
                errors.add("coordinator_ids", gettext(
                    "%(user)s is not a coordinator of %(site)s.",
                    user=other.username if other else str(i)[:20], site=ss.site.name))
            elif user not in coordinators:
                coordinators.append(user)
    errors.check()
    for key, value in values.items():
        setattr(ss, key, value)
    if coordinators is not None:
        ss.coordinators = coordinators
    _touch(session)
    _audit(actor, "session.site", session.id, site_id=site_id)
    db.session.commit()
    return ss
