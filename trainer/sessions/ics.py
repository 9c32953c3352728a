"""iCalendar (RFC 5545) files: one per session and a personal feed per user.

Times are written in the local zone (TZID=Asia/Ho_Chi_Minh, with its VTIMEZONE) so that a
calendar shows the hour the organisers announced; UID is stable per session
("session-<id>@trainer"), SEQUENCE grows with every change (TrainingSession.ics_sequence),
DTSTAMP / LAST-MODIFIED are the time of the last change, so a calendar updates the entry it
already holds instead of adding a second one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC

from flask import current_app
from flask_babel import gettext
from icalendar import Calendar, Event

from trainer.i18n import local_zone
from trainer.sessions import services
from trainer.sessions.models import SessionStatus, TrainingSession

PRODID = "-//trainer//Multi-site training sessions//VI"


def uid(session: TrainingSession) -> str:
    domain = current_app.config.get("ICS_UID_DOMAIN", "trainer")
    return f"session-{session.id}@{domain}"


def _description(session: TrainingSession, page_url: str | None) -> str:
    lines: list[str] = []
    if session.training is not None:
        lines.append(session.training.title)
    if session.conference_url:
        lines.append(f"{services.join_label(session.conference_url)}: {session.conference_url}")
    rows = sorted(session.session_sites,
                  key=lambda ss: (ss.site_id != session.host_site_id, ss.site.name_folded))
    if rows:
        lines.append("")
        lines.append(gettext("Host site: %(site)s", site=session.host_site.name))
        others = [ss.site.name for ss in rows if ss.site_id != session.host_site_id]
        if others:
            lines.append(gettext("Bridge points (%(n)d): %(names)s", n=len(others),
                                 names=", ".join(others)))
    if session.agenda:
        lines.append("")
        lines.append(gettext("Agenda"))
        for item in session.agenda:
            when = item.starts_at.strftime("%H:%M") + " " if item.starts_at else ""
            who = ", ".join(x for x in (item.presenter, item.presenter_org) if x)
            lines.append(f"{when}{item.title}" + (f" ({who})" if who else ""))
    if session.description:
        lines.append("")
        lines.append(session.description)
    if session.topics:
        lines.append("")
        lines.append(gettext("Topics: %(topics)s",
                             topics=", ".join(services.topic_label(t) for t in session.topics)))
    if page_url:
        lines.append("")
        lines.append(page_url)
    return "\n".join(lines).strip()


def event(session: TrainingSession, page_url: str | None = None) -> Event:
    zone = local_zone()
    ev = Event()
    ev.add("uid", uid(session))
    ev.add("sequence", session.ics_sequence or 0)
    stamp = (session.updated_at or session.created_at).astimezone(UTC)
    ev.add("dtstamp", stamp)
    ev.add("last-modified", stamp)
    ev.add("created", session.created_at.astimezone(UTC))
    ev.add("dtstart", session.starts_at.astimezone(zone))
    ev.add("dtend", session.ends_at.astimezone(zone))
    ev.add("summary", session.title)
    ev.add("description", _description(session, page_url))
    if session.conference_url:
        ev.add("location", session.conference_url)
        ev.add("url", session.conference_url)
    else:
        ev.add("location", session.host_site.name)
        if page_url:
            ev.add("url", page_url)
    ev.add("status", "CONFIRMED")
    for topic in session.topics or []:
        ev.add("categories", services.topic_label(topic))
    ev.add("x-trainer-status", session.status.value if isinstance(session.status, SessionStatus)
           else str(session.status))
    return ev


def calendar(sessions: Iterable[TrainingSession], name: str,
             page_url: Callable[[TrainingSession], str] | None = None) -> bytes:
    """A VCALENDAR with one VEVENT per session and the VTIMEZONE they use."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", str(local_zone().key))
    for session in sessions:
        cal.add_component(event(session, page_url(session) if page_url else None))
    cal.add_missing_timezones()
    return cal.to_ical()


def session_calendar(session: TrainingSession, page_url: str | None = None) -> bytes:
    return calendar([session], session.title, (lambda _s: page_url) if page_url else None)


def feed_name(user: object) -> str:
    return gettext("Training sessions (%(user)s)", user=getattr(user, "username", ""))

