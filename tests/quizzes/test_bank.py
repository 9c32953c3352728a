"""The question bank: loading bank.json (idempotent), the CLI, the questions API, editing
rules, and the demo quiz."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select

from trainer.extensions import db
from trainer.quizzes import services
from trainer.quizzes.bank import BANK_PATH, load_bank
from trainer.quizzes.models import Option, Question, QuestionTopic, Quiz


def _count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_bank_loads_once_and_again_changes_nothing(app: Any) -> None:
    bank = json.loads(BANK_PATH.read_text(encoding="utf-8"))
    first = load_bank()
    assert (first.created, first.updated, first.topics_created) == (len(bank["questions"]), 0, 2)
    options = _count(Option)
    again = load_bank()
    assert (again.created, again.updated, again.unchanged) == (0, 0, len(bank["questions"]))
    assert _count(Question) == len(bank["questions"]) and _count(Option) == options
    counts = dict(db.session.execute(select(Question.topic, func.count())
                                     .group_by(Question.topic)).all())
    assert counts["management"] >= 25 and counts["gender"] >= 25
    names = {t.key: t.name for t in db.session.scalars(select(QuestionTopic))}
    assert names["gender"] == "Giới và bình đẳng giới"
    q = db.session.scalar(select(Question).where(Question.kind == "true_false").limit(1))
    assert [o.text for o in q.options] == ["Đúng", "Sai"] and q.explanation


def test_bank_reload_updates_a_changed_question_by_its_text(app: Any, tmp_path: Any) -> None:
    load_bank()
    bank = json.loads(BANK_PATH.read_text(encoding="utf-8"))
    bank["questions"][0]["explanation"] = "Giải thích mới."
    bank["questions"].append({"topic": "gender", "kind": "single", "text": "Câu hỏi mới?",
                              "points": 1, "explanation": "Vì thế.",
                              "options": [{"text": "Có", "correct": True},
                                          {"text": "Không", "correct": False}],
                              "source": {"article": "Điều 14 khoản 3",
                                         "document": "Luật Bình đẳng giới số 73/2006/QH11"},
                              "valid_as_of": "2025-07-01"})
    path = tmp_path / "bank.json"
    path.write_text(json.dumps(bank, ensure_ascii=False), encoding="utf-8")
    result = load_bank(path)
    assert (result.created, result.updated) == (1, 1)
    first = db.session.scalar(select(Question).where(Question.text == bank["questions"][0]["text"]))
    assert first.explanation == "Giải thích mới."
    added = db.session.scalar(select(Question).where(Question.text == "Câu hỏi mới?"))
    assert (added.source_article, added.valid_as_of.isoformat()) == ("Điều 14 khoản 3",
                                                                      "2025-07-01")


def test_bank_question_without_source_or_date_is_refused(app: Any, tmp_path: Any) -> None:
    from trainer.errors import Invalid

    bank = json.loads(BANK_PATH.read_text(encoding="utf-8"))
    bank["questions"] = bank["questions"][:2]
    del bank["questions"][1]["valid_as_of"]
    path = tmp_path / "bank.json"
    path.write_text(json.dumps(bank, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(Invalid) as caught:
        load_bank(path)
    assert "question 2" in str(caught.value.detail) and "valid_as_of" in str(caught.value.detail)
    db.session.rollback()
    assert _count(Question) == 0


def test_bank_page_shows_each_questions_source_and_date(world: Any, login: Any,
                                                        client: Any) -> None:
    load_bank()
    login(world.organiser)
    page = client.get("/quizzes/bank?topic=gender").get_data(as_text=True)
    assert "Source: Điều 5 khoản 1, Luật Bình đẳng giới số 73/2006/QH11" in page
    assert "valid as of 01/07/2025" in page


def test_bad_bank_file(app: Any, tmp_path: Any) -> None:
    from trainer.errors import Invalid

    path = tmp_path / "bank.json"
    path.write_text('{"topics": [], "questions": [{"kind": "single", "text": "x", '
                    '"options": [{"text": "a", "correct": false}, '
                    '{"text": "b", "correct": false}]}]}', encoding="utf-8")
    with pytest.raises(Invalid):
        load_bank(path)
    db.session.rollback()
    assert _count(Question) == 0


def test_cli_loads_the_bank(runner: Any) -> None:
    result = runner.invoke(args=["quiz-bank", "load"])
    assert result.exit_code == 0, result.output
    assert "87 added" in result.output
    again = runner.invoke(args=["quiz-bank", "load"])
    assert "0 added" in again.output and "0 updated" in again.output


def test_questions_api(world: Any, api_as: Any) -> None:
    api = api_as(world.organiser)
    made = api.post("/api/v1/questions", json={
        "topic": "gender", "kind": "multiple", "text": "Vai trò giới gồm những vai trò nào?",
        "explanation": "Ba vai trò giới.", "points": 2,
        "options": [{"text": "Sản xuất", "correct": True}, {"text": "Tái sản xuất",
                                                           "correct": True},
                    {"text": "Thiên văn", "correct": False}]})
    assert made.status_code == 201, made.get_json()
    qid = made.get_json()["id"]
    assert made.get_json()["used"] is False
    found = api.get("/api/v1/questions?q=vai tro gioi").get_json()  # without diacritics
    assert [q["id"] for q in found["items"]] == [qid]
    assert api.get("/api/v1/questions?topic=management").get_json()["total"] == 0
    edited = api.patch(f"/api/v1/questions/{qid}", json={"text": "Ba vai trò giới là gì?",
                                                         "points": 3})
    assert edited.status_code == 200 and edited.get_json()["points"] == 3
    retired = api.patch(f"/api/v1/questions/{qid}", json={"retired": True})
    assert retired.get_json()["retired"] is True
    assert api.get("/api/v1/questions").get_json()["total"] == 0
    assert api.get("/api/v1/questions?include_retired=true").get_json()["total"] == 1
    topics = api.get("/api/v1/questions/topics").get_json()
    assert [t["key"] for t in topics] == ["management", "gender"]
    assert api_as(world.coord_x).get("/api/v1/questions").status_code == 403
    assert api_as(world.coord_x).post("/api/v1/questions", json={}).status_code in (403, 422)
    bad = api.post("/api/v1/questions", json={"topic": "nope", "kind": "single", "text": "x",
                                              "options": [{"text": "a", "correct": True},
                                                          {"text": "b"}]})
    assert bad.status_code == 422 and "topic" in bad.get_json()["errors"]


def test_a_used_question_keeps_its_scoring(world: Any, make_quiz: Any, trainee: Any,
                                           api_as: Any) -> None:
    quiz = make_quiz()
    trainee.start(quiz.id, world.a.code)
    question = quiz.items[0].question
    assert question.used
    api = api_as(world.organiser)
    flags = [o.correct for o in question.options]
    swap = [{"text": o.text, "correct": c} for o, c in zip(question.options, flags[-1:] + flags[:-1],
                                                          strict=True)]
    response = api.patch(f"/api/v1/questions/{question.id}", json={"options": swap})
    assert response.status_code == 409
    assert api.patch(f"/api/v1/questions/{question.id}", json={"points": 5}).status_code == 409
    assert api.patch(f"/api/v1/questions/{question.id}",
                     json={"kind": "multiple"}).status_code == 409
    # fixing a typo is fine, and the option ids stay
    ids = [o.id for o in question.options]
    texts = [{"text": o.text + " (sửa)", "correct": o.correct} for o in question.options]
    ok = api.patch(f"/api/v1/questions/{question.id}", json={"text": "Sửa chính tả?",
                                                             "options": texts})
    assert ok.status_code == 200
    assert [o["id"] for o in ok.get_json()["options"]] == ids


def test_an_unused_question_may_change_entirely(world: Any) -> None:
    q = services.create_question(None, {"kind": "single", "text": "Câu?", "options": [
        {"text": "A", "correct": True}, {"text": "B"}]})
    services.update_question(None, q, {"kind": "multiple", "options": [
        {"text": "A", "correct": True}, {"text": "B", "correct": True}, {"text": "C"}]})
    assert [(o.text, o.correct) for o in q.options] == [("A", True), ("B", True), ("C", False)]
    assert _count(Option) == 3


def test_demo_adds_an_open_quiz_to_the_live_session(world: Any) -> None:
    from trainer.quizzes import demo

    ctx = SimpleNamespace(notes=[], users={})
    demo.load(ctx)
    db.session.commit()
    quiz = db.session.scalar(select(Quiz))
    assert quiz.session_id == world.session.id and quiz.status.value == "open"
    assert services.question_count(quiz) == 10
    assert any("short code" in n for n in ctx.notes)
    attempt, _token, created = services.start_attempt(quiz.id, world.a.code)
    assert created and len(attempt.layout) == 10


def test_demo_without_a_session_says_so(app: Any) -> None:
    from trainer.quizzes import demo

    ctx = SimpleNamespace(notes=[], users={})
    demo.load(ctx)
    bank = json.loads(BANK_PATH.read_text(encoding="utf-8"))
    assert _count(Question) == len(bank["questions"]) and _count(Quiz) == 0
    assert any("no demo session" in n for n in ctx.notes)


def test_an_organiser_sets_a_questions_source_in_the_form(world: Any, login: Any,
                                                         client: Any) -> None:
    login(world.organiser)
    form = {"topic": "gender", "kind": "true_false", "text": "Nam, nữ bình đẳng về độ tuổi đi học.",
            "points": "1", "explanation": "Khoản 1 Điều 14.", "option_rows": "2",
            "option_0": "Đúng", "option_1": "Sai", "correct": "0",
            "source_article": "Điều 14 khoản 1",
            "source_document": "Luật Bình đẳng giới số 73/2006/QH11", "valid_as_of": "2026-12-01"}
    bad = client.post("/quizzes/bank/new", data={**form, "valid_as_of": "01/12/2026"})
    assert bad.status_code == 422
    assert "Not a valid date." in bad.get_data(as_text=True)
    assert db.session.scalar(select(Question).where(Question.text == form["text"])) is None
    done = client.post("/quizzes/bank/new", data=form)
    assert done.status_code == 302, done.get_data(as_text=True)[:300]
    made = db.session.scalar(select(Question).where(Question.text == form["text"]))
    assert (made.source_article, made.source_document, made.valid_as_of.isoformat()) == (
        "Điều 14 khoản 1", "Luật Bình đẳng giới số 73/2006/QH11", "2026-12-01")
    page = client.get(f"/quizzes/bank/{made.id}/edit").get_data(as_text=True)
    assert 'value="2026-12-01"' in page and 'value="Điều 14 khoản 1"' in page
