"""Question bank, quizzes, attempts and answers.

An attempt keeps its own `layout`: the questions it drew, in the order shown, each with its
kind, points and option order. Saving an answer reads only the attempt row, and a question
edited later cannot change what an attempt showed (questions used in attempts refuse edits
that would change scoring).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer.dbtypes import StrEnum, UTCDateTime, enum_values, utcnow
from trainer.extensions import db

if TYPE_CHECKING:
    from trainer.people.models import Participant
    from trainer.sessions.models import TrainingSession


class QuestionKind(StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"
    TRUE_FALSE = "true_false"


class MultipleRule(StrEnum):
    ALL_OR_NOTHING = "all_or_nothing"
    PARTIAL = "partial"


class Reveal(StrEnum):
    AFTER_CLOSE = "after_close"
    AFTER_SUBMIT = "after_submit"
    NEVER = "never"


class QuizStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class AttemptSource(StrEnum):
    WEB = "web"
    PAPER = "paper"


def _enum(cls: type[StrEnum], name: str, length: int = 16) -> Enum:
    return Enum(cls, name=name, native_enum=False, values_callable=enum_values, length=length)


class QuestionTopic(db.Model):  # type: ignore[name-defined,misc]
    """A topic of the bank ("management", "gender"): its key and its names."""

    __tablename__ = "question_topic"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))


class Question(db.Model):  # type: ignore[name-defined,misc]
    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str | None] = mapped_column(
        ForeignKey("question_topic.key", ondelete="SET NULL", onupdate="CASCADE"), index=True
    )
    kind: Mapped[QuestionKind] = mapped_column(_enum(QuestionKind, "question_kind"))
    text: Mapped[str] = mapped_column(Text)
    text_folded: Mapped[str] = mapped_column(Text)
    explanation: Mapped[str | None] = mapped_column(Text)
    points: Mapped[int] = mapped_column(default=1)
    # Where the answer comes from (article, document) and the day it was last checked.
    source_article: Mapped[str | None] = mapped_column(String(200))
    source_document: Mapped[str | None] = mapped_column(String(300))
    valid_as_of: Mapped[date | None] = mapped_column(Date)
    retired: Mapped[bool] = mapped_column(default=False)
    # Shown in at least one attempt: kind, points, options and correctness are then frozen.
    used: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    options: Mapped[list[Option]] = relationship(
        back_populates="question", order_by="Option.position", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint("points >= 1 AND points <= 100", name="points_range"),
        Index("ix_question_retired_topic", "retired", "topic"),
    )

    @property
    def correct_ids(self) -> list[int]:
        return [o.id for o in self.options if o.correct]


class Option(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "question_option"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("question.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(String(500))
    correct: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)

    question: Mapped[Question] = relationship(back_populates="options")


class Quiz(db.Model):  # type: ignore[name-defined,misc]
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("training_session.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    time_limit_s: Mapped[int | None]
    pass_percent: Mapped[float] = mapped_column(Float, default=50.0)
    multiple_rule: Mapped[MultipleRule] = mapped_column(
        _enum(MultipleRule, "multiple_rule", 24), default=MultipleRule.ALL_OR_NOTHING
    )
    attempts_allowed: Mapped[int] = mapped_column(default=1)
    shuffle_questions: Mapped[bool] = mapped_column(default=False)
    shuffle_options: Mapped[bool] = mapped_column(default=True)
    reveal: Mapped[Reveal] = mapped_column(_enum(Reveal, "quiz_reveal"),
                                           default=Reveal.AFTER_CLOSE)
    allow_unchecked: Mapped[bool] = mapped_column(default=False)
    status: Mapped[QuizStatus] = mapped_column(_enum(QuizStatus, "quiz_status"),
                                               default=QuizStatus.DRAFT)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    short_code: Mapped[str] = mapped_column(String(16), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    session: Mapped[TrainingSession] = relationship()
    items: Mapped[list[QuizItem]] = relationship(
        back_populates="quiz", order_by="QuizItem.position", cascade="all, delete-orphan"
    )
    draws: Mapped[list[QuizDraw]] = relationship(
        back_populates="quiz", order_by="QuizDraw.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint("pass_percent >= 0 AND pass_percent <= 100", name="pass_percent_range"),
        CheckConstraint("attempts_allowed >= 1", name="attempts_allowed_positive"),
        CheckConstraint("time_limit_s IS NULL OR time_limit_s > 0", name="time_limit_positive"),
    )


class QuizItem(db.Model):  # type: ignore[name-defined,misc]
    """A question picked for a quiz: every attempt gets it."""

    __tablename__ = "quiz_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quiz.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(
        ForeignKey("question.id", ondelete="RESTRICT"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)

    quiz: Mapped[Quiz] = relationship(back_populates="items")
    question: Mapped[Question] = relationship()

    __table_args__ = (UniqueConstraint("quiz_id", "question_id"),)


class QuizDraw(db.Model):  # type: ignore[name-defined,misc]
    """`count` questions drawn at random from a topic, separately for each attempt."""

    __tablename__ = "quiz_draw"

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quiz.id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(
        ForeignKey("question_topic.key", ondelete="RESTRICT", onupdate="CASCADE")
    )
    count: Mapped[int]

    quiz: Mapped[Quiz] = relationship(back_populates="draws")

    __table_args__ = (
        UniqueConstraint("quiz_id", "topic"),
        CheckConstraint("count >= 1", name="count_positive"),
    )


class Attempt(db.Model):  # type: ignore[name-defined,misc]
    """One participant's go at a quiz, on the web or entered from paper.

    `layout` is [{"q": question_id, "k": kind, "p": points, "o": [option_id, ...]}, ...] in
    the order shown. Tokens are HMAC(SECRET_KEY, id, token_key, nonce): nothing to store per
    device, and every token issued for the attempt stays valid (see services.issue_token).
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quiz.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(default=1)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="RESTRICT"))
    source: Mapped[AttemptSource] = mapped_column(_enum(AttemptSource, "attempt_source"),
                                                  default=AttemptSource.WEB)
    token_key: Mapped[str] = mapped_column(String(64))
    layout: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_by: Mapped[str | None] = mapped_column(String(16))  # submit|deadline|close|paper
    score: Mapped[float | None] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float, default=0.0)
    percent: Mapped[float | None] = mapped_column(Float)
    passed: Mapped[bool | None]
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # Until then the participant's code alone may take the attempt over on another device
    # (a coordinator approved it; see trainer.quizzes.access).
    resume_approved_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # SHA-256 of the random key the starting device sent: the same device may resume with its
    # code and that key (e.g. when the answer to the start was lost on the network).
    device_hash: Mapped[str | None] = mapped_column(String(64))

    quiz: Mapped[Quiz] = relationship()
    participant: Mapped[Participant] = relationship()

    __table_args__ = (
        UniqueConstraint("quiz_id", "participant_id", "number"),
        Index("ix_attempt_quiz_id_site_id", "quiz_id", "site_id"),
        Index("ix_attempt_quiz_id_submitted_at", "quiz_id", "submitted_at"),
        CheckConstraint("number >= 1", name="number_positive"),
    )

    @property
    def question_ids(self) -> list[int]:
        return [int(item["q"]) for item in self.layout]

    @property
    def submitted(self) -> bool:
        return self.submitted_at is not None


class Answer(db.Model):  # type: ignore[name-defined,misc]
    """The options chosen for one question of an attempt (the last save wins)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempt.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="RESTRICT"),
                                             index=True)
    option_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    score: Mapped[float | None] = mapped_column(Float)  # set when the attempt is finalised

    __table_args__ = (UniqueConstraint("attempt_id", "question_id"),)
