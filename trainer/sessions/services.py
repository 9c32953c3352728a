"""Scheduling: trainings, sessions across bridge points, agendas, per-site chairs and rosters.

Every rule lives here: pages, the JSON API and the command line call these functions, which
check permissions (organisers and admins write; a coordinator reads the sessions and rosters
of its own sites only) and own the commit. Nothing is half-saved: input is checked in full
before the first change, and a refusal names what is wrong.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask_babel import gettext, lazy_pgettext, ngettext, pgettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, delete, exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from trainer.audit.services import record
from trainer.auth.models import Role, User, user_site
from trainer.auth.services import require_any, require_staff
from trainer.dbtypes import INT_MAX, utcnow
from trainer.errors import Conflict, Forbidden, Invalid, NotFound
from trainer.extensions import db
from trainer.i18n import local_zone
from trainer.people.models import Participant
from trainer.sessions.models import (
    AgendaItem,
    Checkin,
    Registration,
    SessionSite,
    SessionStatus,
    Training,
    TrainingSession,
)
from trainer.sites.models import Site, Unit
from trainer.text import has_control_chars, nfc
from trainer.validation import Errors

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- vocabulary

#: Topics with a label; other short topics are accepted as they are typed.
TOPICS: dict[str, Any] = {
    "management": _l("Managing and running a community learning centre"),
    "gender": _l("Gender equality and gender mainstreaming"),
}
MAX_TOPICS = 20
MAX_TOPIC_LEN = 60

STATUS_LABELS: dict[str, Any] = {
    "scheduled": _l("Scheduled"),
    "live": lazy_pgettext("session status", "Live"),
    "ended": _l("Ended"),
}

#: The lifecycle: scheduled -> live -> ended, nothing else. Going straight from scheduled to
#: ended is refused (a session that never went live did not take place: edit or delete it),
#: and an ended session is final. Asking for the status a session already has is a no-op.
ALLOWED_TRANSITIONS: dict[SessionStatus, tuple[SessionStatus, ...]] = {
    SessionStatus.SCHEDULED: (SessionStatus.LIVE,),
    SessionStatus.LIVE: (SessionStatus.ENDED,),
    SessionStatus.ENDED: (),
}

MAX_GRACE_MINUTES = 240
MAX_SESSION_DAYS = 14
MAX_ROSTER_NAMES = 10  # people named in one refusal; the rest are counted

# --------------------------------------------------------------------------- conference links

# (key, host names or suffixes); a host matches a name exactly or ends with "." + name.
_SERVICES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("zoom", ("zoom.us", "zoom.com", "zoomgov.com")),
    ("meet", ("meet.google.com",)),
    ("teams", ("teams.microsoft.com", "teams.live.com", "teams.microsoft.us")),
    ("jitsi", ("meet.jit.si", "8x8.vc", "jitsi.org")),
    ("webex", ("webex.com",)),
)
SERVICE_NAMES: dict[str, str] = {
    "zoom": "Zoom",
    "meet": "Google Meet",
    "teams": "Microsoft Teams",
    "jitsi": "Jitsi Meet",
    "webex": "Webex",
}


def conference_service(url: str | None) -> str | None:
    """"zoom", "meet", "teams", "jitsi", "webex" or None for a link to anything else.

    Self-hosted Jitsi servers usually carry "jitsi" in their host name (jitsi.example.vn).
    """
    if not url:
        return None
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    for key, names in _SERVICES:
        if any(host == n or host.endswith("." + n) for n in names):
            return key
    if "jitsi" in host.split("."):
        return "jitsi"
    return None


def safe_link(url: str | None) -> str | None:
    """The link if it is an http(s) address (what pages may put in an href), else None."""
    if not url:
        return None
    try:
        return url if urlsplit(url).scheme.lower() in ("http", "https") else None
    except ValueError:
        return None


def join_label(url: str | None) -> str:
    service = conference_service(url)
    if service is None:
        return gettext("Open the conference link")
    return gettext("Join on %(service)s", service=SERVICE_NAMES[service])


def clean_conference_url(raw: Any) -> str | None:
    """Any http(s) address with a host; javascript:, data:, file: and the like are refused."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise Invalid.field("conference_url", gettext("Not a valid web address."))
    value = raw.strip()
    if not value:
        return None
    if has_control_chars(value) or any(ch.isspace() for ch in value):
        raise Invalid.field("conference_url", gettext(
            "A web address has no spaces or control characters."))
    if len(value) > 1000:
        raise Invalid.field("conference_url", gettext("At most %(n)s characters.", n=1000))
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        raise Invalid.field("conference_url", gettext("Not a valid web address.")) from None
    if parts.scheme.lower() not in ("http", "https"):
        raise Invalid.field("conference_url", gettext(
            "The conference link must start with https:// or http://."))
    if not host or "." not in host.strip("."):
        raise Invalid.field("conference_url", gettext(
            "The conference link needs a server name, e.g. https://meet.jit.si/…"))
    return unicodedata.normalize("NFC", value)


