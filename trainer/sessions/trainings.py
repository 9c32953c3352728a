"""Trainings (courses grouping sessions), and reading sessions: visibility, per-site rows, totals."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext
from sqlalchemy import Select, and_, exists, func, or_, select

from trainer.auth.models import User
from trainer.auth.services import require_any, require_staff
from trainer.dbtypes import utcnow
from trainer.errors import Forbidden, Invalid, NotFound
from trainer.extensions import db
from trainer.people.models import Participant
from trainer.sessions.models import (
    Checkin,
    Registration,
    SessionSite,
    SessionStatus,
    Training,
    TrainingSession,
)
from trainer.sessions.rules import MAX_PARTNERS, _audit, _topics, _touch, to_utc
from trainer.sites.models import Site
from trainer.validation import Errors

log = logging.getLogger(__name__)


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
        if len(cleaned) > MAX_PARTNERS:
            errors.add("partners", gettext("At most %(n)d partners.", n=MAX_PARTNERS))
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
