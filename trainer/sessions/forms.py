"""Reading the scheduling forms (plain HTML forms, CSRF from the page) into service input.

Parsing only: what a browser sends (text) becomes the values the services check (datetimes,
lists of ids). Rules and their messages stay in trainer.sessions.services.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext
from werkzeug.datastructures import MultiDict

from trainer.i18n import local_zone, to_local
from trainer.sessions import services
from trainer.sessions.models import Training, TrainingSession

LOCAL_INPUT = "%Y-%m-%dT%H:%M"  # <input type="datetime-local">
_FORMATS = (LOCAL_INPUT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M",
            "%d/%m/%Y %Hh%M", "%d-%m-%Y %H:%M")


def parse_local(value: str | None) -> datetime | None:
    """A local date and time typed in a form, as an aware datetime; ValueError if unreadable."""
    text = " ".join((value or "").split())
    if not text:
        return None
    for fmt in _FORMATS:
        try:
            naive = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return naive.replace(tzinfo=local_zone())
    raise ValueError(text)


def local_input(value: datetime | None) -> str:
    return to_local(value).strftime(LOCAL_INPUT) if value else ""


def parse_date(value: str | None) -> date | None:
    text = (value or "").strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _ints(values: list[str]) -> list[Any]:
    return [int(v) if v.strip().isdigit() else v for v in values if v.strip()]


def _datetimes(form: Mapping[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("starts_at", "ends_at"):
        try:
            out[name] = parse_local(form.get(name))
        except ValueError:
            errors.setdefault(name, []).append(gettext(
                "A date and time such as 01/03/2025 07:30."))
            out[name] = None
    return out


def session_data(form: MultiDict[str, str]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The session form as service input, and the errors of fields that could not be read."""
    errors: dict[str, list[str]] = {}
    data: dict[str, Any] = {
        "title": form.get("title", ""),
        "training_id": form.get("training_id") or None,
        "host_site_id": form.get("host_site_id") or None,
        "site_ids": _ints(form.getlist("site_ids")),
        "conference_url": form.get("conference_url", ""),
        "description": form.get("description", ""),
    }
    if "conference_provider" in form:  # builtin, or the link below (none without one)
        builtin = form.get("conference_provider") == "builtin"
        data["conference_provider"] = "builtin" if builtin else (
            "link" if data["conference_url"].strip() else "")
    topics = [t for t in form.getlist("topics") if t]
    other = form.get("other_topics", "")
    topics += [t.strip() for t in other.replace(";", ",").split(",") if t.strip()]
    data["topics"] = topics
    data.update(_datetimes(form, errors))
    return data, errors


def session_values(session: TrainingSession | None = None, *,
                   form: MultiDict[str, str] | None = None,
                   defaults: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What the form shows: the posted text, else the session, else the defaults."""
    if form is not None:
        topics = form.getlist("topics")
        return {
            "title": form.get("title", ""), "training_id": form.get("training_id", ""),
            "starts_at": form.get("starts_at", ""), "ends_at": form.get("ends_at", ""),
            "host_site_id": form.get("host_site_id", ""),
            "site_ids": [int(v) for v in form.getlist("site_ids") if v.isdigit()],
            "topics": topics, "other_topics": form.get("other_topics", ""),
            "conference_url": form.get("conference_url", ""),
            "conference_provider": form.get("conference_provider", ""),
            "description": form.get("description", ""), **_video(),
        }
    if session is not None:
        topics = list(session.topics or [])
        return {
            "title": session.title, "training_id": session.training_id or "",
            "starts_at": local_input(session.starts_at), "ends_at": local_input(session.ends_at),
            "host_site_id": session.host_site_id,
            "site_ids": [ss.site_id for ss in session.session_sites],
            "topics": [t for t in topics if t in services.TOPICS],
            "other_topics": ", ".join(t for t in topics if t not in services.TOPICS),
            "conference_url": session.conference_url or "",
            "conference_provider": session.conference_provider or "",
            "description": session.description or "", **_video(),
        }
    d = dict(defaults or {})
    return {
        "title": d.get("title", ""), "training_id": d.get("training_id", ""),
        "starts_at": local_input(d.get("starts_at")), "ends_at": local_input(d.get("ends_at")),
        "host_site_id": d.get("host_site_id", ""), "site_ids": d.get("site_ids", []),
        "topics": d.get("topics", []), "other_topics": "",
        "conference_url": "", "description": "", **_video(),
        "conference_provider": "builtin" if _video()["video_available"] else "",
    }


def _video() -> dict[str, bool]:
    from trainer.conference.services import janus_available

    return {"video_available": janus_available()}


def default_times(today: date) -> tuple[datetime, datetime]:
    """Tomorrow morning, 07:30 to 11:30 local: when such conferences usually run."""
    zone = local_zone()
    day = today + timedelta(days=1)
    return (datetime.combine(day, time(7, 30), tzinfo=zone),
            datetime.combine(day, time(11, 30), tzinfo=zone))


def copy_data(form: MultiDict[str, str]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    data: dict[str, Any] = {"title": form.get("title", ""),
                            "training_id": form.get("training_id") or None}
    data.update(_datetimes(form, errors))
    return data, errors


def training_data(form: MultiDict[str, str]) -> dict[str, Any]:
    topics = [t for t in form.getlist("topics") if t]
    other = form.get("other_topics", "")
    topics += [t.strip() for t in other.replace(";", ",").split(",") if t.strip()]
    return {
        "title": form.get("title", ""), "year": form.get("year", ""),
        "lead_agency": form.get("lead_agency", ""),
        "partners": [p for p in form.get("partners", "").splitlines() if p.strip()],
        "description": form.get("description", ""), "topics": topics,
    }


def training_values(training: Training | None = None, *,
                    form: MultiDict[str, str] | None = None,
                    year: int | None = None) -> dict[str, Any]:
    if form is not None:
        return {"title": form.get("title", ""), "year": form.get("year", ""),
                "lead_agency": form.get("lead_agency", ""),
                "partners": form.get("partners", ""), "description": form.get("description", ""),
                "topics": form.getlist("topics"), "other_topics": form.get("other_topics", "")}
    if training is not None:
        topics = list(training.topics or [])
        return {"title": training.title, "year": training.year,
                "lead_agency": training.lead_agency or "",
                "partners": "\n".join(training.partners or []),
                "description": training.description or "",
                "topics": [t for t in topics if t in services.TOPICS],
                "other_topics": ", ".join(t for t in topics if t not in services.TOPICS)}
    return {"title": "", "year": year or "", "lead_agency": "", "partners": "",
            "description": "", "topics": [], "other_topics": ""}


def agenda_data(form: MultiDict[str, str]) -> dict[str, Any]:
    return {"time": form.get("time", ""), "title": form.get("title", ""),
            "presenter": form.get("presenter", ""),
            "presenter_org": form.get("presenter_org", "")}


def site_data(form: MultiDict[str, str]) -> dict[str, Any]:
    return {"chair_name": form.get("chair_name", ""), "chair_title": form.get("chair_title", ""),
            "coordinator_ids": _ints(form.getlist("coordinator_ids"))}
