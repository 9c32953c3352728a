"""The session's public page (`/s/<id>`), for trainees without an account: what the day holds
(agenda), the materials shared with them, and the quiz while it is open. The session's QR
code and the printed programme point here."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from trainer.materials import services as materials
from trainer.quizzes import services as quizzes
from trainer.quizzes.models import QuizStatus
from trainer.sessions.models import SessionStatus

public_bp = Blueprint("public_session", __name__)


def public_view(session_id: int) -> dict[str, Any]:
    """What a trainee may see of a session; nothing about people."""
    session = materials.get_public_session(session_id)  # 404 for an unknown session
    return {
        "session": session,
        "agenda": sorted(session.agenda, key=lambda a: (a.position, a.id)),
        "materials": materials.shared_for_session(session.id),
        "quizzes": [q for q in quizzes.quizzes_for_session(session.id)
                    if q.status == QuizStatus.OPEN],
        "ended": session.status == SessionStatus.ENDED,
    }


@public_bp.get("/s/<int:session_id>")
def show(session_id: int) -> Any:
    return render_template("sessions/public.html", **public_view(session_id),
                           topic_name=materials.topic_name)
