"""Question bank, quizzes, the trainee's attempt, paper answers, results and statistics.

Decisions (see also scoring.py and stats.py):
- Attempt tokens are HMAC(SECRET_KEY, attempt id, attempt.token_key, nonce). Each start or
  resume issues a new token and every token issued for the attempt stays valid, so the same
  participant code on two phones shares one attempt; nothing per device is stored.
- An attempt whose deadline has passed is finalised ("counts as submitted with what was saved")
  by the first read or write that sees it: resume, GET, save, submit, results, closing the quiz.
  Saves are accepted up to QUIZ_DEADLINE_GRACE_S (default 5 s) after the deadline to absorb
  network delay; the deadline shown to the trainee is the real one.
- Closing a quiz finalises every attempt still open.
- One attempt counts per participant: the best submitted one (highest percent, then the
  earliest). Results per site, pass counts and item statistics all use the counted attempts.
- An attempt belongs to the site where the participant was checked in (else their home site).
- Questions shown in an attempt are "used": their kind, points, number of options and correct
  options can no longer change (texts can); retire them and add new ones instead.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import random
import secrets
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction
from types import SimpleNamespace
from typing import Any

from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, event, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import selectinload

from trainer import live
from trainer.auth.models import User
from trainer.auth.services import can_act_for_site, require_any, require_staff, visible_site_ids
from trainer.dbtypes import utcnow
from trainer.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from trainer.extensions import db
from trainer.fastsql import commit_keeping_objects
from trainer.people.models import Participant
from trainer.quizzes import scoring
from trainer.quizzes.models import (
    Answer,
    Attempt,
    AttemptSource,
    MultipleRule,
    Option,
    Question,
    QuestionKind,
    QuestionTopic,
    Quiz,
    QuizDraw,
    QuizItem,
    QuizStatus,
    Reveal,
)
from trainer.quizzes.stats import item_stats
from trainer.sessions.models import Checkin, SessionSite, TrainingSession
from trainer.sites.models import Site
from trainer.text import fold, has_control_chars, nfc

_rng = random.SystemRandom()

SHORT_CODE_ALPHABET = "ACDEFHJKMNPQRTUVWXY3479"
SHORT_CODE_LENGTH = 6
MAX_OPTIONS = 10
MAX_QUESTIONS_PER_QUIZ = 200
MAX_TEXT = 2000
MAX_OPTION_TEXT = 500
MAX_ATTEMPTS_ALLOWED = 20
MAX_TIME_LIMIT_S = 24 * 3600

MULTIPLE_RULE_TEXTS: dict[str, Any] = {
    "all_or_nothing": _l(
        "Questions with several answers: you get the points only if you tick every correct "
        "option and no wrong one; otherwise the question scores zero."),
    "partial": _l(
        "Questions with several answers: each correct option you tick earns its share of the "
        "points and each wrong option you tick takes its share away; a question never scores "
        "below zero."),
}


# --------------------------------------------------------------------------- small helpers

def _staff(actor: User | None) -> User | None:
    """None is the system (command line, demo); anyone else must be an organiser or admin."""
    return None if actor is None else require_staff(actor)


def _text(value: Any, name: str, limit: int, *, required: bool = True) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise Invalid.field(name, gettext("This field is required."))
        return None
    if not isinstance(value, str):
        raise Invalid.field(name, gettext("Not a valid text."))
    if has_control_chars(value.replace("\n", " ").replace("\r", " ").replace("\t", " ")):
        raise Invalid.field(name, gettext("Control characters are not allowed."))
    text = nfc(value)
    if len(text) > limit:
        raise Invalid.field(name, gettext("At most %(n)s characters.", n=limit))
    return text


def _int(value: Any, name: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or value is None:
        raise Invalid.field(name, gettext("Not a valid whole number."))
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise Invalid.field(name, gettext("Not a valid whole number.")) from None
    if isinstance(value, float) and value != number:
        raise Invalid.field(name, gettext("Not a valid whole number."))
    if not lo <= number <= hi:
        raise Invalid.field(name, gettext("A number from %(lo)s to %(hi)s.", lo=lo, hi=hi))
    return number


def _bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("1", "true", "on", "yes"):
        return True
    if isinstance(value, str) and value.lower() in ("0", "false", "off", "no", ""):
        return False
    raise Invalid.field(name, gettext("Not a valid yes/no value."))


def _choice(value: Any, name: str, enum: Any) -> Any:
    try:
        return enum(value)
    except ValueError:
        raise Invalid.field(name, gettext("Must be one of: %(values)s",
                                          values=", ".join(m.value for m in enum))) from None


def _prefixed(exc: Invalid, prefix: str) -> Invalid:
    errors = {f"{prefix}.{k}": v for k, v in (exc.errors or {}).items()} or None
    return Invalid(exc.detail, errors=errors)


def _grace() -> timedelta:
    return timedelta(seconds=float(current_app.config.get("QUIZ_DEADLINE_GRACE_S", 5)))


def multiple_rule_text(quiz: Quiz | str | MultipleRule) -> str:
    """The scoring rule for multiple-answer questions, in the request's language."""
    rule = quiz.multiple_rule if isinstance(quiz, Quiz) else quiz
    return str(MULTIPLE_RULE_TEXTS[MultipleRule(rule).value])