# --------------------------------------------------------------------------- small helpers


def to_utc(value: datetime) -> datetime:
    """An aware UTC datetime; a naive one is read as local time (Asia/Ho_Chi_Minh)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=local_zone())
    return value.astimezone(UTC)


def _topics(value: Any, errors: Errors, name: str = "topics") -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [t for t in re.split(r"[,;\n]", value)]
    if not isinstance(value, list | tuple):
        errors.add(name, gettext("Not a valid list."))
        return []
    out: list[str] = []
    for raw in value:
        if not isinstance(raw, str) or has_control_chars(raw):
            errors.add(name, gettext("Not a valid text."))
            continue
        topic = nfc(raw)
        if not topic:
            continue
        if len(topic) > MAX_TOPIC_LEN:
            errors.add(name, gettext("A topic has at most %(n)d characters.", n=MAX_TOPIC_LEN))
            continue
        if topic not in out:
            out.append(topic)
    if len(out) > MAX_TOPICS:
        errors.add(name, gettext("At most %(n)d topics.", n=MAX_TOPICS))
    return out


def topic_label(topic: str) -> str:
    return str(TOPICS[topic]) if topic in TOPICS else topic


def status_label(status: SessionStatus | str) -> str:
    return str(STATUS_LABELS.get(str(status), str(status)))


def _audit(actor: User | None, action: str, session_id: int | None = None, **details: Any) -> None:
    record(action, user_id=actor.id if actor is not None else None, session_id=session_id,
           **details)


def _touch(session: TrainingSession) -> None:
    """A change calendars must pick up: the .ics SEQUENCE grows, updated_at moves."""
    session.ics_sequence = (session.ics_sequence or 0) + 1
    session.updated_at = utcnow()


# --------------------------------------------------------------------------- trainings


def list_trainings(actor: User) -> Select[Any]:
    require_staff(actor)
    return select(Training).order_by(Training.year.desc(), Training.id.desc())


def get_training(actor: User, training_id: int) -> Training:
    require_staff(actor)
    training = db.session.get(Training, training_id)
    if training is None:
        raise NotFound(gettext("Unknown training."))
    return training


def _training_fields(data: Mapping[str, Any], errors: Errors,
                     current: Training | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if current is None or "title" in data:
        out["title"] = errors.text("title", data.get("title"), 300, required=True)
    if current is None or "year" in data:
        year = data.get("year")
        if year in (None, ""):
            errors.add("year", gettext("This field is required."))
        else:
            try:
                year = int(year)
            except (TypeError, ValueError):
                errors.add("year", gettext("A year such as 2017."))
            else:
                if not 2000 <= year <= 2100:
                    errors.add("year", gettext("A year between 2000 and 2100."))
                out["year"] = year
    if "lead_agency" in data:
        out["lead_agency"] = errors.text("lead_agency", data.get("lead_agency"), 300)
    if "partners" in data:
        partners = data.get("partners") or []
        if isinstance(partners, str):
            partners = partners.split("\n")
        if not isinstance(partners, list | tuple):
            errors.add("partners", gettext("Not a valid list."))
            partners = []
        cleaned: list[str] = []
        for p in partners:
            value = errors.text("partners", p, 300)
            if value and value not in cleaned:
                cleaned.append(value)
        if len(cleaned) > 20:
            errors.add("partners", gettext("At most %(n)d partners.", n=20))
        out["partners"] = cleaned
    if "description" in data:
        out["description"] = errors.text("description", data.get("description"), 10000, multiline=True)
    if "topics" in data:
        out["topics"] = _topics(data.get("topics"), errors)
    return out


def create_training(actor: User | None, data: Mapping[str, Any], *,
                    commit: bool = True) -> Training:
    if actor is not None:
        require_staff(actor)
    errors = Errors()
    values = _training_fields(data, errors, None)
    errors.check()
    training = Training(**{"partners": [], "topics": [], **values})
    db.session.add(training)
    db.session.flush()
    _audit(actor, "training.create", training_id=training.id)
    if commit:
        db.session.commit()
    return training


def update_training(actor: User, training: Training, data: Mapping[str, Any]) -> Training:
    require_staff(actor)
    errors = Errors()
    values = _training_fields(data, errors, training)
    errors.check()
    for key, value in values.items():
        setattr(training, key, value)
    for session in training.sessions:
        _touch(session)  # the training's name appears in each session's calendar entry
    _audit(actor, "training.update", training_id=training.id)
    db.session.commit()
    return training


# --------------------------------------------------------------------------- reading sessions


def _visible_filter(actor: User) -> Any:
    """A WHERE clause for the sessions the actor may read (None: all of them)."""
    if actor.is_staff:
        return None
    return exists().where(SessionSite.session_id == TrainingSession.id,
                          SessionSite.site_id.in_(actor.site_ids or [-1]))


def sessions_stmt(actor: User, *, start: datetime | None = None, end: datetime | None = None,
                  status: str | SessionStatus | None = None, training_id: int | None = None,
                  site_id: int | None = None, past: bool | None = None,
                  newest_first: bool = False) -> Select[Any]:
    """An ordered select() of the sessions the actor may see.

    `start`/`end` keep sessions that overlap [start, end). `past=True` keeps the sessions that
    are over (ended, or scheduled and already past their end), `past=False` the others.
    """
    require_any(actor)
    stmt = select(TrainingSession)
    where = _visible_filter(actor)
    if where is not None:
        stmt = stmt.where(where)
    if start is not None:
        stmt = stmt.where(TrainingSession.ends_at > to_utc(start))
    if end is not None:
        stmt = stmt.where(TrainingSession.starts_at < to_utc(end))
    if status:
        try:
            stmt = stmt.where(TrainingSession.status == SessionStatus(status))
        except ValueError:
            raise Invalid.field("status", gettext("Must be one of: %(values)s",
                                                  values="scheduled, live, ended")) from None
    if training_id is not None:
        stmt = stmt.where(TrainingSession.training_id == training_id)
    if site_id is not None:
        stmt = stmt.where(exists().where(SessionSite.session_id == TrainingSession.id,
                                         SessionSite.site_id == site_id))
    now = utcnow()
    over = or_(TrainingSession.status == SessionStatus.ENDED,
               and_(TrainingSession.status == SessionStatus.SCHEDULED,
                    TrainingSession.ends_at < now))
    if past is True:
        stmt = stmt.where(over)
    elif past is False:
        stmt = stmt.where(~over)
    if newest_first:
        return stmt.order_by(TrainingSession.starts_at.desc(), TrainingSession.id.desc())
    return stmt.order_by(TrainingSession.starts_at, TrainingSession.id)


def can_edit(actor: Any) -> bool:
    return bool(getattr(actor, "is_authenticated", False) and actor.is_staff)


def can_read(actor: User, session: TrainingSession) -> bool:
    if actor.is_staff:
        return True
    mine = set(actor.site_ids)
    return any(ss.site_id in mine for ss in session.session_sites)


def get_session(actor: User, session_id: int) -> TrainingSession:
    """The session, if the actor may read it (a coordinator: only sessions of its sites)."""
    require_any(actor)
    session = db.session.get(TrainingSession, session_id)
    if session is None:
        raise NotFound(gettext("Unknown session."))
    if not can_read(actor, session):
        raise Forbidden(gettext("This session does not include any of your sites."))
    return session


def get_for_edit(actor: User, session_id: int) -> TrainingSession:
    require_staff(actor)
    return get_session(actor, session_id)


def my_site_ids(actor: User, session: TrainingSession) -> list[int]:
    """The sites of the session the actor acts for (all of them for staff)."""
    ids = [ss.site_id for ss in session.session_sites]
    if actor.is_staff:
        return ids
    mine = set(actor.site_ids)
    return [i for i in ids if i in mine]


def registered_totals(session_ids: Sequence[int],
                      site_ids: Sequence[int] | None = None) -> dict[int, int]:
    if not session_ids:
        return {}
    stmt = (select(Registration.session_id, func.count())
            .where(Registration.session_id.in_(list(session_ids)))
            .group_by(Registration.session_id))
    if site_ids is not None:
        stmt = stmt.where(Registration.site_id.in_(list(site_ids) or [-1]))
    return dict(db.session.execute(stmt).all())


@dataclass
class SiteRow:
    """One site of a session as pages and the API show it."""

    site: Site
    session_site: SessionSite
    is_host: bool
    registered: int = 0
    female: int = 0
    male: int = 0
    unspecified: int = 0
    present: int = 0
    present_female: int = 0
    present_male: int = 0
    present_unspecified: int = 0

    @property
    def site_id(self) -> int:
        return self.site.id

    @property
    def chair_name(self) -> str | None:
        return self.session_site.chair_name

    @property
    def chair_title(self) -> str | None:
        return self.session_site.chair_title

    @property
    def coordinators(self) -> list[User]:
        return list(self.session_site.coordinators)

    @property
    def coordinator_ids(self) -> list[int]:
        return [u.id for u in self.session_site.coordinators]


def site_rows(session: TrainingSession) -> list[SiteRow]:
    """The session's sites (host first, then by name) with the expected and the present,
    each by sex."""
    rows: dict[int, SiteRow] = {}
    for ss in session.session_sites:
        rows[ss.site_id] = SiteRow(site=ss.site, session_site=ss,
                                   is_host=ss.site_id == session.host_site_id)
    counts = db.session.execute(
        select(Registration.site_id, Participant.sex, func.count())
        .join(Participant, Participant.id == Registration.participant_id)
        .where(Registration.session_id == session.id)
        .group_by(Registration.site_id, Participant.sex))
    for site_id, sex, n in counts:
        row = rows.get(site_id)
        if row is None:
            continue
        row.registered += n
        setattr(row, sex.value, getattr(row, sex.value) + n)
    present = db.session.execute(
        select(Checkin.site_id, Participant.sex, func.count())
        .join(Participant, Participant.id == Checkin.participant_id)
        .where(Checkin.session_id == session.id)
        .group_by(Checkin.site_id, Participant.sex))
    for site_id, sex, n in present:
        if site_id in rows:
            rows[site_id].present += n
            key = f"present_{sex.value}"
            setattr(rows[site_id], key, getattr(rows[site_id], key) + n)
    return sorted(rows.values(), key=lambda r: (not r.is_host, r.site.sort_key, r.site.id))


def session_sites_summary(session: TrainingSession) -> dict[str, int]:
    return {"sites": len(session.session_sites),
            "registered": registered_totals([session.id]).get(session.id, 0)}


# --------------------------------------------------------------------------- writing sessions


SESSION_FIELDS = ("title", "training_id", "starts_at", "ends_at", "host_site_id", "site_ids",
                  "topics", "conference_url", "conference_provider", "description",
                  "checkin_grace_minutes")


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


# --------------------------------------------------------------------------- per-site details


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


# --------------------------------------------------------------------------- agenda

_TIME_RE = re.compile(r"^\s*(\d{1,2})[:hH.](\d{2})\s*$")


def parse_time(value: Any) -> time | None:
    """"7:30", "07:30", "7h30" or "07:30:00"; None for blank; ValueError otherwise."""
    if value is None or isinstance(value, time):
        return value
    text = str(value).strip()
    if not text:
        return None
    if len(text) == 8 and text[2] == ":" and text[5] == ":":
        text = text[:5]
    match = _TIME_RE.match(text)
    if not match:
        raise ValueError(text)
    return time(int(match.group(1)), int(match.group(2)))


def _agenda_values(data: Mapping[str, Any], errors: Errors, prefix: str = "",
                   partial: bool = False) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if not partial or "time" in data or "starts_at" in data:
        raw = data.get("time", data.get("starts_at"))
        try:
            values["starts_at"] = parse_time(raw)
        except ValueError:
            errors.add(prefix + "time", gettext("A time such as 07:30."))
    if not partial or "title" in data:
        values["title"] = errors.text(prefix + "title", data.get("title"), 300, required=True)
    if not partial or "presenter" in data:
        values["presenter"] = errors.text(prefix + "presenter", data.get("presenter"), 200)
    if not partial or "presenter_org" in data:
        values["presenter_org"] = errors.text(prefix + "presenter_org", data.get("presenter_org"), 300)
    return values


def _check_agenda_list(items: Any, errors: Errors) -> list[dict[str, Any]]:
    if not isinstance(items, list | tuple):
        errors.add("agenda", gettext("Not a valid list."))
        return []
    if len(items) > 100:
        errors.add("agenda", gettext("At most %(n)d agenda items.", n=100))
        return []
    out = []
    for n, item in enumerate(items):
        if not isinstance(item, Mapping):
            errors.add(f"agenda.{n}", gettext("Not a valid object."))
            continue
        out.append(_agenda_values(item, errors, prefix=f"agenda.{n}."))
    return out


def _renumber(session: TrainingSession) -> None:
    for n, item in enumerate(session.agenda):
        item.position = n


def get_agenda_item(session: TrainingSession, item_id: int) -> AgendaItem:
    for item in session.agenda:
        if item.id == item_id:
            return item
    raise NotFound(gettext("Unknown agenda item."))


def add_agenda_item(actor: User, session: TrainingSession,
                    data: Mapping[str, Any]) -> AgendaItem:
    """Add an item; one with a time goes before the first later item, else at the end."""
    require_staff(actor)
    errors = Errors()
    values = _agenda_values(data, errors)
    errors.check()
    item = AgendaItem(**values)
    items = list(session.agenda)
    at = len(items)
    if item.starts_at is not None:
        for n, other in enumerate(items):
            if other.starts_at is not None and other.starts_at > item.starts_at:
                at = n
                break
    items.insert(at, item)
    session.agenda = items
    _renumber(session)
    _touch(session)
    _audit(actor, "session.agenda", session.id, op="add")
    db.session.commit()
    return item


def update_agenda_item(actor: User, item: AgendaItem, data: Mapping[str, Any]) -> AgendaItem:
    require_staff(actor)
    errors = Errors()
    values = _agenda_values(data, errors, partial=True)
    errors.check()
    for key, value in values.items():
        setattr(item, key, value)
    _touch(item.session)
    _audit(actor, "session.agenda", item.session_id, op="update", item_id=item.id)
    db.session.commit()
    return item


def delete_agenda_item(actor: User, item: AgendaItem) -> None:
    require_staff(actor)
    session = item.session
    session.agenda = [i for i in session.agenda if i.id != item.id]
    _renumber(session)
    _touch(session)
    _audit(actor, "session.agenda", session.id, op="delete", item_id=item.id)
    db.session.commit()


def move_agenda_item(actor: User, item: AgendaItem, delta: int) -> None:
    require_staff(actor)
    session = item.session
    items = list(session.agenda)
    n = items.index(item)
    target = max(0, min(len(items) - 1, n + delta))
    if target != n:
        items.insert(target, items.pop(n))
        session.agenda = items
        _renumber(session)
        _touch(session)
        _audit(actor, "session.agenda", session.id, op="move", item_id=item.id)
    db.session.commit()


def replace_agenda(actor: User, session: TrainingSession,
                   items: Sequence[Mapping[str, Any]]) -> list[AgendaItem]:
    """The whole agenda at once, in the order given (all items checked before any change)."""
    require_staff(actor)
    errors = Errors()
    values = _check_agenda_list(items, errors)
    errors.check()
    session.agenda = [AgendaItem(position=n, **v) for n, v in enumerate(values)]
    _touch(session)
    _audit(actor, "session.agenda", session.id, op="replace", items=len(values))
    db.session.commit()
    return list(session.agenda)


# --------------------------------------------------------------------------- roster


@dataclass
class RosterResult:
    """What an addition to the roster did."""

    added: int = 0
    already: int = 0
    registered: int = 0
    sites: list[dict[str, int]] = field(default_factory=list)


def _counts_by_site(session: TrainingSession) -> list[dict[str, int]]:
    counts = dict(db.session.execute(
        select(Registration.site_id, func.count())
        .where(Registration.session_id == session.id)
        .group_by(Registration.site_id)).all())
    return [{"site_id": ss.site_id, "registered": counts.get(ss.site_id, 0)}
            for ss in sorted(session.session_sites, key=lambda s: s.site_id)]


def roster_counts(session: TrainingSession) -> RosterResult:
    sites = _counts_by_site(session)
    return RosterResult(registered=sum(s["registered"] for s in sites), sites=sites)


def _person(name: str, code: str, site: str | None) -> str:
    if site:
        return gettext("%(name)s (%(code)s, %(site)s)", name=name, code=code, site=site)
    return gettext("%(name)s (%(code)s)", name=name, code=code)


def _outsiders_message(names: list[str], total: int) -> str:
    shown = ", ".join(names[:MAX_ROSTER_NAMES])
    if total > MAX_ROSTER_NAMES:
        shown += " " + pgettext("more people", "(and %(n)d more)", n=total - MAX_ROSTER_NAMES)
    return ngettext(
        "%(num)d person belongs to a site that does not take part in this session, "
        "so nobody was added: %(names)s.",
        "%(num)d people belong to sites that do not take part in this session, "
        "so nobody was added: %(names)s.", total, names=shown)


def register_participants(actor: User, session: TrainingSession, *,
                          participant_ids: Iterable[Any] = (), site_ids: Iterable[Any] = (),
                          unit_ids: Iterable[Any] = ()) -> RosterResult:
    """Add people to the expected roster, each at their home site: by id, every participant
    of some sites, or of some units (communes / centres). All or nothing: one person whose
    home site is not in the session refuses the whole request, naming them."""
    require_staff(actor)
    errors = Errors()
    session_sites = {ss.site_id: ss.site for ss in session.session_sites}

    def ints(values: Iterable[Any], name: str) -> list[int]:
        out = []
        for raw in values:
            value = _int(raw)
            if value is None:
                errors.add(name, gettext("Not a valid whole number."))
            elif value not in out:
                out.append(value)
        return out

    pids = ints(participant_ids, "participant_ids")
    sids = ints(site_ids, "site_ids")
    uids = ints(unit_ids, "unit_ids")
    errors.check()
    if not (pids or sids or uids):
        raise Invalid.field("participant_ids", gettext(
            "Name at least one participant, site or unit to add."))

    for sid in sids:
        if sid not in session_sites:
            site = db.session.get(Site, sid)
            errors.add("site_ids", gettext("%(site)s does not take part in this session.",
                                           site=site.name) if site else
                       gettext("Unknown site: %(id)s.", id=sid))
    units = {u.id: u for u in db.session.scalars(select(Unit).where(Unit.id.in_(uids)))}
    for uid in uids:
        unit = units.get(uid)
        if unit is None:
            errors.add("unit_ids", gettext("Unknown unit: %(id)s.", id=uid))
        elif unit.site_id not in session_sites:
            errors.add("unit_ids", gettext(
                "%(unit)s belongs to %(site)s, which does not take part in this session.",
                unit=unit.name, site=unit.site.name))
    people: dict[int, tuple[int, str, str, int]] = {}
    for chunk_start in range(0, len(pids), 900):
        chunk = pids[chunk_start:chunk_start + 900]
        for row in db.session.execute(
                select(Participant.id, Participant.full_name, Participant.code,
                       Participant.site_id).where(Participant.id.in_(chunk))):
            people[row[0]] = (row[0], row[1], row[2], row[3])
    missing = [p for p in pids if p not in people]
    if missing:
        shown = ", ".join(str(p) for p in missing[:MAX_ROSTER_NAMES])
        errors.add("participant_ids", ngettext("Unknown participant: %(ids)s.",
                                               "Unknown participants: %(ids)s.",
                                               len(missing), ids=shown))
    outsiders = [p for p in people.values() if p[3] not in session_sites]
    if outsiders:
        site_names = dict(db.session.execute(
            select(Site.id, Site.name).where(Site.id.in_({p[3] for p in outsiders}))).all())
        names = [_person(name, code, site_names.get(sid)) for _, name, code, sid in outsiders]
        errors.add("participant_ids", _outsiders_message(names, len(outsiders)))
    errors.check()

    wanted: dict[int, int] = {pid: sid for pid, _, _, sid in people.values()}
    if sids:
        for pid, sid in db.session.execute(
                select(Participant.id, Participant.site_id)
                .where(Participant.site_id.in_(sids))):
            wanted[pid] = sid
    if uids:
        for pid, sid in db.session.execute(
                select(Participant.id, Participant.site_id)
                .where(Participant.unit_id.in_(uids))):
            if sid in session_sites:
                wanted[pid] = sid
    return _insert_registrations(actor, session, wanted, source="ids")


def _insert_registrations(actor: User, session: TrainingSession, wanted: Mapping[int, int],
                          *, source: str) -> RosterResult:
    existing = set(db.session.scalars(
        select(Registration.participant_id).where(Registration.session_id == session.id)))
    now = utcnow()
    rows = [{"session_id": session.id, "participant_id": pid, "site_id": sid,
             "created_at": now, "walk_in": False}
            for pid, sid in wanted.items() if pid not in existing]
    try:
        if rows:
            db.session.execute(insert(Registration), rows)
        _audit(actor, "session.roster.add", session.id, added=len(rows), source=source)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(gettext("The roster changed while these people were being added; "
                               "nothing was added. Please try again.")) from None
    result = roster_counts(session)
    result.added = len(rows)
    result.already = len(wanted) - len(rows)
    return result


def unregister(actor: User, session: TrainingSession, participant_id: int) -> None:
    """Take someone off the expected roster (not once they are checked in)."""
    require_staff(actor)
    reg = db.session.scalar(select(Registration).where(
        Registration.session_id == session.id, Registration.participant_id == participant_id))
    if reg is None:
        raise NotFound(gettext("This person is not on the roster of this session."))
    if db.session.scalar(select(Checkin.id).where(Checkin.session_id == session.id,
                                                  Checkin.participant_id == participant_id)):
        raise Conflict(gettext("%(name)s is already checked in; undo the check-in first.",
                               name=reg.participant.full_name))
    db.session.delete(reg)
    _audit(actor, "session.roster.remove", session.id, participant_id=participant_id)
    db.session.commit()


def clear_site_roster(actor: User, session: TrainingSession, site_id: int) -> int:
    """Empty one site's roster, keeping the people already checked in; returns how many left."""
    require_staff(actor)
    get_session_site(session, site_id)
    checked = select(Checkin.participant_id).where(Checkin.session_id == session.id)
    result = db.session.execute(
        delete(Registration).where(Registration.session_id == session.id,
                                   Registration.site_id == site_id,
                                   Registration.participant_id.not_in(checked))
        .execution_options(synchronize_session=False))
    removed = int(getattr(result, "rowcount", 0) or 0)
    _audit(actor, "session.roster.clear", session.id, site_id=site_id, removed=removed)
    db.session.commit()
    return removed


