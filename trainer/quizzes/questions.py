"""The question bank: topics and questions (single, multiple, true/false), retire."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from trainer.auth.models import User
from trainer.errors import Conflict, Invalid, NotFound
from trainer.extensions import db
from trainer.quizzes.models import (
    Option,
    Question,
    QuestionKind,
    QuestionTopic,
)
from trainer.quizzes.rules import (
    MAX_OPTION_TEXT,
    MAX_OPTIONS,
    MAX_TEXT,
    _bool,
    _choice,
    _int,
    _rng,
    _staff,
)
from trainer.text import fold
from trainer.validation import field_text

#: a question topic key: letters a-z (any case: it is stored in lower case), digits, "-" or "_",
#: at least one letter or digit
TOPIC_KEY_PATTERN = "^[A-Za-z0-9_-]*[A-Za-z0-9][A-Za-z0-9_-]*$"


def list_topics() -> list[QuestionTopic]:
    return list(db.session.scalars(select(QuestionTopic).order_by(QuestionTopic.id)))


def topic_names() -> dict[str, str]:
    return {t.key: t.name for t in list_topics()}


def create_topic(actor: User | None, key: str, name: str, name_en: str | None = None, *,
                 commit: bool = True) -> QuestionTopic:
    _staff(actor)
    key = (field_text("key", key, 32, required=True) or "").lower()
    if not re.fullmatch(TOPIC_KEY_PATTERN, key):
        raise Invalid.field("key", gettext("A topic key is letters a-z, digits, '-' or '_'."))
    name = field_text("name", name, 200, required=True) or ""
    if db.session.scalar(select(QuestionTopic.id).where(QuestionTopic.key == key)):
        raise Conflict(gettext("The topic %(key)s exists already.", key=key),
                       errors={"key": [gettext("Already taken.")]})
    topic = QuestionTopic(key=key, name=name, name_en=field_text("name_en", name_en, 200))
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
    text = (field_text("text", data.get("text"), MAX_TEXT, required=True) if given("text")
            else base.text)  # type: ignore[union-attr]
    explanation = (field_text("explanation", data.get("explanation"), MAX_TEXT)
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
            options.append((field_text(f"options.{i}.text", opt.get("text"), MAX_OPTION_TEXT, required=True) or "",
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
