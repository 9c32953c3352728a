"""The bridge points' attendance on the video room, for the session report: per site, when it
first joined, minutes on the call and drops (what Zoom or BBB give per device, per site)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from trainer.conference import rules
from trainer.conference.models import ConferenceSite
from trainer.dbtypes import utcnow
from trainer.extensions import db

EMPTY = {"conference_first_joined_at": None, "conference_minutes": 0, "conference_drops": 0}


def site_attendance(session_id: int) -> dict[int, dict[str, Any]]:
    """{site_id: {conference_first_joined_at, conference_minutes, conference_drops}} (one
    query); sites missing here never joined."""
    now = utcnow()
    return {r.site_id: {"conference_first_joined_at": r.first_joined_at,
                        "conference_minutes": rules.connected_seconds(r, now) // 60,
                        "conference_drops": r.drops}
            for r in db.session.scalars(select(ConferenceSite)
                                        .where(ConferenceSite.session_id == session_id))}


def columns_for(session: Any) -> dict[int, dict[str, Any]] | None:
    """The report's per-site video columns, None when the session has no built-in room."""
    if session.conference_provider != "builtin":
        return None
    return site_attendance(session.id)