def require_roster_access(actor: User, session: TrainingSession, site_id: int | None) -> None:
    """Staff read every roster; a coordinator the rosters of its own sites only."""
    require_any(actor)
    if site_id is not None:
        get_session_site(session, site_id)
    if actor.is_staff:
        return
    if site_id is None or site_id not in actor.site_ids:
        raise Forbidden(gettext("You coordinate other sites, not this one."))


def roster_stmt(actor: User, session: TrainingSession, site_id: int | None = None,
                q: str | None = None) -> Select[Registration, Participant]:
    """(Registration, Participant) rows, sorted by name the Vietnamese way. A coordinator
    without `site_id` gets the rosters of all its sites in this session."""
    require_any(actor)
    if site_id is not None or actor.is_staff:
        require_roster_access(actor, session, site_id)
    stmt = (select(Registration, Participant)
            .join(Participant, Participant.id == Registration.participant_id)
            .where(Registration.session_id == session.id))
    if site_id is not None:
        stmt = stmt.where(Registration.site_id == site_id)
    elif not actor.is_staff:
        mine = my_site_ids(actor, session)
        if not mine:
            raise Forbidden(gettext("This session does not include any of your sites."))
        stmt = stmt.where(Registration.site_id.in_(mine))
    if q:
        from trainer.people.services import search_filter

        where = search_filter(q)
        if where is not None:
            stmt = stmt.where(where)
    return stmt.order_by(Participant.sort_key, Participant.id)


