"""The trainee's attempt through the API: start, resume, autosave, submit, deadline, tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from trainer.dbtypes import utcnow
from trainer.extensions import db
from trainer.quizzes.models import Answer, Attempt


def _start(trainee: Any, quiz: Any, participant: Any) -> dict[str, Any]:
    response = trainee.start(quiz.id, participant.code)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_start_gives_the_api_md_body(world: Any, make_quiz: Any, trainee: Any) -> None:
    quiz = make_quiz()
    body = _start(trainee, quiz, world.a)
    assert {"attempt_id", "token", "deadline", "questions"} <= set(body)
    assert [q["kind"] for q in body["questions"]] == ["single", "multiple", "true_false"]
    for q in body["questions"]:
        assert set(q) == {"id", "text", "kind", "points", "options"}
        assert all(set(o) == {"id", "text"} for o in q["options"])
    assert body["questions"][2]["options"][0]["text"] == "Đúng"
    assert body["deadline"].endswith("+00:00")
    assert 590 <= body["seconds_left"] <= 600
    assert body["status"] == "in_progress" and body["result"] is None
    assert body["participant"] == {"full_name": "Nguyễn Thị An"}
    assert "Questions with several answers" in body["multiple_rule_text"] or \
        "nhiều" in body["multiple_rule_text"].lower() or body["multiple_rule_text"]


def test_code_is_read_the_way_people_type_it(world: Any, make_quiz: Any, trainee: Any) -> None:
    quiz = make_quiz()
    typed = " " + world.a.code.lower()[:3] + "-" + world.a.code.lower()[3:] + " "
    assert trainee.start(quiz.id, typed).status_code == 201


def test_resume_returns_the_same_attempt_with_a_new_token_and_old_tokens_still_work(
        world: Any, make_quiz: Any, trainee: Any, option_ids: Any) -> None:
    quiz = make_quiz()
    ids = option_ids(quiz)
    first = _start(trainee, quiz, world.a)
    again = trainee.start(quiz.id, world.a.code, first["token"])  # a reload
    assert again.status_code == 200
    second = again.get_json()
    assert second["attempt_id"] == first["attempt_id"]
    assert second["token"] != first["token"]
    assert second["questions"] == first["questions"]
    # phone 1 and phone 2 both save; answers merge per question
    q1, q2 = ids["q1"], ids["q2"]
    assert trainee.save(first["attempt_id"], first["token"],
                        {str(q1["_id"]): [q1["Một"]]}).status_code == 200
    assert trainee.save(second["attempt_id"], second["token"],
                        {str(q2["_id"]): [q2["Y tế"], q2["Giáo dục và đào tạo"]]}).status_code == 200
    view = trainee.get(first["attempt_id"], second["token"]).get_json()
    assert view["answers"] == {str(q1["_id"]): [q1["Một"]],
                               str(q2["_id"]): [q2["Y tế"], q2["Giáo dục và đào tạo"]]}
    # the last save wins for a question; an empty list clears it
    trainee.save(first["attempt_id"], first["token"], {str(q1["_id"]): [q1["Hai"]]})
    trainee.save(first["attempt_id"], first["token"], {str(q2["_id"]): []})
    view = trainee.get(first["attempt_id"], first["token"]).get_json()
    assert view["answers"] == {str(q1["_id"]): [q1["Hai"]], str(q2["_id"]): []}
    # submitted from both phones: one result, counted once
    r1 = trainee.submit(first["attempt_id"], first["token"])
    r2 = trainee.submit(second["attempt_id"], second["token"])
    assert r1.status_code == r2.status_code == 200
    assert r1.get_json() == r2.get_json() == {"score": 0.0, "max_score": 3.0, "percent": 0.0,
                                              "passed": False}
    assert db.session.scalar(select(func.count()).select_from(Attempt)) == 1


def test_submit_retried_after_a_timeout_returns_the_same_result(
        world: Any, make_quiz: Any, trainee: Any, option_ids: Any) -> None:
    quiz = make_quiz()
    ids = option_ids(quiz)
    body = _start(trainee, quiz, world.a)
    trainee.save(body["attempt_id"], body["token"], {
        str(ids["q1"]["_id"]): [ids["q1"]["Một"]], str(ids["q3"]["_id"]): [ids["q3"]["Đúng"]]})
    first = trainee.submit(body["attempt_id"], body["token"]).get_json()
    assert first == {"score": 2.0, "max_score": 3.0, "percent": 66.67, "passed": True}
    attempt = db.session.get(Attempt, body["attempt_id"])
    submitted_at = attempt.submitted_at
    assert trainee.submit(body["attempt_id"], body["token"]).get_json() == first
    db.session.refresh(attempt)
    assert attempt.submitted_at == submitted_at and attempt.ended_by == "submit"
    # answers can no longer change
    late = trainee.save(body["attempt_id"], body["token"], {str(ids["q2"]["_id"]): []})
    assert late.status_code == 409
    assert late.get_json()["reason"] == "submitted"
    assert late.get_json()["result"] == first


def test_after_a_submitted_attempt_a_new_start_returns_it_with_its_result(
        world: Any, make_quiz: Any, trainee: Any) -> None:
    quiz = make_quiz()
    body = _start(trainee, quiz, world.a)
    result = trainee.submit(body["attempt_id"], body["token"]).get_json()
    again = trainee.start(quiz.id, world.a.code, body["token"])
    assert again.status_code == 200
    assert again.get_json()["attempt_id"] == body["attempt_id"]
    assert again.get_json()["result"] == result
    assert again.get_json()["status"] == "submitted"
    assert again.get_json()["can_retry"] is False


def test_more_attempts_when_allowed(world: Any, make_quiz: Any, trainee: Any) -> None:
    quiz = make_quiz(attempts_allowed=2)
    first = _start(trainee, quiz, world.a)
    trainee.submit(first["attempt_id"], first["token"])
    second = trainee.start(quiz.id, world.a.code, first["token"])
    assert second.status_code == 201
    assert second.get_json()["number"] == 2
    assert second.get_json()["attempt_id"] != first["attempt_id"]
    trainee.submit(second.get_json()["attempt_id"], second.get_json()["token"])
    third = trainee.start(quiz.id, world.a.code, second.get_json()["token"])
    assert third.status_code == 200 and third.get_json()["number"] == 2


def test_not_open_closed_unchecked_and_unknown_are_refused_alike(
        world: Any, make_quiz: Any, trainee: Any, client: Any) -> None:
    draft = make_quiz(open=False)
    response = trainee.start(draft.id, world.a.code)
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["reason"] == "not_open"

    quiz = make_quiz()
    response = trainee.start(quiz.id, world.f.code)  # registered, not checked in
    assert response.status_code == 403
    body = response.get_json()
    assert body["reason"] == "refused"
    assert "Phúc" not in body["detail"]
    english = client.post(f"/api/v1/quizzes/{quiz.id}/attempts",
                          json={"participant_code": world.f.code},
                          headers={"Accept-Language": "en"}).get_json()
    assert "ask your site's coordinator" in english["detail"]

    unknown = trainee.start(quiz.id, "ZZZZZZ")
    assert unknown.status_code == 403
    assert unknown.get_json() == body  # an unknown code reads like a known one
    assert trainee.start(999999, world.a.code).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Attempt)) == 0

    from trainer.quizzes import services

    services.set_status(None, quiz.id, "closed")
    closed = trainee.start(quiz.id, world.a.code)
    assert closed.status_code == 403 and closed.get_json()["reason"] == "closed"


def test_allow_unchecked_lets_anyone_with_a_code_start(world: Any, make_quiz: Any,
                                                       trainee: Any) -> None:
    quiz = make_quiz(allow_unchecked=True)
    body = _start(trainee, quiz, world.f)
    assert db.session.get(Attempt, body["attempt_id"]).site_id == world.f.site_id


def test_malformed_start_bodies(world: Any, make_quiz: Any, client: Any) -> None:
    quiz = make_quiz()
    url = f"/api/v1/quizzes/{quiz.id}/attempts"
    for body in ({}, {"participant_code": ""}, {"participant_code": 12},
                 {"participant_code": world.a.code, "extra": 1}):
        response = client.post(url, json=body)
        assert response.status_code == 422, body
        assert response.get_json()["errors"]
    assert client.post(url, data="{not json", content_type="application/json").status_code == 400


def test_unknown_questions_and_options_are_refused_and_nothing_is_saved(
        world: Any, make_quiz: Any, trainee: Any, option_ids: Any) -> None:
    quiz = make_quiz()
    other = make_quiz(questions=[{"text": "Câu hỏi khác", "kind": "single", "options": [
        {"text": "X", "correct": True}, {"text": "Y", "correct": False}]}])
    ids, other_ids = option_ids(quiz), option_ids(other)
    body = _start(trainee, quiz, world.a)
    aid, token = body["attempt_id"], body["token"]
    q1, q2 = ids["q1"], ids["q2"]
    good = {str(q1["_id"]): [q1["Một"]]}
    cases = [
        ({**good, str(other_ids["q1"]["_id"]): [other_ids["q1"]["X"]]},
         f"answers.{other_ids['q1']['_id']}"),                      # a question of another quiz
        ({**good, "999999": [1]}, "answers.999999"),                 # no such question
        ({**good, "abc": [1]}, "answers.abc"),                       # not an id
        ({str(q1["_id"]): [q2["Y tế"]]}, f"answers.{q1['_id']}"),  # another question's option
        ({str(q1["_id"]): [q1["Một"], q1["Hai"]]}, f"answers.{q1['_id']}"),  # two for single
        ({str(ids["q3"]["_id"]): [ids["q3"]["Đúng"], ids["q3"]["Sai"]]},
         f"answers.{ids['q3']['_id']}"),                             # two for true/false
        ({str(q1["_id"]): q1["Một"]}, f"answers.{q1['_id']}"),     # not a list
        ({str(q1["_id"]): ["1"]}, f"answers.{q1['_id']}"),         # not integers
        ({str(q1["_id"]): [True]}, f"answers.{q1['_id']}"),
    ]
    for answers, field in cases:
        response = trainee.save(aid, token, answers)
        assert response.status_code == 422, answers
        problem = response.get_json()
        assert field in problem["errors"], problem
        assert problem["detail"]
    assert db.session.scalar(select(func.count()).select_from(Answer)) == 0
    for body in ([], "x", {"answers": []}):
        response = trainee.client.put(f"/api/v1/attempts/{aid}/answers", json=body,
                                      headers={"X-Attempt-Token": token})
        assert response.status_code == 422
    # duplicates in a list are harmless
    assert trainee.save(aid, token, {str(q2["_id"]): [q2["Y tế"], q2["Y tế"]]}).status_code == 200
    assert db.session.scalar(select(Answer.option_ids)) == [q2["Y tế"]]


def test_tokens(world: Any, make_quiz: Any, trainee: Any) -> None:
    quiz = make_quiz()
    mine = _start(trainee, quiz, world.a)
    theirs = _start(trainee, quiz, world.b)
    aid = mine["attempt_id"]
    assert trainee.get(aid, None).status_code == 401
    assert trainee.save(aid, None, {}).status_code == 401
    assert trainee.submit(aid, None).status_code == 401
    for bad in (theirs["token"], "garbage", mine["token"] + "x", "." * 300):
        assert trainee.get(aid, bad).status_code == 403
        assert trainee.save(aid, bad, {}).status_code == 403
        assert trainee.submit(aid, bad).status_code == 403
    assert db.session.get(Attempt, aid).submitted_at is None
    assert trainee.get(424242, mine["token"]).status_code == 404


def test_answers_after_the_deadline_are_not_kept(world: Any, make_quiz: Any, trainee: Any,
                                                 option_ids: Any) -> None:
    quiz = make_quiz()
    ids = option_ids(quiz)
    body = _start(trainee, quiz, world.a)
    aid, token = body["attempt_id"], body["token"]
    q1, q3 = ids["q1"], ids["q3"]
    trainee.save(aid, token, {str(q1["_id"]): [q1["Một"]]})
    attempt = db.session.get(Attempt, aid)
    deadline = utcnow() - timedelta(seconds=30)
    attempt.deadline = deadline
    db.session.commit()
    late = trainee.save(aid, token, {str(q3["_id"]): [q3["Đúng"]], str(q1["_id"]): [q1["Hai"]]})
    assert late.status_code == 409
    problem = late.get_json()
    assert problem["reason"] == "time_up"
    assert problem["result"] == {"score": 1.0, "max_score": 3.0, "percent": 33.33,
                                 "passed": False}
    db.session.refresh(attempt)
    assert attempt.submitted_at == deadline and attempt.ended_by == "deadline"
    answers = {a.question_id: a.option_ids for a in db.session.scalars(select(Answer))}
    assert answers == {q1["_id"]: [q1["Một"]]}
    # a submit retried after the deadline: the same result, not a second count
    assert trainee.submit(aid, token).get_json() == problem["result"]
    assert trainee.start(quiz.id, world.a.code, token).get_json()["status"] == "submitted"


def test_any_read_after_the_deadline_finalises(world: Any, make_quiz: Any, trainee: Any,
                                               option_ids: Any) -> None:
    quiz = make_quiz()
    ids = option_ids(quiz)
    body = _start(trainee, quiz, world.a)
    trainee.save(body["attempt_id"], body["token"], {str(ids["q3"]["_id"]): [ids["q3"]["Đúng"]]})
    attempt = db.session.get(Attempt, body["attempt_id"])
    attempt.deadline = utcnow() - timedelta(minutes=1)
    db.session.commit()
    view = trainee.get(body["attempt_id"], body["token"]).get_json()
    assert view["status"] == "submitted"
    assert view["result"] == {"score": 1.0, "max_score": 3.0, "percent": 33.33, "passed": False}
    assert view["seconds_left"] is None


def test_submit_after_the_deadline_counts_what_was_saved(world: Any, make_quiz: Any,
                                                         trainee: Any, option_ids: Any) -> None:
    quiz = make_quiz()
    ids = option_ids(quiz)
    body = _start(trainee, quiz, world.a)
    trainee.save(body["attempt_id"], body["token"], {str(ids["q1"]["_id"]): [ids["q1"]["Một"]]})
    attempt = db.session.get(Attempt, body["attempt_id"])
    attempt.deadline = utcnow() - timedelta(minutes=1)
    db.session.commit()
    result = trainee.submit(body["attempt_id"], body["token"])
    assert result.status_code == 200
    assert result.get_json()["score"] == 1.0
    assert db.session.get(Attempt, body["attempt_id"]).ended_by == "deadline"


def test_a_save_just_after_the_deadline_is_within_the_grace(
        world: Any, make_quiz: Any, trainee: Any, option_ids: Any) -> None:
    quiz = make_quiz()
    ids = option_ids(quiz)
    body = _start(trainee, quiz, world.a)
    attempt = db.session.get(Attempt, body["attempt_id"])
    attempt.deadline = utcnow() - timedelta(seconds=1)  # grace is 5 s by default
    db.session.commit()
    saved = trainee.save(body["attempt_id"], body["token"],
                         {str(ids["q1"]["_id"]): [ids["q1"]["Một"]]})
    assert saved.status_code == 200 and saved.get_json()["seconds_left"] == 0


def test_closing_the_quiz_submits_attempts_in_progress(world: Any, make_quiz: Any,
                                                       trainee: Any, option_ids: Any) -> None:
    from trainer.quizzes import services

    quiz = make_quiz()
    ids = option_ids(quiz)
    body = _start(trainee, quiz, world.a)
    trainee.save(body["attempt_id"], body["token"], {str(ids["q1"]["_id"]): [ids["q1"]["Một"]]})
    services.set_status(None, quiz.id, "closed")
    attempt = db.session.get(Attempt, body["attempt_id"])
    assert attempt.ended_by == "close" and attempt.score == 1.0
    assert trainee.save(body["attempt_id"], body["token"], {}).status_code == 409


def test_resume_after_the_deadline_shows_the_result(world: Any, make_quiz: Any,
                                                    trainee: Any) -> None:
    quiz = make_quiz()
    body = _start(trainee, quiz, world.a)
    attempt = db.session.get(Attempt, body["attempt_id"])
    attempt.deadline = utcnow() - timedelta(minutes=1)
    db.session.commit()
    again = trainee.start(quiz.id, world.a.code, body["token"])
    assert again.status_code == 200
    assert again.get_json()["status"] == "submitted"
    assert again.get_json()["result"]["score"] == 0.0


def test_save_path_is_a_few_statements_whatever_the_number_of_answers(
        world: Any, make_quiz: Any, trainee: Any, option_ids: Any) -> None:
    from sqlalchemy import event

    quiz = make_quiz()
    ids = option_ids(quiz)
    body = _start(trainee, quiz, world.a)
    db.session.expire_all()
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        one = trainee.save(body["attempt_id"], body["token"],
                           {str(ids["q1"]["_id"]): [ids["q1"]["Một"]]})
        n_one = len(statements)
        statements.clear()
        db.session.expire_all()
        three = trainee.save(body["attempt_id"], body["token"], {
            str(ids["q1"]["_id"]): [ids["q1"]["Hai"]],
            str(ids["q2"]["_id"]): [ids["q2"]["Y tế"]],
            str(ids["q3"]["_id"]): [ids["q3"]["Sai"]]})
        n_three = len(statements)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert one.status_code == three.status_code == 200
    assert n_one == n_three <= 3, "\n".join(statements)  # read, mark attempt, upsert
