"""A question's legal source (article, document) and the day it was last checked ("valid as
of"), as the bank file gives them: {"source": {"article": ..., "document": ...},
"valid_as_of": "YYYY-MM-DD"}."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from flask_babel import gettext

from trainer.auth.models import User
from trainer.errors import Invalid
from trainer.extensions import db
from trainer.quizzes import services
from trainer.quizzes.models import Question
from trainer.text import nfc

MAX_ARTICLE = 200
MAX_DOCUMENT = 300


def _text(value: Any, field: str, limit: int) -> str:
    text = nfc(value) if isinstance(value, str) else ""
    if not text:
        raise Invalid.field(field, gettext("This field is required."))
    if len(text) > limit:
        raise Invalid.field(field, gettext("At most %(n)s characters.", n=limit))
    return text


def read_source(data: Mapping[str, Any]) -> tuple[str, str, date]:
    """(article, document, valid as of) of a bank entry; Invalid when one is missing."""
    source = data.get("source")
    if not isinstance(source, Mapping):
        raise Invalid.field("source", gettext("This field is required."))
    article = _text(source.get("article"), "source.article", MAX_ARTICLE)
    document = _text(source.get("document"), "source.document", MAX_DOCUMENT)
    try:
        checked = date.fromisoformat(str(data.get("valid_as_of", "")))
    except ValueError:
        raise Invalid.field("valid_as_of", gettext("Not a valid date.")) from None
    return article, document, checked


def same_source(question: Question, data: Mapping[str, Any]) -> bool:
    return (question.source_article, question.source_document,
            question.valid_as_of) == read_source(data)


def apply_source(question: Question, data: Mapping[str, Any]) -> None:
    question.source_article, question.source_document, question.valid_as_of = read_source(data)


# ------------------------------------------------------------------ the question form

FORM_FIELDS = ("source_article", "source_document", "valid_as_of")


def form_values(question: Question | None) -> dict[str, str]:
    if question is None:
        return dict.fromkeys(FORM_FIELDS, "")
    return {"source_article": question.source_article or "",
            "source_document": question.source_document or "",
            "valid_as_of": question.valid_as_of.isoformat() if question.valid_as_of else ""}


def _optional(form: Mapping[str, Any], field: str, limit: int) -> str | None:
    text = nfc(str(form.get(field) or ""))
    if len(text) > limit:
        raise Invalid.field(field, gettext("At most %(n)s characters.", n=limit))
    return text or None


def save_question(actor: User | None, question: Question | None, data: Mapping[str, Any],
                  form: Mapping[str, Any]) -> Question:
    """Create or change a question and its source from the bank's form, in one commit (the
    source and date are optional there: a question written by an organiser may have none)."""
    article = _optional(form, "source_article", MAX_ARTICLE)
    document = _optional(form, "source_document", MAX_DOCUMENT)
    raw = str(form.get("valid_as_of") or "").strip()
    try:
        checked = date.fromisoformat(raw) if raw else None
    except ValueError:
        raise Invalid.field("valid_as_of", gettext("Not a valid date.")) from None
    if question is None:
        question = services.create_question(actor, data, commit=False)
    else:
        services.update_question(actor, question, data, commit=False)
    question.source_article, question.source_document, question.valid_as_of = (
        article, document, checked)
    db.session.commit()
    return question
