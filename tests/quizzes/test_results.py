"""Results per site and per question, checked against a hand computation; progress pushes;
per-participant rows; the XLSX export."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook

from trainer.extensions import db
from trainer.quizzes import services


def _answers(ids: dict[str, dict[str, int]], q1: str | None, q2: list[str],
             q3: str | None) -> dict[int, list[int]]:
    return {ids["q1"]["_id"]: [ids["q1"][q1]] if q1 else [],
            ids["q2"]["_id"]: [ids["q2"][t] for t in q2],
            ids["q3"]["_id"]: [ids["q3"][q3]] if q3 else []}


BOTH = ["Giáo dục và đào tạo", "Y tế"]


@pytest.fixture
def taken(world: Any, make_quiz: Any, trainee: Any, option_ids: Any) -> Any:
    """Pass mark 60 %, three 1-point items, all-or-nothing. Item scores by hand:
        site VT: An    1 1 1 -> 3/3 = 100 %    passed
                 Bình  1 1 0 -> 2/3 = 66.67 %  passed
        site CK: Cúc   1 0 0 -> 1/3 = 33.33 %  (q2: only one of the two correct options)
                 Dũng  0 0 1 -> 1/3 = 33.33 %
                 Em    checked in, never started
                 Phúc  not checked in
    """
    quiz = make_quiz()
    ids = option_ids(quiz)
    got = [
        trainee.take(quiz, world.a, _answers(ids, "Một", BOTH, "Đúng")),
        trainee.take(quiz, world.b, _answers(ids, "Một", BOTH, "Sai")),
        trainee.take(quiz, world.c, _answers(ids, "Một", ["Giáo dục và đào tạo"], "Sai")),
        trainee.take(quiz, world.d, _answers(ids, "Hai", [], "Đúng")),
    ]
    assert [g["percent"] for g in got] == [100.0, 66.67, 33.33, 33.33]
    assert [g["passed"] for g in got] == [True, True, False, False]
    return quiz


def test_site_results_by_hand(world: Any, taken: Any, api_as: Any) -> None:
    response = api_as(world.organiser).get(f"/api/v1/quizzes/{taken.id}/results")
    assert response.status_code == 200
    body = response.get_json()
    sites = {s["site_id"]: s for s in body["sites"]}
    assert [s["site_id"] for s in body["sites"]] == [world.x.id, world.y.id]  # host first
    assert {k: sites[world.x.id][k] for k in ("present", "submitted", "mean_percent",
                                               "passed")} == {
        "present": 2, "submitted": 2, "mean_percent": 83.33, "passed": 2}  # (100 + 66.67) / 2
    assert {k: sites[world.y.id][k] for k in ("present", "submitted", "mean_percent",
                                               "passed")} == {
        "present": 3, "submitted": 2, "mean_percent": 33.33, "passed": 0}
    totals = body["totals"]
    assert {k: totals[k] for k in ("present", "started", "submitted", "mean_percent",
                                   "passed")} == {
        "present": 5, "started": 4, "submitted": 4, "mean_percent": 58.33,
        "passed": 2}  # (3+2+1+1)/12
    for key in ("present", "started", "submitted", "passed"):  # each split by sex adds up
        assert sum(totals[f"{key}_{sex}"] for sex in ("female", "male", "unspecified")) \
            == totals[key]
        assert sum(s[f"{key}_female"] for s in body["sites"]) == totals[f"{key}_female"]
    # facility and discrimination: the same matrix as tests/quizzes/test_stats.py
    questions = [(q["facility"], q["discrimination"]) for q in body["questions"]]
    assert questions == [(0.75, 0.0), (0.5, 0.5774), (0.5, -0.3015)]
    assert [q["id"] for q in body["questions"]] == [item.question_id for item in taken.items]


def test_partial_credit_changes_the_multiple_choice_item(world: Any, make_quiz: Any,
                                                          trainee: Any, option_ids: Any) -> None:
    quiz = make_quiz(multiple_rule="partial")
    ids = option_ids(quiz)
    # Cúc ticks one of the two correct options: 1/2 point; Dũng ticks the wrong one too:
    # 1/2 - 1/1 -> floored at 0; An ticks all three: 1 - 1 = 0.
    cuc = trainee.take(quiz, world.c, _answers(ids, "Một", ["Giáo dục và đào tạo"], "Sai"))
    dung = trainee.take(quiz, world.d, _answers(ids, None, ["Y tế", "Thiên văn học"], None))
    an = trainee.take(quiz, world.a, _answers(ids, None, BOTH + ["Thiên văn học"], None))
    assert cuc == {"score": 1.5, "max_score": 3.0, "percent": 50.0, "passed": False}
    assert dung["score"] == 0.0 and an["score"] == 0.0
    stats = {q["id"]: q for q in services.question_stats(quiz.id)}
    assert stats[ids["q2"]["_id"]]["facility"] == round(0.5 / 3, 4)  # (0.5 + 0 + 0) / 3


def test_one_person_counts_once_with_their_best_attempt(world: Any, make_quiz: Any,
                                                         trainee: Any, option_ids: Any) -> None:
    quiz = make_quiz(attempts_allowed=3)
    ids = option_ids(quiz)
    trainee.take(quiz, world.a, _answers(ids, "Hai", [], None))           # 0 %
    trainee.take(quiz, world.a, _answers(ids, "Một", BOTH, "Đúng"))       # 100 %
    trainee.take(quiz, world.a, _answers(ids, "Một", [], None))           # 33.33 %
    body = services.site_results(quiz.id)
    site = next(s for s in body["sites"] if s["site_id"] == world.x.id)
    assert (site["submitted"], site["passed"], site["mean_percent"]) == (1, 1, 100.0)
    assert [q["attempts"] for q in body["questions"]] == [1, 1, 1]
    rows = services.participant_results(quiz.id)
    an = next(r for r in rows if r["participant_id"] == world.a.id)
    assert (an["attempts"], an["percent"], an["status"]) == (3, 100.0, "submitted")


def test_results_are_for_organisers(world: Any, taken: Any, api_as: Any) -> None:
    assert api_as(world.coord_x).get(f"/api/v1/quizzes/{taken.id}/results").status_code == 403
    assert api_as(None).get(f"/api/v1/quizzes/{taken.id}/results").status_code == 401
    assert api_as(world.organiser).get("/api/v1/quizzes/9999/results").status_code == 404


def test_empty_results(world: Any, make_quiz: Any) -> None:
    quiz = make_quiz()
    body = services.site_results(quiz.id)
    assert all(s["submitted"] == 0 and s["mean_percent"] is None for s in body["sites"])
    assert [(q["facility"], q["discrimination"]) for q in body["questions"]] == [(None, None)] * 3


def test_participant_rows_and_coordinators_see_their_site(world: Any, taken: Any,
                                                          api_as: Any) -> None:
    body = api_as(world.organiser).get(f"/api/v1/quizzes/{taken.id}/participants").get_json()
    names = [(r["full_name"], r["status"]) for r in body["items"]]
    # VT (host) first, then CK; within a site by given name, the Vietnamese way
    assert names == [("Nguyễn Thị An", "submitted"), ("Trần Văn Bình", "submitted"),
                     ("Lê Thị Cúc", "submitted"), ("Phạm Văn Dũng", "submitted"),
                     ("Hoàng Thị Em", "not_started")]
    assert body["total"] == 5
    mine = api_as(world.coord_y).get(f"/api/v1/quizzes/{taken.id}/participants").get_json()
    assert {r["site_id"] for r in mine["items"]} == {world.y.id} and mine["total"] == 3
    paged = api_as(world.organiser).get(
        f"/api/v1/quizzes/{taken.id}/participants?per_page=2&page=3").get_json()
    assert [r["full_name"] for r in paged["items"]] == ["Hoàng Thị Em"]


def test_progress_is_pushed_after_start_and_submit(world: Any, make_quiz: Any, trainee: Any,
                                                   monkeypatch: Any) -> None:
    from trainer import live

    sent: list[tuple[int, str, dict[str, Any]]] = []
    monkeypatch.setattr(live, "emit", lambda sid, event, payload, **kw: sent.append(
        (sid, event, payload)))
    quiz = make_quiz(open=False)
    services.set_status(None, quiz.id, "open")
    assert (world.session.id, "quiz_status",
            {"quiz_id": quiz.id, "session_id": world.session.id, "status": "open"}) in sent
    sent.clear()
    body = trainee.start(quiz.id, world.c.code).get_json()
    progress = [p for _, e, p in sent if e == "quiz_progress"]
    assert progress and progress[-1]["quiz_id"] == quiz.id
    site = {s["site_id"]: s for s in progress[-1]["sites"]}[world.y.id]
    assert (site["started"], site["submitted"], site["passed"]) == (1, 0, 0)
    version = progress[-1]["version"]
    sent.clear()
    trainee.submit(body["attempt_id"], body["token"])
    trainee.submit(body["attempt_id"], body["token"])  # a retry pushes nothing new
    progress = [p for _, e, p in sent if e == "quiz_progress"]
    assert len(progress) == 1
    site = {s["site_id"]: s for s in progress[0]["sites"]}[world.y.id]
    assert (site["started"], site["submitted"], site["passed"]) == (1, 1, 0)
    assert progress[0]["version"] > version
    sent.clear()
    services.set_status(None, quiz.id, "closed")
    assert [e for _, e, _ in sent] == ["quiz_status", "quiz_progress"]
    assert sent[0][2]["status"] == "closed"


def test_xlsx_export(world: Any, make_quiz: Any, make_participant: Any, trainee: Any,
                     option_ids: Any, api_as: Any) -> None:
    from trainer.dbtypes import utcnow
    from trainer.sessions.models import Checkin

    quiz = make_quiz()
    ids = option_ids(quiz)
    evil = make_participant(world.y, "=HYPERLINK(\"http://x\") Nguyễn", "female")
    db.session.add(Checkin(session_id=world.session.id, participant_id=evil.id,
                           site_id=world.y.id, at=utcnow()))
    db.session.commit()
    trainee.take(quiz, evil, _answers(ids, "Một", BOTH, "Đúng"))
    trainee.take(quiz, world.a, _answers(ids, "Một", [], None))
    response = api_as(world.organiser).get(f"/api/v1/quizzes/{quiz.id}/results.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in response.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames == ["Theo điểm cầu", "Học viên", "Câu hỏi"]
    assert [ws.freeze_panes for ws in wb.worksheets] == ["C2", "A2", "A2"]
    sites = wb["Theo điểm cầu"]
    head = [c.value for c in sites[1]]
    assert head[:7] == ["Mã điểm cầu", "Điểm cầu", "Có mặt", "Có mặt: nữ", "Có mặt: nam",
                        "Có mặt: chưa rõ", "Đã bắt đầu"]
    assert head[10:12] == ["Đã nộp bài", "Đã nộp bài: nữ"]
    assert head[-1] == "Điểm trung bình (%)"
    row = [c.value for c in sites[2]]
    assert row[:3] == ["VT", "Thành phố Việt Trì", 2] and row[-1] == 33.33
    assert (row[6], row[10], row[14]) == (1, 1, 0)  # started, submitted, passed
    for first in (2, 6, 10, 14):  # each count and its split by sex add up
        assert row[first] == sum(row[first + 1:first + 4])
    assert sites.cell(row=sites.max_row, column=2).value == "Tổng cộng"
    people = wb["Học viên"]
    assert people.cell(row=1, column=2).value == "Họ và tên"
    cells = [row[1] for row in people.iter_rows(min_row=2)]
    evil_cell = next(c for c in cells if str(c.value).startswith("=HYPERLINK"))
    assert evil_cell.data_type == "s"  # text, not a formula
    assert evil_cell.value == "=HYPERLINK(\"http://x\") Nguyễn"
    assert api_as(world.coord_x).get(f"/api/v1/quizzes/{quiz.id}/results.xlsx").status_code \
        == 403
