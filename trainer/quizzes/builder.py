"""Quizzes: create, edit, open and close; picked questions or per-topic draws."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from flask_babel import gettext
from sqlalchemy import Select, func, select

from trainer import live
from trainer.auth.models import User
from trainer.auth.services import require_any
from trainer.dbtypes import utcnow
from trainer.errors import Conflict, Forbidden, Invalid, NotFound
from trainer.extensions import db
from trainer.quizzes.models import (
    Attempt,
    MultipleRule,
    Question,
    Quiz,
    QuizDraw,
    QuizItem,
    QuizStatus,
    Reveal,
)
from trainer.quizzes.questions import _topic_key, create_question
from trainer.quizzes.rules import (
    MAX_ATTEMPTS_ALLOWED,
    MAX_QUESTIONS_PER_QUIZ,
    MAX_TIME_LIMIT_S,
    SHORT_CODE_ALPHABET,
    SHORT_CODE_LENGTH,
    _bool,
    _choice,
    _int,
    _prefixed,
    _staff,
    multiple_rule_text,
)
from trainer.sessions.models import SessionSite, TrainingSession
from trainer.text import nfc
from trainer.validation import field_text


def get_quiz(quiz_id: int) -> Quiz:
    quiz = db.session.get(Quiz, quiz_id)
    if quiz is None:
        raise NotFound(gettext("Unknown quiz."))
    return quiz


def get_quiz_for_viewer(actor: User | None, quiz_id: int) -> Quiz:
    """The quiz, for staff or a coordinator of a site taking part in its session."""
    user = require_any(actor)
    quiz = get_quiz(quiz_id)
    if not user.is_staff and not set(user.site_ids).intersection(
            ss.site_id for ss in quiz.session.session_sites):
        raise Forbidden(gettext("None of your sites takes part in this session."))
    return quiz


def quiz_by_short_code(code: str) -> Quiz:
    code = "".join(ch for ch in nfc(code or "").upper() if ch.isalnum())
    quiz = db.session.scalar(select(Quiz).where(Quiz.short_code == code)) if code else None
    if quiz is None:
        raise NotFound(gettext("Unknown quiz."))
    return quiz


def quizzes_for_session(session_id: int) -> list[Quiz]:
    return list(db.session.scalars(
        select(Quiz).where(Quiz.session_id == session_id).order_by(Quiz.id)))


def quizzes_query(actor: User, *, session_id: int | None = None,
                  status: str | None = None) -> Select[Any]:
    """Quizzes staff may list, and coordinators those of sessions their sites take part in
    (summaries, no questions)."""
    user = require_any(actor)
    stmt = select(Quiz)
    if not user.is_staff:
        stmt = stmt.where(Quiz.session_id.in_(select(SessionSite.session_id).where(
            SessionSite.site_id.in_(user.site_ids or [-1]))))
    if session_id is not None:
        stmt = stmt.where(Quiz.session_id == session_id)
    if status:
        stmt = stmt.where(Quiz.status == _choice(status, "status", QuizStatus))
    return stmt.order_by(Quiz.id)


def _short_code() -> str:
    for _ in range(50):
        code = "".join(secrets.choice(SHORT_CODE_ALPHABET) for _ in range(SHORT_CODE_LENGTH))
        if db.session.scalar(select(Quiz.id).where(Quiz.short_code == code)) is None:
            return code
    raise RuntimeError("could not find a free quiz short code")


def _has_attempts(quiz: Quiz) -> bool:
    return db.session.scalar(select(Attempt.id).where(Attempt.quiz_id == quiz.id).limit(1)) \
        is not None


def _apply_settings(quiz: Quiz, data: Mapping[str, Any], *, creating: bool) -> None:
    if "title" in data or creating:
        quiz.title = field_text("title", data.get("title"), 300, required=True) or ""
    if "time_limit_s" in data:
        value = data.get("time_limit_s")
        quiz.time_limit_s = None if value is None else _int(value, "time_limit_s", 30,
                                                            MAX_TIME_LIMIT_S)
    elif creating:
        quiz.time_limit_s = 20 * 60
    if "pass_percent" in data:
        value = data.get("pass_percent")
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise Invalid.field("pass_percent", gettext("Not a valid number."))
        try:
            number = float(value)
        except ValueError:
            raise Invalid.field("pass_percent", gettext("Not a valid number.")) from None
        if not 0 <= number <= 100:
            raise Invalid.field("pass_percent", gettext("A number from %(lo)s to %(hi)s.",
                                                        lo=0, hi=100))
        quiz.pass_percent = number
    elif creating:
        quiz.pass_percent = 50.0
    if "multiple_rule" in data or creating:
        quiz.multiple_rule = _choice(data.get("multiple_rule", "all_or_nothing"),
                                     "multiple_rule", MultipleRule)
    if "attempts_allowed" in data or creating:
        quiz.attempts_allowed = _int(data.get("attempts_allowed", 1), "attempts_allowed", 1,
                                     MAX_ATTEMPTS_ALLOWED)
    if "reveal" in data or creating:
        quiz.reveal = _choice(data.get("reveal", "after_close"), "reveal", Reveal)
    for name, default in (("shuffle_questions", False), ("shuffle_options", True),
                          ("allow_unchecked", False)):
        if name in data or creating:
            setattr(quiz, name, _bool(data.get(name, default), name))


def _apply_content(actor: User | None, quiz: Quiz, data: Mapping[str, Any]) -> None:
    """Picked questions (question_ids, then new inline `questions`) and random draws."""
    if "question_ids" in data or "questions" in data:
        ids_raw = data.get("question_ids")
        if ids_raw is None:
            ids = [item.question_id for item in quiz.items]
        elif not isinstance(ids_raw, list):
            raise Invalid.field("question_ids", gettext("Not a valid list."))
        else:
            ids = [_int(v, f"question_ids.{i}", 1, 2**62) for i, v in enumerate(ids_raw)]
        if len(set(ids)) != len(ids):
            raise Invalid.field("question_ids", gettext("A question is listed twice."))
        found = {q.id: q for q in db.session.scalars(select(Question).where(Question.id.in_(ids)))}
        old = {item.question_id for item in quiz.items}
        for i, qid in enumerate(ids):
            if qid not in found:
                raise Invalid.field(f"question_ids.{i}", gettext("Unknown question."))
            if found[qid].retired and qid not in old:
                raise Invalid.field(f"question_ids.{i}", gettext("This question is retired."))
        inline = data.get("questions") or []
        if not isinstance(inline, list):
            raise Invalid.field("questions", gettext("Not a valid list."))
        if len(ids) + len(inline) > MAX_QUESTIONS_PER_QUIZ:
            raise Invalid.field("questions", gettext("At most %(n)s questions in a quiz.",
                                                     n=MAX_QUESTIONS_PER_QUIZ))
        new_ids = list(ids)
        for i, q in enumerate(inline):
            try:
                question = create_question(actor, q, commit=False)
            except Invalid as exc:
                raise _prefixed(exc, f"questions.{i}") from None
            new_ids.append(question.id)
        quiz.items = []
        db.session.flush()
        quiz.items = [QuizItem(question_id=qid, position=i) for i, qid in enumerate(new_ids)]
    if "draws" in data:
        draws = data.get("draws") or []
        if not isinstance(draws, list):
            raise Invalid.field("draws", gettext("Not a valid list."))
        picked = {item.question_id for item in quiz.items}
        seen: set[str] = set()
        made: list[QuizDraw] = []
        for i, draw in enumerate(draws):
            if not isinstance(draw, Mapping):
                raise Invalid.field(f"draws.{i}", gettext("Not a valid object."))
            topic = _topic_key(draw.get("topic"), f"draws.{i}.topic")
            if topic is None:
                raise Invalid.field(f"draws.{i}.topic", gettext("This field is required."))
            if topic in seen:
                raise Invalid.field(f"draws.{i}.topic", gettext("This topic is listed twice."))
            seen.add(topic)
            count = _int(draw.get("count"), f"draws.{i}.count", 1, MAX_QUESTIONS_PER_QUIZ)
            available = db.session.scalar(
                select(func.count()).select_from(Question)
                .where(Question.topic == topic, Question.retired.is_(False),
                       Question.id.notin_(picked) if picked else Question.id.isnot(None)))
            if count > (available or 0):
                raise Invalid.field(f"draws.{i}.count", gettext(
                    "The topic has only %(n)s questions that can be drawn.", n=available or 0))
            made.append(QuizDraw(topic=topic, count=count))
        quiz.draws = []
        db.session.flush()
        quiz.draws = made


SETTINGS_FROZEN_BY_ATTEMPTS = ("pass_percent", "multiple_rule", "question_ids", "questions",
                               "draws")


def create_quiz(actor: User | None, data: Mapping[str, Any], *, commit: bool = True) -> Quiz:
    """A draft quiz for a session. `data` as in API.md, plus optional question_ids (picked from
    the bank), draws [{topic, count}], multiple_rule, attempts_allowed, shuffle_questions,
    shuffle_options, reveal, allow_unchecked."""
    _staff(actor)
    try:
        session_id = _int(data.get("session_id"), "session_id", 1, 2**62)
    except Invalid:
        session_id = 0
    if not session_id or db.session.get(TrainingSession, session_id) is None:
        raise Invalid.field("session_id", gettext("Unknown session."))
    quiz = Quiz(session_id=session_id, status=QuizStatus.DRAFT, short_code=_short_code(),
                created_by_id=actor.id if actor is not None else None)
    _apply_settings(quiz, data, creating=True)
    db.session.add(quiz)
    db.session.flush()
    _apply_content(actor, quiz, data)
    if commit:
        db.session.commit()
    return quiz


def update_quiz(actor: User | None, quiz: Quiz, data: Mapping[str, Any], *,
                commit: bool = True) -> Quiz:
    """Change a quiz. Once someone has started it, its questions, draws, pass mark and
    multiple-answer rule are fixed (409)."""
    _staff(actor)
    if "session_id" in data and data["session_id"] != quiz.session_id:
        raise Invalid.field("session_id", gettext("A quiz cannot move to another session."))
    data = {k: v for k, v in data.items()
            if k not in SETTINGS_FROZEN_BY_ATTEMPTS or not _unchanged(quiz, k, v)}
    frozen = [k for k in SETTINGS_FROZEN_BY_ATTEMPTS if k in data]
    if frozen and _has_attempts(quiz):
        raise Conflict(gettext("Trainees have started this quiz: its questions, pass mark and "
                               "scoring rule can no longer change."),
                       errors={k: [gettext("Fixed once the quiz has been started.")]
                               for k in frozen})
    _apply_settings(quiz, data, creating=False)
    _apply_content(actor, quiz, data)
    if commit:
        db.session.commit()
    return quiz


def _unchanged(quiz: Quiz, key: str, value: Any) -> bool:
    """Whether a content setting in an update is the quiz's current value (then it is left
    out, so a form that sends every field can still save a started quiz's title)."""
    try:
        if key == "pass_percent":
            return not isinstance(value, bool) and float(value) == quiz.pass_percent
        if key == "multiple_rule":
            return bool(MultipleRule(value) == quiz.multiple_rule)
        if key == "question_ids":
            return [int(v) for v in value] == [item.question_id for item in quiz.items]
        if key == "draws":
            return sorted((d["topic"], int(d["count"])) for d in value) == sorted(
                (d.topic, d.count) for d in quiz.draws)
        if key == "questions":
            return not value
    except (TypeError, ValueError, KeyError):
        return False
    return False


