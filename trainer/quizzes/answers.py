"""Answers: autosave, submit, scoring, finalising at the deadline, paper answers."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from fractions import Fraction
from typing import Any

from flask_babel import gettext
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from trainer.auth.models import User
from trainer.auth.services import can_act_for_site, require_any
from trainer.dbtypes import commit_keeping_objects, utcnow
from trainer.errors import Conflict, Forbidden, Invalid, NotFound
from trainer.extensions import db
from trainer.people.models import Participant
from trainer.quizzes import scoring
from trainer.quizzes.attempts import (
    _answers_of,
    _attempt_for,
    _checkin_site,
    _expired,
    _mark_used,
    _question_content,
    result_of,
)
from trainer.quizzes.builder import get_quiz
from trainer.quizzes.models import (
    Answer,
    Attempt,
    AttemptSource,
    MultipleRule,
    Question,
    QuestionKind,
    Quiz,
    QuizStatus,
)
from trainer.quizzes.rules import _grace, _int


def _finalise_if_expired(attempt: Attempt) -> bool:
    if _expired(attempt):
        return _finalise(attempt, attempt.quiz, "deadline")
    return False


def _validate_answers(attempt: Attempt, answers: Any) -> dict[int, list[int]]:
    """{"<question_id>": [option_id, ...]} checked against the attempt's own questions."""
    if not isinstance(answers, Mapping):
        raise Invalid.field("answers", gettext("Not a valid object."))
    layout = {int(item["q"]): item for item in attempt.layout}
    errors: dict[str, list[Any]] = {}
    clean: dict[int, list[int]] = {}
    for key, chosen in answers.items():
        name = f"answers.{key}"
        try:
            qid = int(str(key))
        except ValueError:
            errors[name] = [gettext("Not a question of this attempt.")]
            continue
        item = layout.get(qid)
        if item is None:
            errors[name] = [gettext("Not a question of this attempt.")]
            continue
        if not isinstance(chosen, list) or any(
                isinstance(v, bool) or not isinstance(v, int) for v in chosen):
            errors[name] = [gettext("A list of option ids.")]
            continue
        unique = list(dict.fromkeys(chosen))
        if any(oid not in item["o"] for oid in unique):
            errors[name] = [gettext("Not an option of this question.")]
            continue
        if item["k"] != QuestionKind.MULTIPLE.value and len(unique) > 1:
            errors[name] = [gettext("Choose one option only.")]
            continue
        clean[qid] = unique
    if errors:
        raise Invalid(gettext("Some answers do not match the questions of this attempt. "
                              "Nothing was saved."), errors=errors)
    return clean


def _rowcount(result: Any) -> int:
    return int(result.rowcount)


def _time_up(attempt: Attempt) -> Conflict:
    return Conflict(gettext("Time is up: answers can no longer be changed. Your attempt counts "
                            "as submitted with the answers saved before the deadline."),
                    reason="time_up", result=result_of(attempt))


def _score(layout: Sequence[Mapping[str, Any]], chosen: Mapping[int, Sequence[int]],
           rule: MultipleRule, pass_percent: Any) -> tuple[dict[str, Any], dict[int, float]]:
    """The result columns of an attempt ({score, max_score, percent, passed}) and the score
    of each answered question, from the options chosen per question and the correct options
    (cached: those of a used question never change)."""
    _, options = _question_content(int(item["q"]) for item in layout)
    correct: dict[int, set[int]] = {}
    for option in options.values():
        if option.correct:
            correct.setdefault(option.question_id, set()).add(option.id)
    scores: list[Fraction] = []
    per_answer: dict[int, float] = {}
    for item in layout:
        qid = int(item["q"])
        picked = chosen.get(qid)
        score = scoring.question_score(item["k"], item["p"], correct.get(qid, set()),
                                       picked or [], item["o"], rule.value)
        if picked is not None:
            per_answer[qid] = float(score)
        scores.append(score)
    res = scoring.result(scores, sum(Fraction(str(item["p"])) for item in layout), pass_percent)
    return ({"score": round(float(res.score), 4), "max_score": float(res.max_score),
             "percent": round(float(res.percent), 2), "passed": bool(res.passed)}, per_answer)


