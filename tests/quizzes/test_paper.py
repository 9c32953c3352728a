"""Paper answers entered by a coordinator or an organiser."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from trainer.audit.models import AuditEntry
from trainer.extensions import db
from trainer.quizzes import services
from trainer.quizzes.models import Attempt


def test_coordinator_enters_paper_answers_for_their_site(world: Any, make_quiz: Any,
                                                         api_as: Any, option_ids: Any) -> None:
    quiz = make_quiz()
    ids = option_ids(quiz)
    answers = {str(ids["q1"]["_id"]): [ids["q1"]["Một"]],
               str(ids["q2"]["_id"]): [ids["q2"]["Y tế"], ids["q2"]["Giáo dục và đào tạo"]]}
    response = api_as(world.coord_y).post(f"/api/v1/quizzes/{quiz.id}/paper",
                                          json={"participant_code": world.c.code,
                                                "answers": answers})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body == {"score": 2.0, "max_score": 3.0, "percent": 66.67, "passed": True,
                    "attempt_id": body["attempt_id"], "participant_id": world.c.id,
                    "source": "paper"}
    attempt = db.session.get(Attempt, body["attempt_id"])
    assert attempt.source.value == "paper" and attempt.entered_by_id == world.coord_y.id
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "quiz.paper_answers"))
    assert entry.user_id == world.coord_y.id and entry.participant_id == world.c.id
    assert entry.details["answers"] == answers and entry.details["attempt_id"] == attempt.id
    # counted in the results like any other
    site = next(s for s in services.site_results(quiz.id)["sites"] if s["site_id"] == world.y.id)
    assert (site["submitted"], site["passed"]) == (1, 1)
    # entered twice: refused, nothing changed
    again = api_as(world.coord_y).post(f"/api/v1/quizzes/{quiz.id}/paper",
                                       json={"participant_id": world.c.id, "answers": {}})
    assert again.status_code == 409
    db.session.refresh(attempt)
    assert attempt.score == 2.0


def test_paper_answers_refused_for_other_sites_and_bad_input(world: Any, make_quiz: Any,
                                                             api_as: Any,
                                                             option_ids: Any) -> None:
    quiz = make_quiz()
    ids = option_ids(quiz)
    url = f"/api/v1/quizzes/{quiz.id}/paper"
    assert api_as(world.coord_x).post(url, json={"participant_id": world.c.id,
                                                 "answers": {}}).status_code == 403
    assert api_as(world.coord_other).post(url, json={"participant_id": world.c.id,
                                                     "answers": {}}).status_code == 403
    assert api_as(None).post(url, json={"participant_id": world.c.id,
                                        "answers": {}}).status_code == 401
    api = api_as(world.organiser)
    assert api.post(url, json={"participant_id": world.f.id, "answers": {}}).status_code == 403
    assert api.post(url, json={"participant_id": 99999, "answers": {}}).status_code == 404
    assert api.post(url, json={"answers": {}}).status_code == 422
    bad = api.post(url, json={"participant_id": world.c.id,
                              "answers": {str(ids["q1"]["_id"]): [ids["q2"]["Y tế"]]}})
    assert bad.status_code == 422 and f"answers.{ids['q1']['_id']}" in bad.get_json()["errors"]
    assert db.session.scalar(select(Attempt.id)) is None
    assert db.session.scalar(select(AuditEntry.id).where(
        AuditEntry.action == "quiz.paper_answers")) is None


def test_paper_takes_over_an_attempt_left_open_on_a_phone(world: Any, make_quiz: Any,
                                                          trainee: Any, api_as: Any,
                                                          option_ids: Any) -> None:
    quiz = make_quiz()
    ids = option_ids(quiz)
    body = trainee.start(quiz.id, world.d.code).get_json()
    trainee.save(body["attempt_id"], body["token"], {str(ids["q1"]["_id"]): [ids["q1"]["Hai"]]})
    response = api_as(world.coord_y).post(
        f"/api/v1/quizzes/{quiz.id}/paper",
        json={"participant_id": world.d.id, "answers": {str(ids["q3"]["_id"]):
                                                        [ids["q3"]["Đúng"]]}})
    assert response.status_code == 201
    assert response.get_json()["attempt_id"] == body["attempt_id"]
    assert response.get_json()["score"] == 1.0
    view = trainee.get(body["attempt_id"], body["token"]).get_json()
    assert view["status"] == "submitted" and view["source"] == "paper"
    assert view["answers"] == {str(ids["q3"]["_id"]): [ids["q3"]["Đúng"]]}


def test_paper_for_a_drawn_quiz_lists_its_questions(world: Any, api_as: Any) -> None:
    q = [services.create_question(None, {"topic": "gender", "kind": "single", "text": f"Câu {i}",
                                         "options": [{"text": "A", "correct": True},
                                                     {"text": "B"}]}) for i in range(3)]
    quiz = services.create_quiz(None, {"session_id": world.session.id, "title": "Bốc",
                                       "draws": [{"topic": "gender", "count": 2}]})
    services.set_status(None, quiz.id, "open")
    url = f"/api/v1/quizzes/{quiz.id}/paper"
    api = api_as(world.organiser)
    missing = api.post(url, json={"participant_id": world.a.id, "answers": {}})
    assert missing.status_code == 422 and "question_ids" in missing.get_json()["errors"]
    ok = api.post(url, json={"participant_id": world.a.id, "question_ids": [q[0].id, q[2].id],
                             "answers": {str(q[0].id): [q[0].options[0].id]}})
    assert ok.status_code == 201
    assert (ok.get_json()["score"], ok.get_json()["max_score"]) == (1.0, 2.0)