def question_count(quiz: Quiz) -> int:
    """How many questions each attempt shows."""
    return len(quiz.items) + sum(d.count for d in quiz.draws)


def set_status(actor: User | None, quiz_id: int, status: str) -> Quiz:
    """Open or close a quiz; pushes `quiz_status` to the session's room. Closing finalises
    every attempt still open. Opening again a closed quiz is allowed."""
    from trainer.quizzes.answers import _finalise
    from trainer.quizzes.results import _push_progress
    _staff(actor)
    quiz = get_quiz(quiz_id)
    new = _choice(status, "status", QuizStatus)
    if new == QuizStatus.DRAFT:
        raise Invalid.field("status", gettext("Must be one of: %(values)s", values="open, closed"))
    if new == quiz.status:
        return quiz
    now = utcnow()
    if new == QuizStatus.OPEN:
        if question_count(quiz) == 0:
            raise Conflict(gettext("Add questions to the quiz before opening it."))
        quiz.opened_at, quiz.closed_at = now, None
    else:
        quiz.closed_at = now
        for attempt in db.session.scalars(select(Attempt).where(
                Attempt.quiz_id == quiz.id, Attempt.submitted_at.is_(None))):
            _finalise(attempt, quiz, "close", at=now)
    quiz.status = new
    from trainer.audit.services import record

    record(f"quiz.{new.value}", user_id=actor.id if actor is not None else None,
           session_id=quiz.session_id, quiz_id=quiz.id)
    db.session.commit()
    live.emit(quiz.session_id, "quiz_status",
              {"quiz_id": quiz.id, "session_id": quiz.session_id, "status": quiz.status.value})
    _push_progress(quiz)
    return quiz


def quiz_intro(quiz: Quiz) -> dict[str, Any]:
    """What a trainee sees before entering a code (no questions)."""
    return {
        "id": quiz.id, "title": quiz.title, "status": quiz.status.value,
        "session_id": quiz.session_id, "session_title": quiz.session.title,
        "short_code": quiz.short_code, "time_limit_s": quiz.time_limit_s,
        "question_count": question_count(quiz), "pass_percent": quiz.pass_percent,
        "multiple_rule": quiz.multiple_rule.value, "multiple_rule_text": multiple_rule_text(quiz),
        "attempts_allowed": quiz.attempts_allowed, "reveal": quiz.reveal.value,
    }
