"""Which report a page opens on when the user has not chosen yet: today's session rather than
next week's, and a chooser for the coverage and gender pages instead of a refusal."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from trainer.dbtypes import utcnow
from trainer.i18n import to_local
from trainer.sessions.models import SessionStatus


def default_session(sessions: Sequence[Any], now: datetime | None = None) -> Any | None:
    """The session a report most likely means: one that is live, else the one of today nearest
    to now, else the latest that has already started, else the soonest to come."""
    if not sessions:
        return None
    now = now or utcnow()
    live = [s for s in sessions if s.status == SessionStatus.LIVE]
    if live:
        return min(live, key=lambda s: abs((s.starts_at - now).total_seconds()))
    today = to_local(now).date()
    todays = [s for s in sessions if to_local(s.starts_at).date() == today]
    if todays:
        return min(todays, key=lambda s: abs((s.starts_at - now).total_seconds()))
    started = [s for s in sessions if s.starts_at <= now]
    if started:
        return max(started, key=lambda s: (s.starts_at, s.id))
    return min(sessions, key=lambda s: (s.starts_at, s.id))


def nothing_chosen(*values: int | None) -> bool:
    return all(v is None for v in values)
