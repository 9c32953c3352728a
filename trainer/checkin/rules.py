"""Check-in rules: sessions and their check-in windows, who may act, input checks, time flags."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext
from sqlalchemy import select

from trainer.auth.models import User
from trainer.auth.services import require_any, require_site
from trainer.dbtypes import utcnow
from trainer.errors import Conflict, Forbidden, Invalid, NotFound
from trainer.extensions import db
from trainer.i18n import fmt_time
from trainer.people.models import Sex
from trainer.sessions.models import (
    SessionSite,
    SessionStatus,
    TrainingSession,
)
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


def pages_room(session_id: int) -> str:
    """Every coordinator page of a session (roll-call prompts go there)."""
    return f"session-{session_id}-sites"


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


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


def socket_user(user_id: int | None) -> User | None:
    """The account a Socket.IO connection authenticated as (for other features' events)."""
    if user_id is None:
        return None
    user = db.session.get(User, user_id)
    return user if user is not None and user.active else None
