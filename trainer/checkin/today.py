"""Where a coordinator checks people in today: the check-in desks of the sessions on today.

A desk is one site of one session that the user acts for. The coordinator's start page
(`/sessions/checkin`, also the installed web app's start) opens the desk at once when exactly
one session is live for the user's sites, and otherwise lists today's desks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, or_

from trainer.auth.models import User
from trainer.dbtypes import utcnow
from trainer.extensions import db
from trainer.i18n import local_zone
from trainer.sessions import services as session_services
from trainer.sessions.models import SessionStatus, TrainingSession
from trainer.text import sort_key

# A session that starts within this long is on the desk list even past local midnight (a
# coordinator setting up at 23:50 for a session at 00:10 sees its desk).
SOON = timedelta(hours=3)


@dataclass(frozen=True)
class Desk:
    session_id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    live: bool
    site_id: int
    site_name: str
    is_host: bool


def desks(actor: User, *, now: datetime | None = None) -> list[Desk]:
    """The user's desks in the sessions that are live now, take place today (local day) or start
    within SOON, and have not ended: live sessions first, then by start; the host site first in a session.
    Coordinators: their sites; organisers and admins: the host site."""
    now = now or utcnow()
    today: date = now.astimezone(local_zone()).date()
    start, end = session_services.local_day_bounds(today, today)
    end = max(end, now + SOON)
    stmt = session_services.sessions_stmt(actor).where(
        TrainingSession.status != SessionStatus.ENDED,
        or_(TrainingSession.status == SessionStatus.LIVE,
            and_(TrainingSession.ends_at > start, TrainingSession.starts_at < end)))
    out: list[Desk] = []
    for session in db.session.scalars(stmt):
        # staff: the host site's desk (the hall they run); the session page links every site
        mine = ({session.host_site_id} if actor.is_staff
                else set(session_services.my_site_ids(actor, session)))
        live = session.status == SessionStatus.LIVE
        for ss in sorted(session.session_sites,
                         key=lambda s: (s.site_id != session.host_site_id, sort_key(s.site.name))):
            if ss.site_id in mine:
                out.append(Desk(session_id=session.id, title=session.title,
                                starts_at=session.starts_at, ends_at=session.ends_at, live=live,
                                site_id=ss.site_id, site_name=ss.site.name,
                                is_host=ss.site_id == session.host_site_id))
    out.sort(key=lambda d: (not d.live, d.starts_at, d.session_id))
    return out


def only_live_desk(found: list[Desk]) -> Desk | None:
    """The desk to open at once: the only one of the only live session."""
    live = [d for d in found if d.live]
    return live[0] if len(live) == 1 else None
