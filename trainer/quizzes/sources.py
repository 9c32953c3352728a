"""A question's legal source (article, document) and the day it was last checked ("valid as
of"), as the bank file gives them: {"source": {"article": ..., "document": ...},
"valid_as_of": "YYYY-MM-DD"}."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from flask_babel import gettext

from trainer.errors import Invalid
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