def checked_in_ids(session: TrainingSession, participant_ids: Sequence[int]) -> set[int]:
    if not participant_ids:
        return set()
    return set(db.session.scalars(select(Checkin.participant_id).where(
        Checkin.session_id == session.id, Checkin.participant_id.in_(list(participant_ids)))))


# --------------------------------------------------------------------------- roster import

IMPORT_MAX_ROWS = 50_000

_EXTRA_HEADERS = {"id": "participant_id", "participant id": "participant_id"}
_ROSTER_COLUMNS = ("code", "participant_id", "full_name", "site_code", "birth_year", "phone")


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return nfc(str(value))


def _read_roster_table(data: bytes) -> tuple[list[tuple[int, list[str]]], dict[str, int]]:
    """(spreadsheet row number, cells) under the header, and the column of each field.

    Reading (XLSX by content, CSV in UTF-8, UTF-16 or Windows-1258, any of , ; tab) and the
    header names (English or Vietnamese, with or without accents) are the participant
    importer's (trainer.people.importer), so both imports accept the same files. The header
    may sit below a title; a file of one column without a header is a list of codes."""
    from trainer.people import importer

    rows = importer.read_rows(data, IMPORT_MAX_ROWS)  # off the loop, stops past the cap
    filled = [(n, [_cell_text(v) for v in values]) for n, values in rows
              if any(_cell_text(v) for v in values)]
    if not filled:
        raise Invalid.field("file", gettext("The file is empty."))
    for i, (_, values) in enumerate(filled[:importer.MAX_HEADER_SCAN]):
        columns: dict[str, int] = {}
        for j, value in enumerate(values):
            key = importer.header_key(value)
            field_name = _EXTRA_HEADERS.get(key) or importer.HEADERS.get(key)
            if field_name in _ROSTER_COLUMNS and field_name not in columns:
                columns[field_name] = j
        if {"code", "participant_id", "full_name"} & set(columns):
            return filled[i + 1:], columns
    if all(len([c for c in values if c]) == 1 for _, values in filled):
        return [(n, [next(c for c in values if c)]) for n, values in filled], {"code": 0}
    raise Invalid.field("file", gettext(
        "The file needs a column “Mã học viên” (code), or “Họ và tên” with "
        "“Mã điểm cầu” (site code) and “Năm sinh” or “Điện thoại”."))


