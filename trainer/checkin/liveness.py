"""Signs of life of the sites on the wall, and the feed of the latest check-ins.

What the wall tells apart, per site of a session (`presence`):
- "live": a check-in page of the site is open (a Socket.IO page seen within
  SITE_OFFLINE_AFTER_S), or the site's last check-in reached the server within
  SITE_ALIVE_AFTER_CHECKIN_S (default 300 s): a phone that checks people in over plain HTTP
  is alive even when its page's socket is not;
- "never": the site has never opened its check-in page and has no check-in: grey on the wall;
- "lost": it was heard from before and is not now: red, with the time it was last heard
  (`last_heard_at`, the latest of its page's last heartbeat and its last check-in).

A page's rows in `site_presence` are deleted once expired; `SessionSite.page_seen_at` keeps
when a page was last heard from (written when the expired rows are swept), so "lost" survives
the sweep and a restart.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update

from trainer.auth.models import User
from trainer.checkin.models import SitePresence
from trainer.dbtypes import utcnow
from trainer.extensions import db
from trainer.people.models import Participant
from trainer.sessions.models import Checkin, SessionSite
from trainer.sites.models import Site

PRESENCES = ("live", "never", "lost")
FEED_SIZE = 12


def alive_after_checkin() -> timedelta:
    return timedelta(seconds=float(current_app.config.get("SITE_ALIVE_AFTER_CHECKIN_S", 300)))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def keep_heard(removed: Iterable[tuple[int, int, datetime]]) -> None:
    """Page rows were swept: remember, per session site, when its page was last heard from.
    The caller commits."""
    latest: dict[tuple[int, int], datetime] = {}
    for session_id, site_id, seen in removed:
        key = (int(session_id), int(site_id))
        if seen is not None and (key not in latest or seen > latest[key]):
            latest[key] = seen
    for (session_id, site_id), seen in latest.items():
        db.session.execute(
            update(SessionSite)
            .where(SessionSite.session_id == session_id, SessionSite.site_id == site_id,
                   (SessionSite.page_seen_at.is_(None)) | (SessionSite.page_seen_at < seen))
            .values(page_seen_at=seen)
            .execution_options(synchronize_session=False))


def _heard(session_id: int, site_ids: list[int] | None) -> dict[int, dict[str, Any]]:
    """Per site: the latest page heartbeat (kept or still in site_presence) and the latest
    check-in's server time. Three queries whatever the number of sites."""
    out: dict[int, dict[str, Any]] = {}

    def merge(site_id: int, key: str, value: datetime | None) -> None:
        if value is None:
            return
        row = out.setdefault(int(site_id), {"page": None, "checkin": None})
        if row[key] is None or value > row[key]:
            row[key] = value

    kept = select(SessionSite.site_id, SessionSite.page_seen_at).where(
        SessionSite.session_id == session_id, SessionSite.page_seen_at.is_not(None))
    pages = (select(SitePresence.site_id, func.max(SitePresence.last_seen))
             .where(SitePresence.session_id == session_id).group_by(SitePresence.site_id))
    checkins = (select(Checkin.site_id, func.max(Checkin.server_at))
                .where(Checkin.session_id == session_id).group_by(Checkin.site_id))
    if site_ids is not None:
        kept = kept.where(SessionSite.site_id.in_(site_ids))
        pages = pages.where(SitePresence.site_id.in_(site_ids))
        checkins = checkins.where(Checkin.site_id.in_(site_ids))
    for site_id, seen in db.session.execute(kept):
        merge(site_id, "page", seen)
    for site_id, seen in db.session.execute(pages):
        merge(site_id, "page", seen)
    for site_id, at in db.session.execute(checkins):
        merge(site_id, "checkin", at)
    return out


def presence_of(connected: bool, heard: dict[str, Any] | None,
                now: datetime | None = None) -> tuple[str, datetime | None]:
    """("live" | "never" | "lost", when last heard from) for one site."""
    page = (heard or {}).get("page")
    checkin = (heard or {}).get("checkin")
    last = max((t for t in (page, checkin) if t is not None), default=None)
    now = now or utcnow()
    if connected or (checkin is not None and now - checkin <= alive_after_checkin()):
        return "live", last
    return ("lost" if last is not None else "never"), last


def annotate(session_id: int, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add `presence` and `last_heard_at` to site rows (site_board rows or a site_status
    payload: each has `site_id` and `connected`)."""
    ids = None if len(rows) > 50 else [int(r["site_id"]) for r in rows]
    heard = _heard(session_id, ids)
    now = utcnow()
    for row in rows:
        presence, last = presence_of(bool(row.get("connected")), heard.get(int(row["site_id"])),
                                     now)
        row["presence"] = presence
        row["last_heard_at"] = _iso(last)
    return rows


def latest_checkins(actor: User, session_id: int, limit: int = FEED_SIZE
                    ) -> list[dict[str, Any]]:
    """The newest check-ins of a session for the wall's feed (the caller checked that the
    actor may watch the session): organisers see every site, coordinators their own."""
    stmt = (select(Checkin.id, Checkin.site_id, Checkin.at, Checkin.walk_in,
                   Participant.full_name, Participant.sex, Site.name)
            .join(Participant, Participant.id == Checkin.participant_id)
            .join(Site, Site.id == Checkin.site_id)
            .where(Checkin.session_id == session_id)
            .order_by(Checkin.server_at.desc(), Checkin.id.desc())
            .limit(max(1, min(int(limit), 100))))
    if not actor.is_staff:
        stmt = stmt.where(Checkin.site_id.in_(list(actor.site_ids) or [-1]))
    return [{"checkin_id": cid, "site_id": site_id, "at": at, "walk_in": walk_in,
             "full_name": name, "sex": getattr(sex, "value", sex), "site_name": site_name}
            for cid, site_id, at, walk_in, name, sex, site_name in db.session.execute(stmt)]
