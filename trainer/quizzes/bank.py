"""Load the question bank (trainer/quizzes/bank.json) into the database, idempotently.

Questions are matched by their text (NFC, case and spacing ignored): a question already
stored is updated in place (topic, explanation, option texts, legal source and "valid as
of" date; kind, points and correct options too while no attempt has shown it), a new one is
added. Every question of the file names its source and date (see sources.py). Running it
twice changes nothing the second time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from trainer.auth.models import User
from trainer.errors import Conflict, Invalid
from trainer.extensions import db
from trainer.quizzes import rules, services
from trainer.quizzes.models import Question, QuestionTopic
from trainer.quizzes.sources import apply_source, same_source
from trainer.text import nfc

BANK_PATH = Path(__file__).resolve().parent / "bank.json"


@dataclass
class LoadResult:
    topics_created: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = (f"Question bank: {self.created} added, {self.updated} updated, "
                f"{self.unchanged} unchanged, {self.topics_created} topics added.")
        if self.skipped:
            text += f" {len(self.skipped)} skipped (already answered in quizzes): " + \
                "; ".join(s[:60] for s in self.skipped)
        return text


def _key(text: str) -> str:
    return nfc(text).casefold()


def _same(question: Question, data: dict[str, Any]) -> bool:
    return (question.topic == data.get("topic") and question.kind.value == data["kind"]
            and question.text == nfc(data["text"])
            and (question.explanation or None) == (nfc(data.get("explanation") or "") or None)
            and question.points == data.get("points", 1)
            and [(o.text, o.correct) for o in question.options]
            == [(nfc(o["text"]), bool(o["correct"])) for o in data["options"]]
            and same_source(question, data))


def load_bank(path: str | Path | None = None, *, actor: User | None = None,
              commit: bool = True) -> LoadResult:
    """Add or update the bank's topics and questions; raises Invalid on a bad file."""
    rules._staff(actor)
    source = Path(path) if path else BANK_PATH
    try:
        bank = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise Invalid(f"{source}: {exc}") from None
    if not isinstance(bank, dict) or not isinstance(bank.get("questions"), list):
        raise Invalid(f"{source}: expected {{'topics': [...], 'questions': [...]}}")
    result = LoadResult()
    topics = {t.key: t for t in db.session.scalars(select(QuestionTopic))}
    for spec in bank.get("topics", []):
        topic = topics.get(spec["key"])
        if topic is None:
            topic = QuestionTopic(key=spec["key"], name=nfc(spec["name"]),
                                  name_en=spec.get("name_en"))
            db.session.add(topic)
            topics[topic.key] = topic
            result.topics_created += 1
        else:
            topic.name, topic.name_en = nfc(spec["name"]), spec.get("name_en")
    db.session.flush()
    existing: dict[str, Question] = {}
    for stored in db.session.scalars(select(Question).order_by(Question.id)):
        existing.setdefault(_key(stored.text), stored)
    for i, data in enumerate(bank["questions"]):
        question: Question | None = existing.get(_key(str(data.get("text", ""))))
        try:
            if question is None:
                made = services.create_question(actor, data, commit=False)
                apply_source(made, data)
                existing[_key(made.text)] = made
                result.created += 1
            elif _same(question, data):
                result.unchanged += 1
            else:
                services.update_question(actor, question, data, commit=False)
                apply_source(question, data)
                result.updated += 1
        except Conflict:
            result.skipped.append(question.text if question else str(data.get("text")))
        except Invalid as exc:
            errors = "; ".join(f"{k}: {', '.join(map(str, v))}"
                               for k, v in (exc.errors or {}).items())
            raise Invalid(f"{source}: question {i + 1}: {exc.detail} {errors}".strip(),
                          errors=exc.errors) from None
    if commit:
        db.session.commit()
    return result
