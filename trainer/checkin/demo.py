"""The demo session, half an hour in: most sites have checked in part of their roster, two
sites have not started (so a new user can try a check-in at once), one reports a problem."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select, update

from trainer.checkin import counters
from trainer.dbtypes import utcnow
from trainer.extensions import db
from trainer.sessions.models import (
    Checkin,
    Registration,
    SessionSite,
    SiteStatus,
    TrainingSession,
)


def load(ctx: Any) -> None:
    session: TrainingSession | None = getattr(ctx, "live_session", None)
    if session is None:
        return
    rng = random.Random(2017)
    now = utcnow()
    # sites with no check-ins yet (try them yourself) and one reporting a problem
    not_started, with_problem = ctx.province.not_started, ctx.province.with_problem
    codes = {site.id: code for code, site in ctx.sites.items()}
    coordinators = {site.id: ctx.users.get(f"coord-{code.lower()}") for code, site in
                    ctx.sites.items()}
    rows = db.session.execute(
        select(Registration.participant_id, Registration.site_id)
        .where(Registration.session_id == session.id).order_by(Registration.id)).all()
    checkins: list[dict[str, Any]] = []
    for participant_id, site_id in rows:
        if codes.get(site_id) in not_started or rng.random() > 0.7:
            continue
        at = now - timedelta(seconds=rng.randint(60, 40 * 60))
        user = coordinators.get(site_id)
        checkins.append({
            "session_id": session.id, "participant_id": participant_id, "site_id": site_id,
            "at": at, "server_at": at, "method": rng.choice(["scan", "scan", "search", "code"]),
            "by_user_id": user.id if user else None, "walk_in": False, "flags": [],
        })
    if checkins:
        db.session.execute(insert(Checkin), checkins)
    db.session.execute(update(TrainingSession).where(TrainingSession.id == session.id)
                       .values(attendance_version=len(checkins)))
    counters.rebuild(session.id)
    for site_id, code in codes.items():
        if code in not_started:
            continue
        status, note = SiteStatus.ONLINE, None
        if code == with_problem:
            status, note = SiteStatus.ISSUE, "Mất tiếng từ điểm cầu chính, đang kiểm tra loa."
        db.session.execute(
            update(SessionSite)
            .where(SessionSite.session_id == session.id, SessionSite.site_id == site_id)
            .values(status=status, status_note=note,
                    status_at=now - timedelta(minutes=rng.randint(5, 45))))
    held = _past_session(ctx, rng)
    ctx.notes.append(
        f"Demo check-ins: {held} at the session held last month; "
        f"{len(checkins)} of {len(rows)} registered so far today; "
        f"{', '.join(not_started)} have not started.")


def _past_session(ctx: Any, rng: random.Random) -> int:
    """The session held last month: most of its roster came (its figures enter the totals)."""
    past: TrainingSession | None = getattr(ctx, "sessions", {}).get("past")
    if past is None:
        return 0
    rows: list[dict[str, Any]] = [{"session_id": past.id, "participant_id": pid, "site_id": sid,
             "at": (at := past.starts_at + timedelta(minutes=rng.randint(-45, 15))),
             "server_at": at, "method": "scan", "by_user_id": None, "walk_in": False,
             "flags": []}
            for pid, sid in db.session.execute(
                select(Registration.participant_id, Registration.site_id)
                .where(Registration.session_id == past.id).order_by(Registration.id))
            if rng.random() < 0.85]
    if rows:
        db.session.execute(insert(Checkin), rows)
    db.session.execute(update(TrainingSession).where(TrainingSession.id == past.id)
                       .values(attendance_version=len(rows)))
    return len(rows)
