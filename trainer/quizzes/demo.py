"""`trainer demo`: the question bank and a ready quiz for the demo session."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, select

from trainer.dbtypes import utcnow
from trainer.extensions import db
from trainer.quizzes import bank, services
from trainer.quizzes.models import QuizStatus
from trainer.sessions.models import SessionStatus, TrainingSession

DEMO_QUIZ_TITLE = "Kiểm tra cuối buổi: Quản lý TTHTCĐ và bình đẳng giới"


def demo_session() -> TrainingSession | None:
    """The live session if there is one, else the one that started last, else the next."""
    now = utcnow()
    return db.session.scalar(
        select(TrainingSession).order_by(
            case((TrainingSession.status == SessionStatus.LIVE, 0),
                 (TrainingSession.starts_at <= now, 1), else_=2),
            case((TrainingSession.starts_at <= now, TrainingSession.starts_at), else_=None).desc(),
            TrainingSession.starts_at, TrainingSession.id,
        ).limit(1))


def load(ctx: Any) -> None:
    result = bank.load_bank(commit=False)
    ctx.notes.append(result.summary())
    session = demo_session()
    if session is None:
        ctx.notes.append("Quiz: no demo session found, so no demo quiz was added.")
        return
    organiser = getattr(ctx, "users", {}).get("organiser")
    quiz = services.create_quiz(None, {
        "session_id": session.id,
        "title": DEMO_QUIZ_TITLE,
        "time_limit_s": 15 * 60,
        "pass_percent": 70,
        "multiple_rule": "partial",
        "attempts_allowed": 1,
        "shuffle_questions": True,
        "shuffle_options": True,
        "reveal": "after_close",
        "draws": [{"topic": "management", "count": 5}, {"topic": "gender", "count": 5}],
    }, commit=False)
    if organiser is not None:
        quiz.created_by_id = organiser.id
    if session.status == SessionStatus.LIVE:
        quiz.status, quiz.opened_at = QuizStatus.OPEN, utcnow()
    db.session.flush()
    ctx.notes.append(
        f"Quiz: “{quiz.title}” ({quiz.status.value}, 5 + 5 questions drawn per trainee, "
        f"15 minutes, pass 70 %) for session “{session.title}”; short code {quiz.short_code}.")
