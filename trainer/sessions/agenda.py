"""The agenda of a session, and the calendar (month, week, ICS feed)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext
from sqlalchemy import select

from trainer.auth.models import User
from trainer.auth.services import require_staff
from trainer.dbtypes import utcnow
from trainer.errors import NotFound
from trainer.extensions import db
from trainer.i18n import local_zone
from trainer.sessions.models import (
    AgendaItem,
    TrainingSession,
)
from trainer.sessions.rules import _TIME_RE, FEED_MAX, FEED_PAST_DAYS, _audit, _touch
from trainer.sessions.trainings import sessions_stmt
from trainer.validation import Errors

log = logging.getLogger(__name__)


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
