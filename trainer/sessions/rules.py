"""Session rules shared by trainings, sessions, agenda and rosters: vocabulary, conference links,
input checks, audit."""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from flask_babel import gettext, lazy_pgettext
from flask_babel import lazy_gettext as _l

from trainer.audit.services import record
from trainer.auth.models import User
from trainer.dbtypes import utcnow
from trainer.errors import Invalid
from trainer.i18n import local_zone
from trainer.sessions.models import (
    SessionStatus,
    TrainingSession,
)
from trainer.text import has_control_chars, nfc
from trainer.validation import Errors

log = logging.getLogger(__name__)


#: Topics with a label; other short topics are accepted as they are typed.
TOPICS: dict[str, Any] = {
    "management": _l("Managing and running a community learning centre"),
    "gender": _l("Gender equality and gender mainstreaming"),
}


MAX_TOPICS = 20
MAX_PARTNERS = 20


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
    try:
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return None
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


SESSION_FIELDS = ("title", "training_id", "starts_at", "ends_at", "host_site_id", "site_ids",
                  "topics", "conference_url", "conference_provider", "description",
                  "checkin_grace_minutes")


_TIME_RE = re.compile(r"^\s*(\d{1,2})[:hH.](\d{2})\s*$")
#: the times of day agenda.parse_time reads, as the API takes them: H:MM or HH:MM, or HH:MM:SS
#: (the seconds are dropped)
TIME_PATTERN = ("^(?:(?:[01]?[0-9]|2[0-3]):[0-5][0-9]"
                "|(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-9]{2})$")


IMPORT_MAX_ROWS = 50_000


_EXTRA_HEADERS = {"id": "participant_id", "participant id": "participant_id"}


_ROSTER_COLUMNS = ("code", "participant_id", "full_name", "site_code", "birth_year", "phone")


FEED_PAST_DAYS = 180


FEED_MAX = 500
