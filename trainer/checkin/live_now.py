"""What is live now, for an organiser's home and the top of a session's page: each session that
is live (or due to open for check-in) with the screens of the day: the live wall, the projector,
the video room and the quiz room screen.

Read-only queries; the pages decide where to show them (templates/checkin/_live_now.html).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app, url_for
from sqlalchemy import func, or_, select

from trainer.auth.models import User
from trainer.dbtypes import utcnow
from trainer.extensions import db
from trainer.quizzes.models import Quiz, QuizStatus
from trainer.sessions.models import Checkin, Registration, SessionStatus, TrainingSession

LIMIT = 12


def _video(session: TrainingSession) -> str | None:
    """The host's control room of a builtin conference (when a Janus server runs), else the
    outside link (Zoom, Meet...), else nothing."""
    from trainer.conference.services import janus_available
    from trainer.sessions.services import safe_link

    provider = getattr(session.conference_provider, "value", session.conference_provider)
    if provider == "builtin":
        return url_for("conference.host_room", session_id=session.id) \
            if janus_available() else None
    return safe_link(session.conference_url)


def screens(session: TrainingSession, quiz: Quiz | None = None) -> dict[str, str | None]:
    """The addresses of a session's screens (None: the session has no such screen)."""
    sid = int(session.id)
    return {
        "wall": url_for("checkin.wall", session_id=sid),
        "projector": url_for("checkin.projector", session_id=sid),
        "video": _video(session),
        "quiz_screen": url_for("quizzes.screen", quiz_id=quiz.id)
        if quiz is not None and "quizzes.screen" in current_app.view_functions else None,
    }


def _open_quizzes(session_ids: list[int]) -> dict[int, Quiz]:
    """Per session, its open quiz (the latest opened when there are several)."""
    if not session_ids:
        return {}
    out: dict[int, Quiz] = {}
    for quiz in db.session.scalars(
            select(Quiz).where(Quiz.session_id.in_(session_ids), Quiz.status == QuizStatus.OPEN)
            .order_by(Quiz.opened_at.asc().nulls_first(), Quiz.id)):
        out[quiz.session_id] = quiz
    return out


def session_screens(actor: User | None, session: TrainingSession) -> dict[str, Any] | None:
    """The screens of one session for the top of its page (organisers and admins only)."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_staff:
        return None
    quiz = _open_quizzes([int(session.id)]).get(int(session.id))
    return {"session": session, "quiz": quiz, **screens(session, quiz)}


def live_sessions(actor: User | None) -> list[dict[str, Any]]:
    """Sessions live now, and scheduled ones whose check-in is open (CHECKIN_OPENS_BEFORE_MIN
    before they start until they end), with their counts and screens. Organisers only."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_staff:
        return []
    now = utcnow()
    opens = timedelta(minutes=float(current_app.config.get("CHECKIN_OPENS_BEFORE_MIN", 60)))
    sessions = list(db.session.scalars(
        select(TrainingSession)
        .where(or_(TrainingSession.status == SessionStatus.LIVE,
                   (TrainingSession.status == SessionStatus.SCHEDULED)
                   & (TrainingSession.starts_at <= now + opens)
                   & (TrainingSession.ends_at > now)))
        .order_by(TrainingSession.starts_at, TrainingSession.id).limit(LIMIT)))
    ids = [int(s.id) for s in sessions]
    if not ids:
        return []
    registered = dict(db.session.execute(
        select(Registration.session_id, func.count()).where(Registration.session_id.in_(ids))
        .group_by(Registration.session_id)).all())
    present = dict(db.session.execute(
        select(Checkin.session_id, func.count()).where(Checkin.session_id.in_(ids))
        .group_by(Checkin.session_id)).all())
    quizzes = _open_quizzes(ids)
    return [{"session": s, "quiz": quizzes.get(int(s.id)),
             "registered": int(registered.get(s.id, 0)), "present": int(present.get(s.id, 0)),
             **screens(s, quizzes.get(int(s.id)))} for s in sessions]