def save_answers(attempt_id: int, token: str | None, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Autosave: merges the given questions' answers into the attempt (the last save wins per
    question; an empty list clears one). 409 once submitted or after the deadline; 422 (and
    nothing saved) for a question or option that is not in this attempt."""
    from trainer.quizzes.results import _push_progress
    attempt = _attempt_for(attempt_id, token)
    if attempt.submitted_at is not None:
        raise Conflict(gettext("This attempt has been submitted: answers can no longer be "
                               "changed."), reason="submitted", result=result_of(attempt))
    now = utcnow()
    if _expired(attempt, now):
        _finalise(attempt, attempt.quiz, "deadline")
        db.session.commit()
        _push_progress(attempt.quiz)
        raise _time_up(attempt)
    clean = _validate_answers(attempt, answers)
    claimed = _rowcount(db.session.execute(
        update(Attempt).where(Attempt.id == attempt.id, Attempt.submitted_at.is_(None))
        .values(saved_at=now).execution_options(synchronize_session=False)))
    if not claimed:  # submitted by another request meanwhile
        db.session.rollback()
        db.session.refresh(attempt)
        raise Conflict(gettext("This attempt has been submitted: answers can no longer be "
                               "changed."), reason="submitted", result=result_of(attempt))
    if clean:
        rows = [{"attempt_id": attempt.id, "question_id": qid, "option_ids": oids, "saved_at": now}
                for qid, oids in clean.items()]
        stmt: Any
        if db.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            stmt = pg_insert(Answer.__table__).values(rows)
        else:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            stmt = sqlite_insert(Answer.__table__).values(rows)
        stmt = stmt.on_conflict_do_update(
            index_elements=["attempt_id", "question_id"],
            set_={"option_ids": stmt.excluded.option_ids, "saved_at": stmt.excluded.saved_at})
        db.session.execute(stmt)
    deadline = attempt.deadline  # read before the commit expires the object
    db.session.commit()
    seconds_left = max(0, int((deadline - now).total_seconds())) if deadline is not None else None
    return {"saved": len(clean), "saved_at": now, "seconds_left": seconds_left}


def _finalise(attempt: Attempt, quiz: Quiz, ended_by: str, *, at: datetime | None = None) -> bool:
    """Score the saved answers and mark the attempt submitted (once: False if it already was).
    The caller commits."""
    now = at or utcnow()
    submitted_at = now
    if ended_by == "deadline" and attempt.deadline is not None:
        submitted_at = min(now, attempt.deadline)
    claimed = _rowcount(db.session.execute(
        update(Attempt).where(Attempt.id == attempt.id, Attempt.submitted_at.is_(None))
        .values(submitted_at=submitted_at, ended_by=ended_by)
        .execution_options(synchronize_session=False)))
    if not claimed:
        db.session.refresh(attempt)
        return False
    answers = _answers_of(attempt.id)
    values, per_answer = _score(attempt.layout,
                                {qid: a.option_ids for qid, a in answers.items()},
                                quiz.multiple_rule, quiz.pass_percent)
    for qid, score in per_answer.items():
        answers[qid].score = score
    attempt.submitted_at, attempt.ended_by = submitted_at, ended_by
    attempt.score, attempt.max_score = values["score"], values["max_score"]
    attempt.percent, attempt.passed = values["percent"], values["passed"]
    return True


def submit(attempt_id: int, token: str | None) -> dict[str, Any]:
    """Finalise the attempt -> {score, max_score, percent, passed}. Idempotent: a retry returns
    the same result; after the deadline it scores what was saved."""
    from trainer.quizzes.results import _push_progress
    attempt = _attempt_for(attempt_id, token)
    if attempt.submitted_at is None:
        ended_by = "deadline" if _expired(attempt) else "submit"
        if _finalise(attempt, attempt.quiz, ended_by):
            commit_keeping_objects()  # the result and the push read them: no reloading
            _push_progress(attempt.quiz)
        else:
            db.session.commit()
    return result_of(attempt) or {}


def finalise_expired(quiz_id: int) -> int:
    """Finalise the quiz's attempts whose time is up; returns how many."""
    from trainer.quizzes.results import _push_progress
    quiz = get_quiz(quiz_id)
    limit = utcnow() - _grace()
    done = 0
    for attempt in db.session.scalars(select(Attempt).where(
            Attempt.quiz_id == quiz_id, Attempt.submitted_at.is_(None),
            Attempt.deadline.isnot(None), Attempt.deadline < limit)):
        done += _finalise(attempt, quiz, "deadline")
    if done:
        db.session.commit()
        _push_progress(quiz)
    return done