# --------------------------------------------------------------------------- topics

def list_topics() -> list[QuestionTopic]:
    return list(db.session.scalars(select(QuestionTopic).order_by(QuestionTopic.id)))


def topic_names() -> dict[str, str]:
    return {t.key: t.name for t in list_topics()}


def create_topic(actor: User | None, key: str, name: str, name_en: str | None = None, *,
                 commit: bool = True) -> QuestionTopic:
    _staff(actor)
    key = (_text(key, "key", 32) or "").lower()
    if not key.replace("_", "").replace("-", "").isalnum() or not key.isascii():
        raise Invalid.field("key", gettext("A topic key is letters a-z, digits, '-' or '_'."))
    name = _text(name, "name", 200) or ""
    if db.session.scalar(select(QuestionTopic.id).where(QuestionTopic.key == key)):
        raise Conflict(gettext("The topic %(key)s exists already.", key=key),
                       errors={"key": [gettext("Already taken.")]})
    topic = QuestionTopic(key=key, name=name, name_en=_text(name_en, "name_en", 200,
                                                            required=False))
    db.session.add(topic)
    if commit:
        db.session.commit()
    return topic


def _topic_key(value: Any, name: str = "topic") -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not db.session.scalar(
            select(QuestionTopic.id).where(QuestionTopic.key == value)):
        raise Invalid.field(name, gettext("Unknown topic."))
    return value


# --------------------------------------------------------------------------- question bank

@dataclass
class QuestionData:
    topic: str | None
    kind: QuestionKind
    text: str
    explanation: str | None
    points: int
    options: list[tuple[str, bool]] = field(default_factory=list)


def _validate_question(data: Mapping[str, Any], base: Question | None = None) -> QuestionData:
    if not isinstance(data, Mapping):
        raise Invalid(gettext("A question is an object with a text, a kind and options."))

    def given(key: str) -> bool:
        return key in data or base is None

    topic = _topic_key(data.get("topic")) if given("topic") else (base.topic if base else None)
    kind = (_choice(data.get("kind"), "kind", QuestionKind) if given("kind")
            else base.kind)  # type: ignore[union-attr]
    text = (_text(data.get("text"), "text", MAX_TEXT) if given("text")
            else base.text)  # type: ignore[union-attr]
    explanation = (_text(data.get("explanation"), "explanation", MAX_TEXT, required=False)
                   if given("explanation") else base.explanation)  # type: ignore[union-attr]
    points = (_int(data.get("points", 1), "points", 1, 100) if given("points")
              else base.points)  # type: ignore[union-attr]
    if given("options"):
        raw = data.get("options")
        if not isinstance(raw, list):
            raise Invalid.field("options", gettext("Not a valid list."))
        options: list[tuple[str, bool]] = []
        for i, opt in enumerate(raw):
            if not isinstance(opt, Mapping):
                raise Invalid.field(f"options.{i}", gettext("Not a valid object."))
            unknown = set(opt) - {"id", "text", "correct"}
            if unknown:
                raise Invalid.field(f"options.{i}.{sorted(unknown)[0]}", gettext("Unknown field."))
            options.append((_text(opt.get("text"), f"options.{i}.text", MAX_OPTION_TEXT) or "",
                            _bool(opt.get("correct", False), f"options.{i}.correct")))
    else:
        options = [(o.text, o.correct) for o in base.options]  # type: ignore[union-attr]
    _check_options(kind, options)
    return QuestionData(topic=topic, kind=kind, text=text or "", explanation=explanation,
                        points=points, options=options)


def _check_options(kind: QuestionKind, options: list[tuple[str, bool]]) -> None:
    if kind == QuestionKind.TRUE_FALSE and len(options) != 2:
        raise Invalid.field("options", gettext("A true/false question has exactly two options."))
    if not 2 <= len(options) <= MAX_OPTIONS:
        raise Invalid.field("options", gettext("A question has 2 to %(n)s options.",
                                               n=MAX_OPTIONS))
    seen: set[str] = set()
    for i, (text, _correct) in enumerate(options):
        key = text.casefold()
        if key in seen:
            raise Invalid.field(f"options.{i}.text", gettext("Two options have the same text."))
        seen.add(key)
    n_correct = sum(1 for _, correct in options if correct)
    if kind in (QuestionKind.SINGLE, QuestionKind.TRUE_FALSE) and n_correct != 1:
        raise Invalid.field("options", gettext("Mark exactly one option as correct."))
    if kind == QuestionKind.MULTIPLE and n_correct < 1:
        raise Invalid.field("options", gettext("Mark at least one option as correct."))