def import_roster(actor: User, session: TrainingSession, filename: str,
                  data: bytes, max_bytes: int | None = None) -> RosterResult:
    """Add the people a CSV/XLSX file lists (by participant code, or by name and site code
    with a birth year or phone) to the roster. Every row is checked first
    (trainer.sessions.roster_import); any row that names someone unknown, or someone whose
    home site is not in this session (another district, another province), refuses the whole
    file with a message per row (numbered as the spreadsheet shows them). The pages import
    the good rows of a checked file instead, after a preview."""
    from trainer.sessions import roster_import

    checked = roster_import.check(actor, session, data, max_bytes)
    if checked.errors:
        problems = [gettext("Row %(row)d: %(message)s", row=e["row"], message=e["message"])
                    for e in checked.errors[:200]]
        detail = ngettext("%(num)d row needs attention; nobody was added.",
                          "%(num)d rows need attention; nobody was added.", len(checked.errors))
        raise Invalid(detail + " " + " ".join(problems[:3]), errors={"file": problems})
    if not checked.wanted:
        raise Invalid.field("file", gettext("The file lists nobody."))
    return _insert_registrations(actor, session, checked.wanted, source="import")


# --------------------------------------------------------------------------- calendars


def month_weeks(anchor: date) -> list[list[date]]:
    """The Monday-to-Sunday weeks covering the month of `anchor`."""
    first = anchor.replace(day=1)
    start = first - timedelta(days=first.weekday())
    next_month = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    weeks = []
    day = start
    while day < next_month:
        weeks.append([day + timedelta(days=i) for i in range(7)])
        day += timedelta(days=7)
    return weeks


