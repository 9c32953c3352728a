"""Two phones at the same moment, on PostgreSQL (SQLite serialises every write anyway)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import func, select

from trainer.extensions import db
from trainer.quizzes import services
from trainer.quizzes.models import Attempt

pytestmark = pytest.mark.postgres


def _together(app: Any, n: int, work: Any) -> list[Any]:
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                results[i] = work(i)
            except Exception as exc:  # noqa: BLE001 - reported below
                results[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def test_same_code_on_several_phones_at_once_makes_one_attempt(app: Any, world: Any,
                                                               make_quiz: Any) -> None:
    """One phone gets the attempt; the others are refused (a code alone never takes over an
    attempt held by another device)."""
    from trainer.errors import Forbidden

    quiz = make_quiz()
    quiz_id, code = quiz.id, world.a.code
    results = _together(app, 4, lambda i: services.start_attempt(quiz_id, code)[0].id)
    ids = [r for r in results if not isinstance(r, Exception)]
    assert len(ids) >= 1 and len(set(ids)) == 1, results
    assert all(isinstance(r, Forbidden) for r in results if isinstance(r, Exception)), results
    assert db.session.scalar(select(func.count()).select_from(Attempt)) == 1


def test_submit_from_several_phones_at_once_counts_once(app: Any, world: Any, make_quiz: Any,
                                                        option_ids: Any) -> None:
    quiz = make_quiz()
    ids = option_ids(quiz)
    attempt, token, _ = services.start_attempt(quiz.id, world.a.code)
    services.save_answers(attempt.id, token, {str(ids["q1"]["_id"]): [ids["q1"]["Một"]]})
    attempt_id = attempt.id
    results = _together(app, 4, lambda i: services.submit(attempt_id, token))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert all(r == {"score": 1.0, "max_score": 3.0, "percent": 33.33, "passed": False}
               for r in results)
    db.session.rollback()  # this test's session still holds the attempt as it was
    progress = services.progress(quiz.id)
    site = next(s for s in progress["sites"] if s["site_id"] == world.x.id)
    assert (site["started"], site["submitted"]) == (1, 1)