def _new_options(question: Question, options: list[tuple[str, bool]]) -> None:
    """Attach options in their order, but insert them in a random order: option ids must not
    tell which option the author wrote first (often the correct one)."""
    made = [Option(text=text, correct=correct, position=i)
            for i, (text, correct) in enumerate(options)]
    shuffled = made[:]
    _rng.shuffle(shuffled)
    question.options = shuffled
    db.session.flush()
    question.options = sorted(made, key=lambda o: o.position)


def questions_query(actor: User | None, *, topic: str | None = None, q: str | None = None,
                    include_retired: bool = False, kind: str | None = None) -> Select[Any]:
    """An ordered select() of bank questions (organisers)."""
    _staff(actor)
    stmt = select(Question).options(selectinload(Question.options))
    if topic:
        stmt = stmt.where(Question.topic == topic)
    if kind:
        stmt = stmt.where(Question.kind == _choice(kind, "kind", QuestionKind))
    if not include_retired:
        stmt = stmt.where(Question.retired.is_(False))
    if q and q.strip():
        for word in fold(q).split():
            stmt = stmt.where(Question.text_folded.contains(word, autoescape=True))
    return stmt.order_by(Question.id)


def list_questions(actor: User | None, topic: str | None = None, q: str | None = None,
                   include_retired: bool = False) -> list[Question]:
    return list(db.session.scalars(questions_query(actor, topic=topic, q=q,
                                                   include_retired=include_retired)))


def get_question(actor: User | None, question_id: int) -> Question:
    _staff(actor)
    question = db.session.get(Question, question_id)
    if question is None:
        raise NotFound(gettext("Unknown question."))
    return question


def create_question(actor: User | None, data: Mapping[str, Any], *,
                    commit: bool = True) -> Question:
    """A new bank question: {topic?, kind, text, explanation?, points?, options: [{text,
    correct}]}."""
    _staff(actor)
    d = _validate_question(data)
    question = Question(topic=d.topic, kind=d.kind, text=d.text, text_folded=fold(d.text),
                        explanation=d.explanation, points=d.points,
                        created_by_id=actor.id if actor is not None else None)
    db.session.add(question)
    _new_options(question, d.options)
    if commit:
        db.session.commit()
    return question


def update_question(actor: User | None, question: Question, data: Mapping[str, Any], *,
                    commit: bool = True) -> Question:
    """Change a question. Once shown in an attempt only its texts, explanation and topic may
    change (409 otherwise). `retired` may be given too."""
    _staff(actor)
    d = _validate_question(data, base=question)
    old = [(o.text, o.correct) for o in question.options]
    if question.used:
        frozen = (d.kind != question.kind or d.points != question.points
                  or [c for _, c in d.options] != [c for _, c in old])
        if frozen:
            raise Conflict(gettext(
                "This question has already been answered in a quiz: its kind, points and correct "
                "options can no longer change. Retire it and add a new question instead."))
    question.topic, question.kind, question.points = d.topic, d.kind, d.points
    question.text, question.text_folded = d.text, fold(d.text)
    question.explanation = d.explanation
    if d.options != old:
        if question.used or len(d.options) == len(old) and [c for _, c in d.options] == [
                c for _, c in old]:
            for opt, (text, _correct) in zip(question.options, d.options, strict=True):
                opt.text = text
        else:
            question.options = []
            db.session.flush()
            _new_options(question, d.options)
    if "retired" in data:
        question.retired = _bool(data["retired"], "retired")
    if commit:
        db.session.commit()
    return question


def retire_question(actor: User | None, question: Question, retired: bool = True) -> Question:
    """Retired questions stay in the quizzes that picked them but are no longer offered or
    drawn."""
    _staff(actor)
    question.retired = bool(retired)
    db.session.commit()
    return question


# --------------------------------------------------------------------------- quizzes

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
        quiz.title = _text(data.get("title"), "title", 300) or ""
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


# --------------------------------------------------------------------------- tokens

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
    attempt = _attempt_for(attempt_id, token)
    if _finalise_if_expired(attempt):
        db.session.commit()
        _push_progress(attempt.quiz)
    return attempt


# --------------------------------------------------------------------------- attempts

def _expired(attempt: Attempt, now: datetime | None = None) -> bool:
    return (attempt.submitted_at is None and attempt.deadline is not None
            and (now or utcnow()) > attempt.deadline + _grace())


