"""A session's conference provider: `builtin` (trainer's room on Janus) or `link` (any
external URL in `conference_url`), or none. Called by the sessions service when a session is
created or changed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext

from trainer.conference.services import BUILTIN, LINK, janus_available
from trainer.errors import Invalid

PROVIDERS = (BUILTIN, LINK)
NONE = ("", "none")


def choose_provider(data: Mapping[str, Any], values: Mapping[str, Any],
                    current: Any) -> dict[str, Any]:
    """The provider (and, for `builtin` or none, the cleared link) that `data` asks for.

    Without `conference_provider` in `data`, a link means `link` and no link keeps a built-in
    room (or means none). `builtin` is refused while no video server is configured or started,
    unless the session already has it.
    """
    if "conference_url" in data and "conference_url" not in values:
        return {}  # the link itself was refused: its error says why
    url = values.get("conference_url") if "conference_url" in values else (
        current.conference_url if current is not None else None)
    had = current.conference_provider if current is not None else None
    if "conference_provider" not in data:
        if url:
            return {"conference_provider": LINK}
        return {} if had == BUILTIN else {"conference_provider": None}
    requested = data.get("conference_provider")
    if requested is None or requested in NONE:
        return {"conference_provider": None, "conference_url": None}
    if requested == LINK:
        if not url:
            raise Invalid.field("conference_url", gettext(
                "Give the conference link, e.g. https://meet.jit.si/…"))
        return {"conference_provider": LINK}
    if requested == BUILTIN:
        if had != BUILTIN and not janus_available():
            raise Invalid.field("conference_provider", gettext(
                "The built-in video room needs a video server: install Janus (apt-get install "
                "janus) and restart trainer, or set JANUS_URL."))
        return {"conference_provider": BUILTIN, "conference_url": None}
    raise Invalid.field("conference_provider", gettext("Unknown conference provider."))


def from_api(data: dict[str, Any]) -> dict[str, Any]:
    """The API's `"conference": {"provider", "url"}` (or null: none) as the service's fields;
    a bare `conference_url` keeps meaning a link."""
    if "conference" not in data:
        return data
    conference = data.pop("conference")
    if conference is None:
        data["conference_provider"] = None
        return data
    data["conference_provider"] = conference["provider"]
    if conference["provider"] == LINK:
        data["conference_url"] = conference.get("url", data.get("conference_url"))
    return data


def body(session: Any) -> dict[str, Any] | None:
    """The session's `conference` in the API: {"provider", "url"} or null."""
    if session.conference_provider == BUILTIN:
        return {"provider": BUILTIN, "url": None}
    if session.conference_url:
        return {"provider": LINK, "url": session.conference_url}
    return None
