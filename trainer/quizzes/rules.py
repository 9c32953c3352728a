"""Quiz rules shared by the bank, the builder, attempts and results: input checks, grace, the
partial-credit text."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from trainer.auth.models import User
from trainer.auth.services import require_staff
from trainer.errors import Invalid
from trainer.quizzes.models import (
    MultipleRule,
    Quiz,
)

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


def _staff(actor: User | None) -> User | None:
    """None is the system (command line, demo); anyone else must be an organiser or admin."""
    return None if actor is None else require_staff(actor)


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