def _finalise_if_expired(attempt: Attempt) -> bool:
    if _expired(attempt):
        return _finalise(attempt, attempt.quiz, "deadline")
    return False


# --- question content for attempts, cached per process --------------------------------------
# A quiz rush starts 2,000 attempts in a few seconds, and each start (and each view of an
# attempt) needs the same questions' kinds, points, texts and options. They are kept as plain
# rows for QUIZ_CONTENT_CACHE_S seconds (default 2). A change through this process's ORM
# session empties the cache at once; an edit made by another server process shows within
# those seconds (kinds, points and correct options of a used question never change).

_content_cache: dict[int, tuple[float, Any]] = {}
_content_lock = threading.Lock()


def _question_content(ids: Iterable[int]) -> tuple[dict[int, Any], dict[int, Any]]:
    """({question id: row}, {option id: row}) for `ids`; a question row has id, kind, points,
    text, explanation, used and options (rows with id, question_id, text, correct, by
    position)."""
    ttl = float(current_app.config.get("QUIZ_CONTENT_CACHE_S", 2.0))
    now = time.monotonic()
    questions: dict[int, Any] = {}
    missing = []
    for qid in ids:
        hit = _content_cache.get(qid) if ttl > 0 else None
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
            with _content_lock:
                if len(_content_cache) > 50_000:
                    _content_cache.clear()
                _content_cache.update({qid: (now + ttl, q) for qid, q in fresh.items()})
    options = {o.id: o for q in questions.values() for o in q.options}
    return questions, options


@event.listens_for(OrmSession, "after_flush")
def _forget_changed_content(session: OrmSession, _context: Any) -> None:
    if (_content_cache or _plan_cache) and any(
            isinstance(obj, (Question, Option, Quiz, QuizItem, QuizDraw))
            for obj in (*session.dirty, *session.new, *session.deleted)):
        with _content_lock:
            _content_cache.clear()
            _plan_cache.clear()


_plan_cache: dict[int, tuple[float, Any, list[int], list[tuple[str, int]]]] = {}


def _plan(quiz: Quiz) -> tuple[list[int], list[tuple[str, int]]]:
    """(picked question ids, [(topic, count) drawn]) of a quiz, cached like the question
    content (QUIZ_CONTENT_CACHE_S, and for as long as the quiz row is unchanged)."""
    ttl = float(current_app.config.get("QUIZ_CONTENT_CACHE_S", 2.0))
    hit = _plan_cache.get(quiz.id)
    if ttl > 0 and hit is not None and hit[0] > time.monotonic() and hit[1] == quiz.updated_at:
        return hit[2], hit[3]
    picked = [item.question_id for item in quiz.items]
    draws = [(draw.topic, draw.count) for draw in quiz.draws]
    if ttl > 0:
        with _content_lock:
            if len(_plan_cache) > 10_000:
                _plan_cache.clear()
            _plan_cache[quiz.id] = (time.monotonic() + ttl, quiz.updated_at, picked, draws)
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


_FAST_SAVE: dict[str, Any] = {}


def _fast_save_statements() -> dict[str, Any]:
    from sqlalchemy import bindparam
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    from trainer.fastsql import Prepared

    def upsert(insert: Any) -> Prepared:
        stmt = insert(Answer.__table__).values(
            attempt_id=bindparam("attempt_id"), question_id=bindparam("question_id"),
            option_ids=bindparam("option_ids"), saved_at=bindparam("saved_at"))
        return Prepared(stmt.on_conflict_do_update(
            index_elements=["attempt_id", "question_id"],
            set_={"option_ids": stmt.excluded.option_ids, "saved_at": stmt.excluded.saved_at}))

    return {
        "read": Prepared(select(Attempt.id, Attempt.token_key, Attempt.layout, Attempt.deadline,
                                Attempt.submitted_at).where(Attempt.id == bindparam("id"))),
        "claim": Prepared(update(Attempt)
                          .where(Attempt.id == bindparam("id"), Attempt.submitted_at.is_(None))
                          .values(saved_at=bindparam("now")).returning(Attempt.id)),
        "upsert:sqlite": upsert(sqlite_insert),
        "upsert:postgresql": upsert(pg_insert),
        "submit_read": Prepared(
            select(Attempt.id, Attempt.token_key, Attempt.layout, Attempt.deadline,
                   Attempt.submitted_at, Quiz.id, Quiz.session_id, Quiz.multiple_rule,
                   Quiz.pass_percent)
            .join(Quiz, Quiz.id == Attempt.quiz_id).where(Attempt.id == bindparam("id"))),
        "answers": Prepared(select(Answer.question_id, Answer.option_ids)
                            .where(Answer.attempt_id == bindparam("id"))),
        "finalise": Prepared(
            update(Attempt).where(Attempt.id == bindparam("id"),
                                  Attempt.submitted_at.is_(None))
            .values(submitted_at=bindparam("now"), ended_by="submit",
                    score=bindparam("score_"), max_score=bindparam("max_score_"),
                    percent=bindparam("percent_"), passed=bindparam("passed_"))
            .returning(Attempt.id)),
        "answer_score": Prepared(
            update(Answer).where(Answer.attempt_id == bindparam("id"),
                                 Answer.question_id == bindparam("qid"))
            .values(score=bindparam("score_"))),
    }


