"""Quizzes through the API and the services: create, open/close, settings, draws, reveal."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from trainer.errors import Conflict, Invalid
from trainer.extensions import db
from trainer.quizzes import services
from trainer.quizzes.models import Attempt, Question, Quiz

API_MD_BODY = {
    "title": "Kiểm tra cuối buổi", "time_limit_s": 900, "pass_percent": 70,
    "questions": [
        {"text": "Ai là Giám đốc Trung tâm học tập cộng đồng?", "kind": "single", "points": 1,
         "options": [{"text": "Phó Chủ tịch Ủy ban nhân dân xã", "correct": True},
                     {"text": "Hiệu trưởng trường tiểu học", "correct": False}]},
        {"text": "Bình đẳng giới là trách nhiệm của mọi người.", "kind": "true_false",
         "points": 2, "options": [{"text": "Đúng", "correct": True},
                                  {"text": "Sai", "correct": False}]},
    ],
}


def test_create_quiz_as_api_md_says(world: Any, api_as: Any) -> None:
    api = api_as(world.organiser)
    response = api.post("/api/v1/quizzes", json={"session_id": world.session.id, **API_MD_BODY})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["id"] and body["status"] == "draft" and len(body["short_code"]) == 6
    assert [q["kind"] for q in body["questions"]] == ["single", "true_false"]
    for q in body["questions"]:
        assert q["id"] and all(o["id"] for o in q["options"])
    assert [o["correct"] for o in body["questions"][0]["options"]] == [True, False]
    assert body["question_count"] == 2 and body["multiple_rule"] == "all_or_nothing"
    assert body["attempts_allowed"] == 1 and body["reveal"] == "after_close"
    assert api.get(f"/api/v1/quizzes/{body['id']}").get_json()["questions"] == body["questions"]
    listed = api.get(f"/api/v1/quizzes?session_id={world.session.id}").get_json()
    assert listed["total"] == 1 and "questions" not in listed["items"][0]


def test_only_organisers_build_quizzes(world: Any, api_as: Any) -> None:
    body = {"session_id": world.session.id, **API_MD_BODY}
    assert api_as(world.coord_x).post("/api/v1/quizzes", json=body).status_code == 403
    assert api_as(None).post("/api/v1/quizzes", json=body).status_code == 401
    assert db.session.scalar(select(func.count()).select_from(Quiz)) == 0
    assert db.session.scalar(select(func.count()).select_from(Question)) == 0


@pytest.mark.parametrize(("change", "field"), [
    ({"session_id": 999999}, "session_id"),
    ({"pass_percent": 101}, "pass_percent"),
    ({"time_limit_s": 0}, "time_limit_s"),
    ({"title": ""}, "title"),
    ({"multiple_rule": "half"}, "multiple_rule"),
    ({"questions": [{"text": "Không có đáp án đúng", "kind": "single",
                     "options": [{"text": "A", "correct": False},
                                 {"text": "B", "correct": False}]}]}, "questions.0.options"),
    ({"questions": [{"text": "Hai đáp án đúng", "kind": "single",
                     "options": [{"text": "A", "correct": True},
                                 {"text": "B", "correct": True}]}]}, "questions.0.options"),
    ({"questions": [{"text": "Đúng sai ba lựa chọn", "kind": "true_false",
                     "options": [{"text": "Đúng", "correct": True}, {"text": "Sai"},
                                 {"text": "Không biết"}]}]}, "questions.0.options"),
    ({"questions": [{"text": "Trùng", "kind": "multiple",
                     "options": [{"text": "A", "correct": True},
                                 {"text": "a", "correct": True}]}]}, "questions.0.options.1.text"),
    ({"question_ids": [424242]}, "question_ids.0"),
    ({"draws": [{"topic": "astronomy", "count": 2}]}, "draws.0.topic"),
    ({"draws": [{"topic": "gender", "count": 5}]}, "draws.0.count"),  # no gender questions yet
])
def test_bad_quiz_input_is_refused_and_nothing_is_half_saved(world: Any, api_as: Any,
                                                             change: dict[str, Any],
                                                             field: str) -> None:
    response = api_as(world.organiser, lang="en").post(
        "/api/v1/quizzes", json={"session_id": world.session.id, **API_MD_BODY, **change})
    assert response.status_code == 422, response.get_json()
    problem = response.get_json()
    assert any(k == field or k.startswith(field) for k in problem["errors"]), problem
    assert db.session.scalar(select(func.count()).select_from(Quiz)) == 0
    assert db.session.scalar(select(func.count()).select_from(Question)) == 0


def test_open_and_close(world: Any, api_as: Any, make_quiz: Any) -> None:
    api = api_as(world.organiser)
    empty = make_quiz(open=False, questions=[])
    response = api.post(f"/api/v1/quizzes/{empty.id}/status", json={"status": "open"})
    assert response.status_code == 409
    quiz = make_quiz(open=False)
    response = api.post(f"/api/v1/quizzes/{quiz.id}/status", json={"status": "open"})
    assert response.status_code == 200 and response.get_json()["status"] == "open"
    assert response.get_json()["opened_at"]
    again = api.post(f"/api/v1/quizzes/{quiz.id}/status", json={"status": "open"})
    assert again.status_code == 200
    assert api.post(f"/api/v1/quizzes/{quiz.id}/status",
                    json={"status": "draft"}).status_code == 422
    assert api_as(world.coord_x).post(f"/api/v1/quizzes/{quiz.id}/status",
                                      json={"status": "closed"}).status_code == 403
    closed = api.post(f"/api/v1/quizzes/{quiz.id}/status", json={"status": "closed"})
    assert closed.get_json()["status"] == "closed"
    from trainer.audit.models import AuditEntry

    actions = list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["quiz.open", "quiz.closed"]


def test_settings_that_scoring_depends_on_freeze_once_started(world: Any, make_quiz: Any,
                                                               trainee: Any) -> None:
    quiz = make_quiz()
    services.update_quiz(None, quiz, {"pass_percent": 80, "title": "Đổi tên"})
    trainee.start(quiz.id, world.a.code)
    for change in ({"pass_percent": 50}, {"multiple_rule": "partial"}, {"question_ids": []},
                   {"draws": [{"topic": "gender", "count": 1}]}):
        with pytest.raises(Conflict):
            services.update_quiz(None, quiz, change)
    db.session.rollback()
    # a form sending every field unchanged may still rename the quiz
    same = {"pass_percent": 80, "multiple_rule": "all_or_nothing", "questions": [],
            "question_ids": [item.question_id for item in quiz.items], "draws": []}
    services.update_quiz(None, quiz, {"title": "Tên mới", "time_limit_s": 1200, **same})
    assert (quiz.title, quiz.time_limit_s, quiz.pass_percent) == ("Tên mới", 1200, 80.0)
    assert len(quiz.items) == 3


def test_picked_bank_questions_and_draws_per_trainee(world: Any, trainee: Any) -> None:
    from trainer.quizzes.bank import load_bank

    load_bank()
    picked = db.session.scalars(select(Question.id).order_by(Question.id).limit(2)).all()
    quiz = services.create_quiz(None, {
        "session_id": world.session.id, "title": "Bốc thăm",
        "question_ids": list(picked),
        "draws": [{"topic": "management", "count": 3}, {"topic": "gender", "count": 2}]})
    services.set_status(None, quiz.id, "open")
    topics = dict(db.session.execute(select(Question.id, Question.topic)).all())
    draws = []
    for p in (world.a, world.b, world.c, world.d):
        body = trainee.start(quiz.id, p.code).get_json()
        qids = [q["id"] for q in body["questions"]]
        assert qids[:2] == list(picked)  # picked first, in order (no question shuffle)
        assert len(set(qids)) == 7
        assert Counter(topics[q] for q in qids[2:]) == {"management": 3, "gender": 2}
        draws.append(tuple(qids))
        # the draw is kept: a resume shows the same questions
        assert [q["id"] for q in trainee.start(quiz.id, p.code).get_json()["questions"]] == qids
    assert len(set(draws)) > 1  # four identical draws of 3 from 30 and 2 from 36: ~never


def test_retired_questions_are_not_drawn(world: Any, trainee: Any) -> None:
    only = services.create_question(None, {"topic": "gender", "kind": "single", "text": "Giữ",
                                           "options": [{"text": "A", "correct": True},
                                                       {"text": "B"}]})
    gone = services.create_question(None, {"topic": "gender", "kind": "single", "text": "Bỏ",
                                           "options": [{"text": "A", "correct": True},
                                                       {"text": "B"}]})
    quiz = services.create_quiz(None, {"session_id": world.session.id, "title": "Bốc",
                                       "draws": [{"topic": "gender", "count": 2}]})
    services.retire_question(None, gone)
    services.set_status(None, quiz.id, "open")
    body = trainee.start(quiz.id, world.a.code).get_json()
    assert [q["id"] for q in body["questions"]] == [only.id]


def test_shuffled_questions_keep_their_order_on_resume(world: Any, make_quiz: Any,
                                                       trainee: Any) -> None:
    questions = [{"text": f"Câu {i}", "kind": "single", "options": [
        {"text": "A", "correct": True}, {"text": "B"}, {"text": "C"}]} for i in range(12)]
    quiz = make_quiz(questions=questions, shuffle_questions=True, shuffle_options=True)
    orders = []
    for p in (world.a, world.b, world.c):
        first = trainee.start(quiz.id, p.code).get_json()
        again = trainee.start(quiz.id, p.code).get_json()
        assert again["questions"] == first["questions"]
        orders.append([q["text"] for q in first["questions"]])
    assert len({tuple(o) for o in orders}) > 1  # 12! orders


def _submit(trainee: Any, quiz: Any, participant: Any) -> tuple[int, str]:
    body = trainee.start(quiz.id, participant.code).get_json()
    trainee.submit(body["attempt_id"], body["token"])
    return body["attempt_id"], body["token"]


def test_review_after_close_by_default(world: Any, make_quiz: Any, trainee: Any,
                                       api_as: Any) -> None:
    quiz = make_quiz()
    aid, token = _submit(trainee, quiz, world.a)
    assert trainee.get(aid, token).get_json()["review"] is None
    assert services.review(aid, token) is None
    services.set_status(None, quiz.id, "closed")
    review = trainee.get(aid, token).get_json()["review"]
    assert len(review) == 3 and all(r["correct_option_ids"] for r in review)
    assert review[0]["explanation"] == "Mỗi xã, phường, thị trấn có một trung tâm."
    assert review[0]["chosen_option_ids"] == [] and review[0]["score"] == 0.0
    # the phone that took the quiz sees its attempt, result and review after the close
    again = trainee.start(quiz.id, world.a.code)
    assert again.status_code == 200 and again.get_json()["review"]
    # a new phone with the code alone does not, until the site's coordinator approves
    stranger = type(trainee)(trainee.client)
    refused = stranger.start(quiz.id, world.a.code)
    assert refused.status_code == 403 and "review" not in refused.get_json()
    assert api_as(world.coord_x).post(
        f"/api/v1/attempts/{aid}/handover").status_code == 204
    assert stranger.start(quiz.id, world.a.code).get_json()["review"]


def test_review_after_submit_and_never(world: Any, make_quiz: Any, trainee: Any) -> None:
    quiz = make_quiz(reveal="after_submit", attempts_allowed=2)
    aid, token = _submit(trainee, quiz, world.a)
    assert trainee.get(aid, token).get_json()["review"] is None  # one more attempt to go
    aid2, token2 = _submit(trainee, quiz, world.a)
    assert trainee.get(aid2, token2).get_json()["review"]
    never = make_quiz(reveal="never")
    aid3, token3 = _submit(trainee, never, world.b)
    services.set_status(None, never.id, "closed")
    assert trainee.get(aid3, token3).get_json()["review"] is None


def test_intro_and_short_code(world: Any, make_quiz: Any, client: Any) -> None:
    quiz = make_quiz(multiple_rule="partial")
    body = client.get(f"/api/v1/quizzes/{quiz.id}/intro").get_json()
    assert body["question_count"] == 3 and body["status"] == "open"
    assert body["multiple_rule"] == "partial" and body["multiple_rule_text"]
    english = client.get(f"/api/v1/quizzes/{quiz.id}/intro",
                         headers={"Accept-Language": "en"}).get_json()
    assert "each wrong option you tick takes its share away" in english["multiple_rule_text"]
    assert services.quiz_by_short_code(quiz.short_code.lower()).id == quiz.id
    assert client.get("/api/v1/quizzes/424242/intro").status_code == 404


def test_two_phones_starting_at_once_share_one_attempt(world: Any, make_quiz: Any) -> None:
    """The unique (quiz, participant, number) constraint backs the resume rule."""
    from sqlalchemy.exc import IntegrityError

    quiz = make_quiz()
    services.start_attempt(quiz.id, world.a.code)
    first = db.session.scalar(select(Attempt))
    clash = Attempt(quiz_id=quiz.id, participant_id=world.a.id, number=1, site_id=world.x.id,
                    token_key="x", layout=first.layout)
    db.session.add(clash)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    attempt, _, created = services.start_attempt(quiz.id, world.a.code,
                                                 services.issue_token(first))
    assert not created and attempt.id == first.id


def test_services_refuse_bad_question_data_directly(world: Any) -> None:
    with pytest.raises(Invalid) as info:
        services.create_question(None, {"kind": "single", "text": "x\u0007y",
                                        "options": [{"text": "A", "correct": True},
                                                    {"text": "B"}]})
    assert "text" in info.value.errors
    with pytest.raises(Invalid):
        services.create_question(None, {"kind": "single", "text": "x", "points": 0,
                                        "options": [{"text": "A", "correct": True},
                                                    {"text": "B"}]})
    with pytest.raises(Invalid):
        services.create_question(None, {"kind": "maybe", "text": "x", "options": []})