def week_days(anchor: date) -> list[date]:
    start = anchor - timedelta(days=anchor.weekday())
    return [start + timedelta(days=i) for i in range(7)]


def local_day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """UTC instants of local midnight before `first` and after `last`."""
    zone = local_zone()
    start = datetime.combine(first, time(0), tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def by_local_day(sessions: Iterable[TrainingSession]) -> dict[date, list[TrainingSession]]:
    """Sessions under each local day they cover."""
    zone = local_zone()
    out: dict[date, list[TrainingSession]] = {}
    for s in sessions:
        day = s.starts_at.astimezone(zone).date()
        last = (s.ends_at - timedelta(seconds=1)).astimezone(zone).date()
        while day <= last:
            out.setdefault(day, []).append(s)
            day += timedelta(days=1)
    return out


FEED_PAST_DAYS = 180
FEED_MAX = 500


def user_for_calendar_key(key: str) -> User:
    if not key or len(key) > 64 or not key.isascii() or not key.isprintable():
        raise NotFound(gettext("Unknown calendar."))  # keys are token_urlsafe; no NUL to PG
    user = db.session.scalar(select(User).where(User.calendar_key == key))
    if user is None or not user.active:
        raise NotFound(gettext("Unknown calendar."))
    return user


def feed_sessions(user: User) -> list[TrainingSession]:
    """The sessions of a personal feed: recent and coming ones the user may see."""
    since = utcnow() - timedelta(days=FEED_PAST_DAYS)
    stmt = sessions_stmt(user, start=since).limit(FEED_MAX)
    return list(db.session.scalars(stmt))