def _in_progress(read: str, job: Any, conn: Any) -> tuple[Any, Any, datetime] | None:
    """(attempt, row, now) read with the `read` statement (its first five columns: id,
    token_key, layout, deadline, submitted_at), the token checked; None when the attempt is
    unknown, submitted or out of time (the general path answers those)."""
    row = _FAST_SAVE[read].first({"id": job.attempt_id}, conn)
    if row is None:
        return None
    attempt = SimpleNamespace(id=row[0], token_key=row[1], layout=row[2], deadline=row[3],
                              submitted_at=row[4])
    check_token(attempt, job.token)  # type: ignore[arg-type]
    now = utcnow()
    if attempt.submitted_at is not None or _expired(attempt, now):  # type: ignore[arg-type]
        return None
    return attempt, row, now


def _save_one(job: Any, conn: Any, upsert: Any) -> dict[str, Any] | None:
    found = _in_progress("read", job, conn)
    if found is None:
        return None
    attempt, _, now = found
    clean = _validate_answers(attempt, job.answers)
    if not _FAST_SAVE["claim"].all({"id": attempt.id, "now": now}, conn):
        return None  # submitted meanwhile
    for qid, oids in clean.items():
        upsert.all({"attempt_id": attempt.id, "question_id": qid, "option_ids": oids,
                    "saved_at": now}, conn)
    deadline = attempt.deadline
    seconds_left = max(0, int((deadline - now).total_seconds())) if deadline is not None else None
    return {"saved": len(clean), "saved_at": now, "seconds_left": seconds_left}


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


def _submit_one(job: Any, conn: Any) -> dict[str, Any] | None:
    """_finalise for an attempt in progress, scored from the saved answers."""
    found = _in_progress("submit_read", job, conn)
    if found is None:
        return None
    attempt, row, now = found
    quiz_id, session_id, rule, pass_percent = row[5], row[6], row[7], row[8]
    chosen = dict(_FAST_SAVE["answers"].all({"id": attempt.id}, conn))
    out, per_answer = _score(attempt.layout, chosen, MultipleRule(rule), pass_percent)
    if not _FAST_SAVE["finalise"].all({
            "id": attempt.id, "now": now, "score_": out["score"],
            "max_score_": out["max_score"], "percent_": out["percent"],
            "passed_": out["passed"]}, conn):
        return None  # submitted meanwhile
    for qid, answer_score in per_answer.items():
        _FAST_SAVE["answer_score"].all({"id": attempt.id, "qid": qid, "score_": answer_score},
                                       conn)
    job.quiz = SimpleNamespace(id=quiz_id, session_id=session_id)
    return out


def _fast(kind: str, attempt_id: int, token: str | None, answers: Any = None) -> Any:
    """save_answers (`kind` "save") or submit ("submit") for an attempt in progress without
    the ORM: autosaves and submits are most of a quiz rush's requests. Returns the job, its
    `out` the answer once committed, or None, with nothing written, for the general path
    (unknown attempt, submitted, time up, a refusal, a race), which answers it. Token and
    answers are checked exactly as there."""
    if not _FAST_SAVE:
        _FAST_SAVE.update(_fast_save_statements())
    job = SimpleNamespace(kind=kind, attempt_id=attempt_id, token=token, answers=answers,
                          out=None, quiz=None)
    upsert = _FAST_SAVE.get(f"upsert:{db.engine.dialect.name}")
    if upsert is None:
        return job
    try:
        conn = db.session.connection()
        job.out = (_submit_one(job, conn) if kind == "submit"
                   else _save_one(job, conn, upsert))
        if job.out is None:
            db.session.rollback()
        else:
            db.session.commit()
    except Exception:  # noqa: BLE001 - a refusal, a race, an error: the general path answers
        db.session.rollback()
        job.out = None
    return job