def _paper_layout(quiz: Quiz, question_ids: Sequence[Any] | None) -> list[dict[str, Any]]:
    picked = [item.question_id for item in quiz.items]
    if question_ids is None:
        if quiz.draws:
            raise Invalid.field("question_ids", gettext(
                "This quiz draws its questions at random: list the questions on the paper."))
        ids = picked
    else:
        if not isinstance(question_ids, list | tuple):
            raise Invalid.field("question_ids", gettext("Not a valid list."))
        ids = [_int(v, f"question_ids.{i}", 1, 2**62) for i, v in enumerate(question_ids)]
        if len(set(ids)) != len(ids):
            raise Invalid.field("question_ids", gettext("A question is listed twice."))
    topics = {d.topic for d in quiz.draws}
    questions = {q.id: q for q in db.session.scalars(
        select(Question).where(Question.id.in_(ids)).options(selectinload(Question.options)))}
    for i, qid in enumerate(ids):
        q = questions.get(qid)
        if q is None or (qid not in picked and q.topic not in topics):
            raise Invalid.field(f"question_ids.{i}", gettext("Not a question of this quiz."))
    if not ids:
        raise Invalid.field("question_ids", gettext("This quiz has no questions yet."))
    return [{"q": qid, "k": questions[qid].kind.value, "p": questions[qid].points,
             "o": [o.id for o in questions[qid].options]} for qid in ids]


def enter_paper_answers(actor: User, quiz_id: int, participant_id: int,
                        answers: Mapping[str, Any], *,
                        question_ids: Sequence[Any] | None = None) -> Attempt:
    """Record a participant's answers from paper as a submitted attempt (source "paper"),
    audited. A coordinator may do it for participants checked in at, or belonging to, one of
    their sites; organisers for anyone. `question_ids` lists the questions on the paper
    (default: the quiz's picked questions; required for a quiz with random draws). An attempt
    in progress on a phone is taken over; a participant with no attempt left -> 409."""
    from trainer.quizzes.results import _push_progress
    user = require_any(actor)
    quiz = get_quiz(quiz_id)
    participant = db.session.get(Participant, participant_id) \
        if isinstance(participant_id, int) and not isinstance(participant_id, bool) else None
    if participant is None:
        raise NotFound(gettext("Unknown participant."))
    checkin_site = _checkin_site(quiz.session_id, participant.id)
    if not any(can_act_for_site(user, s) for s in (checkin_site, participant.site_id)
               if s is not None):
        raise Forbidden(gettext("You coordinate other sites, not this participant's."))
    if quiz.status == QuizStatus.DRAFT:
        raise Conflict(gettext("This quiz has not been opened yet."))
    if checkin_site is None and not quiz.allow_unchecked:
        raise Forbidden(gettext("%(name)s was not checked in to this session. Check them in "
                                "first.", name=participant.full_name), reason="not_checked_in")
    layout = _paper_layout(quiz, question_ids)
    attempts = list(db.session.scalars(
        select(Attempt).where(Attempt.quiz_id == quiz.id, Attempt.participant_id == participant.id)
        .order_by(Attempt.number)))
    latest = attempts[-1] if attempts else None
    if latest is not None and latest.submitted_at is None:
        _finalise_if_expired(latest)  # time is up on the phone: that attempt counts as it is
    now = utcnow()
    replaced = None
    if latest is not None and latest.submitted_at is None:
        attempt = latest
        replaced = {"attempt_id": latest.id, "source": latest.source.value}
        db.session.execute(Answer.__table__.delete().where(Answer.attempt_id == latest.id))
        attempt.layout, attempt.deadline = layout, None
    elif len(attempts) >= quiz.attempts_allowed:
        db.session.commit()  # keeps a lazy finalisation above
        raise Conflict(gettext("%(name)s has already submitted this quiz.",
                               name=participant.full_name), reason="submitted")
    else:
        attempt = Attempt(quiz_id=quiz.id, participant_id=participant.id,
                          number=len(attempts) + 1, token_key=secrets.token_hex(16),
                          layout=layout, started_at=now, deadline=None)
        db.session.add(attempt)
    attempt.site_id = checkin_site or participant.site_id
    attempt.source = AttemptSource.PAPER
    attempt.entered_by_id = user.id
    attempt.max_score = float(sum(item["p"] for item in layout))
    db.session.flush()
    clean = _validate_answers(attempt, answers)
    for qid, oids in clean.items():
        db.session.add(Answer(attempt_id=attempt.id, question_id=qid, option_ids=oids,
                              saved_at=now))
    db.session.flush()
    _mark_used(item["q"] for item in layout)
    _finalise(attempt, quiz, "paper", at=now)
    from trainer.audit.services import record

    record("quiz.paper_answers", user_id=user.id, session_id=quiz.session_id,
           site_id=attempt.site_id, participant_id=participant.id, quiz_id=quiz.id,
           attempt_id=attempt.id, answers={str(k): v for k, v in clean.items()},
           question_ids=[item["q"] for item in layout], score=attempt.score,
           percent=attempt.percent, replaced=replaced)
    db.session.commit()
    _push_progress(quiz)
    return attempt
