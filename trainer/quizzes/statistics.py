"""Live statistics of a quiz, in the style of a room poll: how the scores spread (a histogram
by tenths of the score, women and men apart) and, per question, the share who got it right,
overall and by sex. Read from the counted attempts (each person's best submitted attempt,
as the results tables count them), so they grow while the quiz is open.

A question counts as right when the attempt earned its full points (with partial credit, a
half-right answer is not "right"; the mean share of points earned is the facility in the
results table).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from flask import current_app
from sqlalchemy import select

from trainer.extensions import db
from trainer.people.models import Participant
from trainer.quizzes.models import Answer, Attempt, Question, Quiz

SEXES = ("female", "male", "unspecified")
BINS = 10
PAGE_SIZE = 50


def _counted(quiz_id: int) -> dict[int, tuple[int, float, list[dict[str, Any]], str]]:
    """participant -> (attempt id, percent, layout, sex) of the best submitted attempt
    (highest percent, then the earliest), as the results count it."""
    best: dict[int, tuple[int, float, list[dict[str, Any]], str]] = {}
    rows = db.session.execute(
        select(Attempt.participant_id, Attempt.id, Attempt.percent, Attempt.layout,
               Participant.sex)
        .join(Participant, Participant.id == Attempt.participant_id)
        .where(Attempt.quiz_id == quiz_id, Attempt.submitted_at.is_not(None))
        .order_by(Attempt.participant_id, Attempt.number))
    for pid, attempt_id, percent, layout, sex in rows:
        value = float(percent or 0)
        if pid not in best or value > best[pid][1]:
            best[pid] = (attempt_id, value, layout or [], getattr(sex, "value", str(sex)))
    return best


def histogram(percents: list[tuple[float, str]]) -> list[dict[str, Any]]:
    """Ten bins (0-9 %, 10-19 %, ..., 90-100 %) with the count of people in each, by sex."""
    bins = [{"lo": 10 * i, "hi": 10 * i + (10 if i == BINS - 1 else 9), "total": 0,
             **{s: 0 for s in SEXES}} for i in range(BINS)]
    for percent, sex in percents:
        i = min(BINS - 1, max(0, int(percent // 10)))
        bins[i]["total"] += 1
        bins[i][sex if sex in SEXES else "unspecified"] += 1
    return bins


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def quiz_statistics(quiz: Quiz) -> dict[str, Any]:
    """The histogram and the per-question shares of one quiz (the caller checked access)."""
    best = _counted(quiz.id)
    bins = histogram([(percent, sex) for _a, percent, _l, sex in best.values()])
    points: dict[tuple[int, int], float] = {}  # (attempt, question) -> its points
    sex_of: dict[int, str] = {}
    for attempt_id, _p, layout, sex in best.values():
        sex_of[attempt_id] = sex
        for item in layout:
            points[(attempt_id, int(item["q"]))] = float(item.get("p") or 0)
    per_q: dict[int, dict[str, Any]] = {}

    def entry(qid: int) -> dict[str, Any]:
        return per_q.setdefault(qid, {"answered": 0, "right": 0,
                                      **{f"{s}_answered": 0 for s in SEXES},
                                      **{f"{s}_right": 0 for s in SEXES}})

    for (attempt_id, qid) in points:
        e = entry(qid)
        e["answered"] += 1
        e[f"{sex_of[attempt_id]}_answered"] += 1
    if best:
        ids = [a for a, _p, _l, _s in best.values()]
        for start in range(0, len(ids), 900):
            for attempt_id, qid, score in db.session.execute(
                    select(Answer.attempt_id, Answer.question_id, Answer.score)
                    .where(Answer.attempt_id.in_(ids[start:start + 900]))):
                full = points.get((attempt_id, qid))
                if full is None or score is None or score + 1e-9 < full or full <= 0:
                    continue
                e = entry(qid)
                e["right"] += 1
                e[f"{sex_of[attempt_id]}_right"] += 1
    order = [item.question_id for item in quiz.items]
    qids = order + sorted(set(per_q) - set(order))
    texts = dict(db.session.execute(select(Question.id, Question.text)
                                    .where(Question.id.in_(qids))).all()) if qids else {}
    questions = []
    for number, qid in enumerate(qids, start=1):
        e = per_q.get(qid) or entry(qid)
        questions.append({
            "id": qid, "number": number, "text": texts.get(qid, ""),
            "answered": e["answered"], "right": e["right"],
            "right_share": _share(e["right"], e["answered"]),
            **{f"{s}_share": _share(e[f"{s}_right"], e[f"{s}_answered"]) for s in SEXES},
            **{f"{s}_answered": e[f"{s}_answered"] for s in SEXES},
        })
    tallest = max((b["total"] for b in bins), default=0)
    return {"quiz_id": quiz.id, "status": quiz.status.value, "submitted": len(best),
            "pass_percent": quiz.pass_percent, "bins": bins, "tallest": tallest,
            "questions": questions}


def page_of(rows: list[dict[str, Any]], page: int, per_page: int = PAGE_SIZE) -> dict[str, Any]:
    """One page of the per-person table (pages count from 1; past the end: the last)."""
    pages = max(1, -(-len(rows) // per_page))
    page = max(1, min(page, pages))
    start = (page - 1) * per_page
    return {"items": rows[start:start + per_page], "page": page, "pages": pages,
            "total": len(rows), "first": start + 1 if rows else 0,
            "last": min(start + per_page, len(rows))}


class _Cache:
    """The latest statistics per quiz for a few seconds: every room screen of a quiz refreshing
    after the same progress push reads the attempts once. Bounded; lives in app.extensions."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self.lock = threading.Lock()
        self.items: dict[int, tuple[float, dict[str, Any]]] = {}

    def get(self, quiz: Quiz, ttl: float) -> dict[str, Any]:
        now = time.monotonic()
        with self.lock:
            hit = self.items.get(quiz.id)
            if hit is not None and now - hit[0] < ttl and hit[1]["status"] == quiz.status.value:
                return hit[1]
        value = quiz_statistics(quiz)
        with self.lock:
            if len(self.items) >= self.size:
                self.items.pop(min(self.items, key=lambda k: self.items[k][0]))
            self.items[quiz.id] = (now, value)
        return value


def cached_statistics(quiz: Quiz) -> dict[str, Any]:
    """quiz_statistics, shared for QUIZ_STATS_CACHE_S seconds (default 3; 0 under tests)."""
    app = current_app
    ttl = float(app.config.get("QUIZ_STATS_CACHE_S", 0 if app.testing else 3))
    if ttl <= 0:
        return quiz_statistics(quiz)
    cache = app.extensions.setdefault("quiz_statistics", _Cache())
    return cache.get(quiz, ttl)
