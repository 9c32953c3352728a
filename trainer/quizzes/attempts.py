"""Attempts: signed tokens, starting or resuming with a participant code, the questions drawn, the
view and review."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from flask import current_app, has_app_context
from flask_babel import gettext
from sqlalchemy import event, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession

from trainer.dbtypes import commit_keeping_objects, utcnow
from trainer.errors import Conflict, Forbidden, NotFound, Unauthorized
from trainer.extensions import db
from trainer.people.models import Participant
from trainer.quizzes.builder import get_quiz
from trainer.quizzes.models import (
    Answer,
    Attempt,
    AttemptSource,
    Option,
    Question,
    QuestionKind,
    Quiz,
    QuizDraw,
    QuizItem,
    QuizStatus,
    Reveal,
)
from trainer.quizzes.rules import _grace, _rng, multiple_rule_text
from trainer.sessions.models import Checkin
from trainer.state import app_state
from trainer.text import nfc


def issue_token(attempt: Attempt) -> str:
    nonce = secrets.token_urlsafe(9)
    return f"{nonce}.{_signature(attempt, nonce)}"


def _signature(attempt: Attempt, nonce: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    msg = f"attempt:{attempt.id}:{attempt.token_key}:{nonce}".encode()
    return base64.urlsafe_b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()\
        .rstrip("=")


def check_token(attempt: Attempt, token: str | None) -> None:
    if not token:
        raise Unauthorized(gettext("This attempt needs its token (X-Attempt-Token). Enter your "
                                   "participant code again to get one."))
    nonce, _, signature = token.partition(".")
    if not nonce or not signature or len(token) > 200 or not hmac.compare_digest(
            signature.encode(), _signature(attempt, nonce).encode()):
        raise Forbidden(gettext("This token does not belong to this attempt. Enter your "
                                "participant code again."))


def _attempt_for(attempt_id: int, token: str | None) -> Attempt:
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None:
        raise NotFound(gettext("Unknown attempt."))
    check_token(attempt, token)
    return attempt


def get_attempt(attempt_id: int, token: str | None) -> Attempt:
    """The attempt for its token, finalised first if its time is up."""
    from trainer.quizzes.answers import _finalise_if_expired
    from trainer.quizzes.results import _push_progress
    attempt = _attempt_for(attempt_id, token)
    if _finalise_if_expired(attempt):
        db.session.commit()
        _push_progress(attempt.quiz)
    return attempt


def _expired(attempt: Attempt, now: datetime | None = None) -> bool:
    return (attempt.submitted_at is None and attempt.deadline is not None
            and (now or utcnow()) > attempt.deadline + _grace())


def _question_content(ids: Iterable[int]) -> tuple[dict[int, Any], dict[int, Any]]:
    """({question id: row}, {option id: row}) for `ids`; a question row has id, kind, points,
    text, explanation, used and options (rows with id, question_id, text, correct, by
    position)."""
    ttl = float(current_app.config.get("QUIZ_CONTENT_CACHE_S", 2.0))
    now = time.monotonic()
    state = app_state()
    cache = state.quiz_content
    questions: dict[int, Any] = {}
    missing = []
    for qid in ids:
        hit = cache.get(qid) if ttl > 0 else None
        if hit is not None and hit[0] > now:
            questions[qid] = hit[1]
        else:
            missing.append(qid)
    if missing:
        by_question: dict[int, list[Any]] = {qid: [] for qid in missing}
        for oid, qid, text, correct in db.session.execute(
                select(Option.id, Option.question_id, Option.text, Option.correct)
                .where(Option.question_id.in_(missing))
                .order_by(Option.question_id, Option.position, Option.id)):
            by_question[qid].append(SimpleNamespace(id=oid, question_id=qid, text=text,
                                                    correct=correct))
        fresh = {}
        for qid, kind, points, text, explanation, used in db.session.execute(
                select(Question.id, Question.kind, Question.points, Question.text,
                       Question.explanation, Question.used).where(Question.id.in_(missing))):
            fresh[qid] = SimpleNamespace(id=qid, kind=kind, points=points, text=text,
                                         explanation=explanation, used=used,
                                         options=by_question[qid])
        questions.update(fresh)
        if ttl > 0:
            with state.lock:
                cache.update({qid: (now + ttl, q) for qid, q in fresh.items()})
    options = {o.id: o for q in questions.values() for o in q.options}
    return questions, options


@event.listens_for(OrmSession, "after_flush")
def _forget_changed_content(session: OrmSession, _context: Any) -> None:
    if has_app_context() and any(
            isinstance(obj, (Question, Option, Quiz, QuizItem, QuizDraw))
            for obj in (*session.dirty, *session.new, *session.deleted)):
        state = app_state()
        with state.lock:
            state.quiz_content.clear()
            state.quiz_plans.clear()


def _plan(quiz: Quiz) -> tuple[list[int], list[tuple[str, int]]]:
    """(picked question ids, [(topic, count) drawn]) of a quiz, cached like the question
    content (QUIZ_CONTENT_CACHE_S, and for as long as the quiz row is unchanged)."""
    ttl = float(current_app.config.get("QUIZ_CONTENT_CACHE_S", 2.0))
    state = app_state()
    hit = state.quiz_plans.get(quiz.id)
    if ttl > 0 and hit is not None and hit[0] > time.monotonic() and hit[1] == quiz.updated_at:
        return hit[2], hit[3]
    picked = [item.question_id for item in quiz.items]
    draws = [(draw.topic, draw.count) for draw in quiz.draws]
    if ttl > 0:
        with state.lock:
            state.quiz_plans[quiz.id] = (time.monotonic() + ttl, quiz.updated_at, picked, draws)
    return picked, draws


def _draw_layout(quiz: Quiz) -> tuple[list[dict[str, Any]], list[int]]:
    """(the attempt's layout, the ids of its questions not yet marked used)."""
    picked, draws = _plan(quiz)
    picked_ids = list(picked)
    drawn_ids: list[int] = []
    for draw in (SimpleNamespace(topic=t, count=n) for t, n in draws):
        exclude = set(picked_ids) | set(drawn_ids)
        candidates = list(db.session.scalars(
            select(Question.id).where(Question.topic == draw.topic,
                                      Question.retired.is_(False)).order_by(Question.id)))
        candidates = [c for c in candidates if c not in exclude]
        drawn_ids += _rng.sample(candidates, min(draw.count, len(candidates)))
    ids = picked_ids + drawn_ids
    if quiz.shuffle_questions:
        _rng.shuffle(ids)
    questions, _ = _question_content(ids)
    layout = []
    for qid in ids:
        q = questions[qid]
        option_ids = [o.id for o in q.options]  # by position
        if quiz.shuffle_options and q.kind != QuestionKind.TRUE_FALSE:
            _rng.shuffle(option_ids)
        layout.append({"q": q.id, "k": q.kind.value, "p": q.points, "o": option_ids})
    return layout, [q.id for q in questions.values() if not q.used]


def _mark_used(question_ids: Iterable[int]) -> None:
    ids = list(question_ids)
    if ids:
        db.session.execute(update(Question).where(Question.id.in_(ids), Question.used.is_(False))
                           .values(used=True).execution_options(synchronize_session=False))


def _checkin_site(session_id: int, participant_id: int) -> int | None:
    return db.session.scalar(select(Checkin.site_id).where(
        Checkin.session_id == session_id, Checkin.participant_id == participant_id))


def _participant(code: str) -> Participant:
    from trainer.people.services import by_code

    participant = by_code(code or "") if isinstance(code, str) else None
    if participant is None:
        raise NotFound(gettext("No participant has the code %(code)s. Check the code on your "
                               "card or ask your site's coordinator.",
                               code=nfc(str(code or ""))[:20]),
                       errors={"participant_code": [gettext("Unknown code.")]})
    return participant


def _not_open(quiz: Quiz) -> Forbidden:
    if quiz.status == QuizStatus.DRAFT:
        return Forbidden(gettext("This quiz has not been opened yet. Wait for the organiser to "
                                 "open it."), reason="not_open")
    return Forbidden(gettext("This quiz is closed: no new attempts."), reason="closed")


def start_attempt(quiz_id: int, participant_code: str, token: str | None = None,
                  device: str | None = None) -> tuple[Attempt, str, bool]:
    """Start or resume a participant's attempt -> (attempt, new token, created).

    The code alone starts the first attempt. Once one exists, the caller must hold it (see
    trainer.quizzes.access): then this resumes (created False) an attempt in progress,
    returns the last submitted one when no further attempt is allowed or the quiz is no
    longer open, or starts the next. Every refusal for a code reads alike (access.refused).
    """
    from trainer.people.services import by_code
    from trainer.quizzes.access import device_hash, holds, refused
    from trainer.quizzes.answers import _finalise_if_expired
    from trainer.quizzes.results import _push_progress

    quiz = get_quiz(quiz_id)
    participant = by_code(participant_code) if isinstance(participant_code, str) else None
    if participant is None:
        raise _not_open(quiz) if quiz.status != QuizStatus.OPEN else refused()
    for _ in range(3):
        attempts = list(db.session.scalars(
            select(Attempt).where(Attempt.quiz_id == quiz.id,
                                  Attempt.participant_id == participant.id)
            .order_by(Attempt.number)))
        latest = attempts[-1] if attempts else None
        if latest is not None and not holds(latest, token, device):
            raise _not_open(quiz) if quiz.status != QuizStatus.OPEN else refused()
        finalised = False
        if latest is not None and latest.submitted_at is None:
            if _finalise_if_expired(latest):
                finalised = True
            else:
                token = issue_token(latest)
                db.session.commit()
                return latest, token, False
        if latest is not None and (quiz.status != QuizStatus.OPEN
                                   or len(attempts) >= quiz.attempts_allowed):
            token = issue_token(latest)
            db.session.commit()
            if finalised:
                _push_progress(quiz)
            return latest, token, False
        if quiz.status != QuizStatus.OPEN:
            raise _not_open(quiz)
        site_id = _checkin_site(quiz.session_id, participant.id)
        if site_id is None and not quiz.allow_unchecked:
            if finalised:
                db.session.commit()
            raise refused()
        layout, unused = _draw_layout(quiz)
        if not layout:
            raise Conflict(gettext("This quiz has no questions yet."))
        now = utcnow()
        attempt = Attempt(
            quiz=quiz, participant=participant,  # already loaded: the answer reads them
            quiz_id=quiz.id, participant_id=participant.id, number=len(attempts) + 1,
            site_id=site_id or participant.site_id, source=AttemptSource.WEB,
            token_key=secrets.token_hex(16), device_hash=device_hash(device),
            layout=layout, started_at=now,
            deadline=now + timedelta(seconds=quiz.time_limit_s) if quiz.time_limit_s else None,
            max_score=float(sum(item["p"] for item in layout)))
        try:
            with db.session.begin_nested():
                db.session.add(attempt)
                db.session.flush()
        except IntegrityError:
            continue  # the same code started on another phone at this moment: resume that one
        _mark_used(unused)  # only the first attempts to show a question write this
        token = issue_token(attempt)
        commit_keeping_objects()  # the answer is built from them: no reloading
        _push_progress(quiz)
        return attempt, token, True
    raise Conflict(gettext("Please try again."))


def _revealed(attempt: Attempt, quiz: Quiz) -> bool:
    if attempt.submitted_at is None or quiz.reveal == Reveal.NEVER:
        return False
    if quiz.status == QuizStatus.CLOSED:
        return True
    return quiz.reveal == Reveal.AFTER_SUBMIT and attempt.number >= quiz.attempts_allowed


def result_of(attempt: Attempt) -> dict[str, Any] | None:
    if attempt.submitted_at is None:
        return None
    return {"score": attempt.score or 0.0, "max_score": attempt.max_score,
            "percent": attempt.percent or 0.0, "passed": bool(attempt.passed)}


def _answers_of(attempt_id: int) -> dict[int, Answer]:
    return {a.question_id: a for a in db.session.scalars(
        select(Answer).where(Answer.attempt_id == attempt_id))}


def attempt_view(attempt: Attempt, *, with_review: bool = True) -> dict[str, Any]:
    """The trainee's view: the questions in the attempt's order with options in its order and
    never a hint of correctness, the saved answers, the time left, and - once submitted - the
    result, plus the review when answers are revealed."""
    quiz = attempt.quiz
    ids = attempt.question_ids
    questions, options = _question_content(ids)
    # A web attempt gets answers only through save_answers, which sets saved_at.
    fresh = attempt.source == AttemptSource.WEB and attempt.saved_at is None
    answers = {} if fresh else _answers_of(attempt.id)
    now = utcnow()
    seconds_left = None
    if attempt.deadline is not None and attempt.submitted_at is None:
        seconds_left = max(0, int((attempt.deadline - now).total_seconds()))
    attempts_used = attempt.number
    view: dict[str, Any] = {
        "attempt_id": attempt.id,
        "quiz_id": quiz.id,
        "quiz_title": quiz.title,
        "quiz_status": quiz.status.value,
        "participant": {"full_name": attempt.participant.full_name},
        "number": attempt.number,
        "attempts_allowed": quiz.attempts_allowed,
        "can_retry": (attempt.submitted_at is not None and quiz.status == QuizStatus.OPEN
                      and attempts_used < quiz.attempts_allowed),
        "source": attempt.source.value,
        "status": "submitted" if attempt.submitted_at is not None else "in_progress",
        "started_at": attempt.started_at,
        "deadline": attempt.deadline,
        "seconds_left": seconds_left,
        "time_limit_s": quiz.time_limit_s,
        "multiple_rule": quiz.multiple_rule.value,
        "multiple_rule_text": multiple_rule_text(quiz),
        "questions": [
            {"id": item["q"], "text": questions[item["q"]].text, "kind": item["k"],
             "points": item["p"],
             "options": [{"id": oid, "text": options[oid].text} for oid in item["o"]]}
            for item in attempt.layout
        ],
        "answers": {str(qid): list(a.option_ids) for qid, a in answers.items()},
        "submitted_at": attempt.submitted_at,
        "result": result_of(attempt),
        "review": None,
    }
    if with_review and _revealed(attempt, quiz):
        view["review"] = _review(attempt, questions, options, answers)
    return view


def _review(attempt: Attempt, questions: Mapping[int, Question], options: Mapping[int, Option],
            answers: Mapping[int, Answer]) -> list[dict[str, Any]]:
    out = []
    for item in attempt.layout:
        qid = item["q"]
        answer = answers.get(qid)
        out.append({
            "question_id": qid,
            "correct_option_ids": [oid for oid in item["o"] if options[oid].correct],
            "chosen_option_ids": list(answer.option_ids) if answer else [],
            "score": round(answer.score or 0.0, 4) if answer else 0.0,
            "points": item["p"],
            "explanation": questions[qid].explanation,
        })
    return out


def review(attempt_id: int, token: str | None) -> list[dict[str, Any]] | None:
    """Per question: correct options, the trainee's choice, score and explanation - only once
    the quiz's `reveal` setting allows it; else None."""
    attempt = get_attempt(attempt_id, token)
    if not _revealed(attempt, attempt.quiz):
        return None
    ids = attempt.question_ids
    questions = {q.id: q for q in db.session.scalars(select(Question).where(Question.id.in_(ids)))}
    options = {o.id: o for o in db.session.scalars(
        select(Option).where(Option.question_id.in_(ids)))}
    return _review(attempt, questions, options, _answers_of(attempt.id))
