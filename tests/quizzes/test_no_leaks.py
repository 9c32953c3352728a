"""Nothing sent to a trainee before they submit tells which options are correct."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from trainer.extensions import db
from trainer.quizzes.models import Option, Question

FORBIDDEN_KEYS = {"correct", "explanation", "correct_option_ids", "is_correct", "answer_key",
                  "layout", "token_key", "score"}


def _walk(node: Any, path: str = "") -> list[tuple[str, Any]]:
    out = [(path, node)]
    if isinstance(node, dict):
        for k, v in node.items():
            out.append((f"{path}.{k}#key", k))
            out += _walk(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _walk(v, f"{path}[{i}]")
    return out


def _assert_no_leak(body: Any, explanations: set[str]) -> None:
    for path, value in _walk(body):
        if path.endswith("#key"):
            assert value not in FORBIDDEN_KEYS, path
        if isinstance(value, str):
            for text in explanations:
                assert text not in value, path


def _many_questions(n: int = 20) -> list[dict[str, Any]]:
    # The author always writes the correct option first: a careless shuffle or id order would
    # show it.
    return [{"text": f"Câu hỏi số {i}", "kind": "single", "explanation": f"Giải thích {i}",
             "options": [{"text": "Đáp án đúng", "correct": True},
                         {"text": "Sai một", "correct": False},
                         {"text": "Sai hai", "correct": False},
                         {"text": "Sai ba", "correct": False}]} for i in range(n)]


def test_every_body_sent_before_submit_has_no_correctness(world: Any, make_quiz: Any,
                                                          trainee: Any, option_ids: Any,
                                                          client: Any) -> None:
    quiz = make_quiz(reveal="after_submit", shuffle_options=True, shuffle_questions=True)
    ids = option_ids(quiz)
    explanations = {q.explanation for q in db.session.scalars(select(Question))}
    intro = client.get(f"/api/v1/quizzes/{quiz.id}/intro")
    trainee.bodies.append(intro.get_json())
    start = trainee.start(quiz.id, world.a.code).get_json()
    aid, token = start["attempt_id"], start["token"]
    trainee.start(quiz.id, world.a.code)  # resume
    trainee.get(aid, token)
    trainee.save(aid, token, {str(ids["q1"]["_id"]): [ids["q1"]["Một"]]})
    trainee.save(aid, token, {"999": [1]})  # an error body too
    trainee.save(aid, None, {})
    trainee.get(aid, token)
    assert len(trainee.bodies) == 8 and all(b is not None for b in trainee.bodies)
    for body in trainee.bodies:
        _assert_no_leak(body, explanations)
        if isinstance(body, dict) and "review" in body:
            assert body["review"] is None
    # after submitting, with reveal "after_submit", the review may show them
    trainee.submit(aid, token)
    review = trainee.get(aid, token).get_json()["review"]
    assert review and review[0]["explanation"] in explanations


def test_the_trainee_page_itself_carries_no_answers(world: Any, make_quiz: Any,
                                                    client: Any) -> None:
    quiz = make_quiz()
    explanations = {q.explanation for q in db.session.scalars(select(Question))}
    response = client.get(f"/quizzes/{quiz.id}/take")
    if response.status_code == 404:  # the pages are built by another engineer
        return
    page = response.get_data(as_text=True)
    for text in explanations:
        assert text not in page
    assert '"correct"' not in page


def test_option_ids_and_order_do_not_follow_the_authors_order(world: Any, make_quiz: Any,
                                                              trainee: Any) -> None:
    quiz = make_quiz(questions=_many_questions(), shuffle_options=True)
    correct = set(db.session.scalars(select(Option.id).where(Option.correct.is_(True))))
    body = trainee.start(quiz.id, world.a.code).get_json()
    first_shown = [q["options"][0]["id"] in correct for q in body["questions"]]
    lowest_id = [min(o["id"] for o in q["options"]) in correct for q in body["questions"]]
    # 20 questions of 4 options: by chance alone all 20 would be correct-first with p = 4^-20
    assert not all(first_shown)
    assert not all(lowest_id)
    for q in body["questions"]:
        _assert_no_leak(q, set())


def test_without_shuffle_the_authors_order_is_kept(world: Any, make_quiz: Any,
                                                   trainee: Any) -> None:
    quiz = make_quiz(questions=_many_questions(3), shuffle_options=False)
    body = trainee.start(quiz.id, world.a.code).get_json()
    assert [o["text"] for o in body["questions"][0]["options"]] == [
        "Đáp án đúng", "Sai một", "Sai hai", "Sai ba"]