def save_answers(attempt_id: int, token: str | None, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Autosave: merges the given questions' answers into the attempt (the last save wins per
    question; an empty list clears one). 409 once submitted or after the deadline; 422 (and
    nothing saved) for a question or option that is not in this attempt."""
    fast = _fast("save", attempt_id, token, answers).out
    if fast is not None:
        return dict(fast)
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
    job = _fast("submit", attempt_id, token)
    if job.out is not None:
        _push_progress(job.quiz)
        return dict(job.out)
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


# --------------------------------------------------------------------------- paper answers

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


# --------------------------------------------------------------------------- results

@dataclass
class _Counted:
    participant_id: int
    site_id: int
    started: bool
    attempt: Attempt | None  # the counted (best submitted) attempt
    attempts: int
    in_progress: bool


def _per_participant(quiz_id: int, *, lean: bool = False) -> dict[int, _Counted]:
    """One entry per participant with an attempt: their best submitted attempt counts (highest
    percent, then the earliest). lean: the attempts are plain rows with only participant_id,
    site_id, submitted_at, percent and passed (the live progress, pushed several times a
    second during a quiz, needs no more than that)."""
    out: dict[int, _Counted] = {}
    rows: Any
    if lean:
        rows = (SimpleNamespace(participant_id=r[0], site_id=r[1], submitted_at=r[2],
                                percent=r[3], passed=r[4])
                for r in db.session.execute(
                    select(Attempt.participant_id, Attempt.site_id, Attempt.submitted_at,
                           Attempt.percent, Attempt.passed)
                    .where(Attempt.quiz_id == quiz_id)
                    .order_by(Attempt.participant_id, Attempt.number)))
    else:
        rows = db.session.scalars(select(Attempt).where(Attempt.quiz_id == quiz_id)
                                  .order_by(Attempt.participant_id, Attempt.number))
    for a in rows:
        if a.participant_id not in out:
            out[a.participant_id] = _Counted(a.participant_id, a.site_id, True, None, 0, False)
        entry = out[a.participant_id]
        entry.attempts += 1
        if a.submitted_at is None:
            entry.in_progress = True
            if entry.attempt is None:
                entry.site_id = a.site_id
            continue
        best = entry.attempt
        if best is None or (a.percent or 0) > (best.percent or 0):
            entry.attempt = a
            entry.site_id = a.site_id
    return out


def _session_sites(quiz: Quiz, extra: Iterable[int] = (), what: Any = Site) -> list[Any]:
    """The session's sites (and those of `extra` ids), host first, then by name; `what`:
    Site for the sites, or a column such as Site.id."""
    ids = set(db.session.scalars(select(SessionSite.site_id).where(
        SessionSite.session_id == quiz.session_id))) | set(extra)
    if not ids:
        return []
    return list(db.session.scalars(select(what).where(Site.id.in_(ids))
                                   .order_by(Site.kind.desc(), Site.name_folded, Site.id)))


def progress(quiz_id: int) -> dict[str, Any]:
    """The `quiz_progress` payload: per site, people who started, submitted and passed.
    `version` counts attempts started plus attempts finalised, so it only grows."""
    quiz = get_quiz(quiz_id)
    counted = _per_participant(quiz_id, lean=True)
    per_site: dict[int, dict[str, int]] = {}
    for entry in counted.values():
        row = per_site.setdefault(entry.site_id, {"started": 0, "submitted": 0, "passed": 0})
        row["started"] += 1
        if entry.attempt is not None:
            row["submitted"] += 1
            row["passed"] += bool(entry.attempt.passed)
    version = db.session.scalar(
        select(func.count(Attempt.id) + func.count(Attempt.submitted_at))
        .where(Attempt.quiz_id == quiz_id)) or 0
    site_ids = _session_sites(quiz, per_site, Site.id)
    return {
        "quiz_id": quiz.id, "session_id": quiz.session_id, "status": quiz.status.value,
        "version": int(version),
        "sites": [{"site_id": i, **per_site.get(i, {"started": 0, "submitted": 0,
                                                    "passed": 0})} for i in site_ids],
    }


def _push_progress(quiz: Quiz) -> None:
    quiz_id, session_id = quiz.id, quiz.session_id

    def build() -> tuple[str, dict[str, Any]]:
        return "quiz_progress", progress(quiz_id)

    live.schedule(session_id, f"quiz_progress:{quiz_id}", build)


def _require_results(actor: User | None) -> None:
    if actor is not None:
        require_staff(actor)


def site_results(quiz_id: int, actor: User | None = None) -> dict[str, Any]:
    """The API.md results body: per site present / submitted / mean_percent / passed (counts of
    people, the counted attempt per person), and per question facility and discrimination."""
    _require_results(actor)
    quiz = get_quiz(quiz_id)
    finalise_expired(quiz_id)
    counted = _per_participant(quiz_id)
    present = dict(db.session.execute(
        select(Checkin.site_id, func.count()).where(Checkin.session_id == quiz.session_id)
        .group_by(Checkin.site_id)).all())
    groups: dict[int, list[_Counted]] = {}
    for entry in counted.values():
        groups.setdefault(entry.site_id, []).append(entry)
    sites = _session_sites(quiz, set(groups) | set(present))

    def summary(entries: list[_Counted], n_present: int) -> dict[str, Any]:
        done = [e.attempt for e in entries if e.attempt is not None]
        exact = [Fraction(str(a.score or 0)) * 100 / Fraction(str(a.max_score))
                 if a.max_score else Fraction(0) for a in done]  # not the rounded percents
        mean = round(float(sum(exact, Fraction(0)) / len(exact)), 2) if exact else None
        return {"present": n_present, "started": len(entries), "submitted": len(done),
                "mean_percent": mean, "passed": sum(1 for a in done if a.passed)}

    return {
        "quiz_id": quiz.id,
        "session_id": quiz.session_id,
        "title": quiz.title,
        "status": quiz.status.value,
        "pass_percent": quiz.pass_percent,
        "sites": [{"site_id": s.id, "code": s.code, "name": s.name,
                   **summary(groups.get(s.id, []), present.get(s.id, 0))} for s in sites],
        "totals": summary(list(counted.values()), sum(present.values())),
        "questions": question_stats(quiz_id),
    }


def question_stats(quiz_id: int, actor: User | None = None) -> list[dict[str, Any]]:
    """Per question over the counted attempts: facility (0..1) and discrimination (-1..1)."""
    _require_results(actor)
    quiz = get_quiz(quiz_id)
    counted = [e.attempt for e in _per_participant(quiz_id).values() if e.attempt is not None]
    scores: dict[int, dict[int, float]] = {}
    if counted:
        ids = [a.id for a in counted]
        for attempt_id, qid, score in db.session.execute(
                select(Answer.attempt_id, Answer.question_id, Answer.score)
                .where(Answer.attempt_id.in_(ids))):
            scores.setdefault(attempt_id, {})[qid] = score or 0.0
    rows = [{int(item["q"]): (scores.get(a.id, {}).get(int(item["q"]), 0.0), float(item["p"]))
             for item in a.layout} for a in counted]
    order = [item.question_id for item in quiz.items]
    others = sorted({qid for row in rows for qid in row} - set(order))
    qids = order + others
    questions = {q.id: q for q in db.session.scalars(select(Question).where(Question.id.in_(qids)))}
    out = []
    for st in item_stats(rows, qids):
        q = questions[st.question_id]
        out.append({"id": q.id, "text": q.text, "kind": q.kind.value, "topic": q.topic,
                    "points": q.points, "attempts": st.attempts, "facility": st.facility,
                    "discrimination": st.discrimination})
    return out


def participant_results(quiz_id: int, actor: User | None = None,
                        site_id: int | None = None) -> list[dict[str, Any]]:
    """One row per participant checked in to the session or with an attempt, sorted by site
    then name (Vietnamese order). Coordinators see their own sites only."""
    site_ids = None
    if actor is not None:
        user = require_any(actor)
        site_ids = visible_site_ids(user)
        if site_ids is not None and site_id is not None and site_id not in site_ids:
            raise Forbidden(gettext("You coordinate other sites, not this one."))
    quiz = get_quiz_for_viewer(actor, quiz_id) if actor is not None else get_quiz(quiz_id)
    finalise_expired(quiz_id)
    counted = _per_participant(quiz_id)
    checkins = dict(db.session.execute(
        select(Checkin.participant_id, Checkin.site_id)
        .where(Checkin.session_id == quiz.session_id)).all())
    wanted: dict[int, int] = {pid: sid for pid, sid in checkins.items()}
    for pid, entry in counted.items():
        wanted[pid] = entry.site_id if entry.attempt is not None or pid not in wanted \
            else wanted[pid]
    if site_ids is not None:
        wanted = {pid: sid for pid, sid in wanted.items() if sid in site_ids}
    if site_id is not None:
        wanted = {pid: sid for pid, sid in wanted.items() if sid == site_id}
    if not wanted:
        return []
    people = {p.id: p for p in db.session.scalars(
        select(Participant).where(Participant.id.in_(list(wanted))))}
    sites = {s.id: s for s in db.session.scalars(
        select(Site).where(Site.id.in_(set(wanted.values()))))}
    rows: list[dict[str, Any]] = []
    order: dict[int, tuple[bool, str, str, int]] = {}
    for pid, sid in wanted.items():
        p, found = people[pid], counted.get(pid)
        a = found.attempt if found else None
        status = ("submitted" if a is not None else
                  "in_progress" if found is not None and found.in_progress else "not_started")
        site = sites[sid]
        rows.append({
            "participant_id": p.id, "code": p.code, "full_name": p.full_name,
            "sex": p.sex.value, "unit": p.unit, "position": p.position,
            "site_id": sid, "site_code": site.code, "site_name": site.name,
            "checked_in": pid in checkins, "status": status,
            "attempts": found.attempts if found else 0,
            "attempt_id": a.id if a else None, "source": a.source.value if a else None,
            "score": a.score if a else None, "max_score": a.max_score if a else None,
            "percent": a.percent if a else None, "passed": a.passed if a else None,
            "submitted_at": a.submitted_at if a else None,
        })
        order[p.id] = (site.kind.value != "host", site.name_folded, p.sort_key, p.id)
    rows.sort(key=lambda r: order[r["participant_id"]])
    return rows


# --------------------------------------------------------------------------- export

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(ws: Any, row: int, col: int, value: Any) -> None:
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        cell.value = value
        if value.startswith(FORMULA_START):
            cell.data_type = "s"  # text, never a formula
            cell.quotePrefix = True
    elif isinstance(value, datetime):
        from trainer.i18n import to_local

        cell.value = to_local(value).replace(tzinfo=None)
        cell.number_format = "dd/mm/yyyy hh:mm"
    else:
        cell.value = value


def _sheet(wb: Any, title: str, headers: list[str], rows: Iterable[list[Any]],
           widths: list[int]) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title)
    for col, header in enumerate(headers, start=1):
        _cell(ws, 1, col, header)
        ws.cell(row=1, column=col).font = Font(bold=True)
    for r, row in enumerate(rows, start=2):
        for col, value in enumerate(row, start=1):
            _cell(ws, r, col, value)
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = "A2"


SEX_VI = {"female": "Nữ", "male": "Nam", "unspecified": "Không xác định"}
STATUS_VI = {"submitted": "Đã nộp", "in_progress": "Đang làm", "not_started": "Chưa làm"}


def export_xlsx(quiz_id: int, actor: User | None = None) -> bytes:
    """An XLSX workbook (Vietnamese headers, frozen header rows): results per site, per
    participant and per question."""

    from trainer.offload import off_loop

    _require_results(actor)
    return off_loop(_results_workbook, get_quiz(quiz_id).id)


def _results_workbook(quiz_id: int) -> bytes:
    """Read and built off the gevent loop (trainer.offload), on the worker thread's own
    database session: 30,000 participants take seconds."""
    from openpyxl import Workbook

    quiz = get_quiz(quiz_id)
    title, results, people = quiz.title, site_results(quiz_id), participant_results(quiz_id)
    db.session.commit()  # the connection serves others while the workbook is built
    wb = Workbook()
    wb.remove(wb.active)
    sites = results["sites"] + [{"code": "", "name": "Tổng cộng", **results["totals"]}]
    _sheet(wb, "Theo điểm cầu",
           ["Mã điểm cầu", "Điểm cầu", "Có mặt", "Đã bắt đầu", "Đã nộp bài", "Điểm TB (%)",
            "Đạt"],
           ([s["code"], s["name"], s["present"], s["started"], s["submitted"],
             s["mean_percent"], s["passed"]] for s in sites),
           [14, 32, 10, 12, 12, 12, 8])
    _sheet(wb, "Học viên",
           ["Mã học viên", "Họ và tên", "Giới tính", "Đơn vị", "Chức vụ", "Điểm cầu",
            "Đã điểm danh", "Trạng thái", "Số lần làm", "Hình thức", "Điểm", "Điểm tối đa",
            "Tỷ lệ (%)", "Đạt", "Nộp lúc"],
           ([p["code"], p["full_name"], SEX_VI.get(p["sex"], p["sex"]), p["unit"] or "",
             p["position"] or "", p["site_name"], "Có" if p["checked_in"] else "Không",
             STATUS_VI[p["status"]], p["attempts"],
             {"web": "Trực tuyến", "paper": "Giấy"}.get(p["source"] or "", ""),
             p["score"], p["max_score"], p["percent"],
             "" if p["passed"] is None else ("Đạt" if p["passed"] else "Chưa đạt"),
             p["submitted_at"]] for p in people),
           [12, 28, 10, 24, 22, 24, 12, 12, 10, 12, 8, 10, 10, 10, 17])
    _sheet(wb, "Câu hỏi",
           ["Mã câu hỏi", "Câu hỏi", "Loại", "Chủ đề", "Số bài làm", "Độ dễ (0-1)",
            "Độ phân biệt (-1..1)"],
           ([q["id"], q["text"], {"single": "Một lựa chọn", "multiple": "Nhiều lựa chọn",
                                  "true_false": "Đúng/Sai"}[q["kind"]],
             q["topic"] or "", q["attempts"], q["facility"], q["discrimination"]]
            for q in results["questions"]),
           [10, 70, 16, 14, 10, 12, 16])
    wb.properties.title = title
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
