"""Organiser and coordinator pages: access per role, the bank and builder forms, open/close,
the room screen and its QR code, results, export and paper answers."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from sqlalchemy import select

from trainer.extensions import db


def _pages(qp: Any) -> dict[str, str]:
    q = qp.quiz.id
    return {
        "bank": "/quizzes/bank",
        "question_new": "/quizzes/bank/new",
        "question_edit": f"/quizzes/bank/{qp.questions[0].id}/edit",
        "builder": f"/quizzes/new?session_id={qp.session.id}",
        "builder_edit": f"/quizzes/{q}/edit",
        "show": f"/quizzes/{q}",
        "screen": f"/quizzes/{q}/screen",
        "qr": f"/quizzes/{q}/qr.svg",
        "live": f"/quizzes/{q}/live.json",
        "results": f"/quizzes/{q}/results",
        "export": f"/quizzes/{q}/results.xlsx",
        "paper": f"/quizzes/{q}/paper",
    }


# --------------------------------------------------------------------------- access per role

def test_anonymous_is_sent_to_the_login_page(client: Any, qp: Any) -> None:
    for name, url in _pages(qp).items():
        response = client.get(url, headers={"Accept": "text/html"})
        assert response.status_code == 302, name
        assert "/login" in response.headers["Location"], name
    response = client.post(f"/quizzes/{qp.quiz.id}/status", data={"status": "closed"})
    assert response.status_code == 302
    from trainer.quizzes.models import QuizStatus

    db.session.refresh(qp.quiz)
    assert qp.quiz.status == QuizStatus.OPEN


def test_organiser_sees_every_page(client: Any, qp: Any, organiser: Any, login: Any) -> None:
    login(organiser)
    for name, url in _pages(qp).items():
        response = client.get(url)
        assert response.status_code == 200, (name, response.get_data(as_text=True)[:300])


STAFF_ONLY = ("bank", "question_new", "question_edit", "builder", "builder_edit", "show",
              "results", "export")


def test_coordinator_is_refused_organiser_pages(client: Any, qp: Any, coord_x: Any,
                                                login: Any) -> None:
    login(coord_x)
    pages = _pages(qp)
    for name in STAFF_ONLY:
        assert client.get(pages[name]).status_code == 403, name
    for name in ("screen", "qr", "live", "paper"):
        assert client.get(pages[name]).status_code == 200, name
    response = client.post(f"/quizzes/{qp.quiz.id}/status", data={"status": "closed"})
    assert response.status_code == 403
    response = client.post("/quizzes/bank/new", data={"text": "x", "kind": "single"})
    assert response.status_code == 403
    assert len(qp.questions) == len(list(db.session.scalars(select(type(qp.questions[0])))))


def test_coordinator_of_other_sites_cannot_enter_paper_answers(client: Any, qp: Any,
                                                               coord_other: Any,
                                                               login: Any) -> None:
    login(coord_other)
    assert client.get(f"/quizzes/{qp.quiz.id}/paper").status_code == 403
    response = client.post(f"/quizzes/{qp.quiz.id}/paper",
                           data={"participant_id": qp.a.id, "site_id": qp.x.id})
    assert response.status_code == 403


# --------------------------------------------------------------------------- safety of pages

def test_pages_have_no_inline_script_or_handler(client: Any, qp: Any, organiser: Any,
                                                login: Any, page_scan: Any) -> None:
    login(organiser)
    pages = _pages(qp)
    urls = [pages[n] for n in ("bank", "question_new", "question_edit", "builder", "show",
                               "screen", "results", "paper")]
    urls.append(f"/quizzes/{qp.quiz.id}/paper?site_id={qp.x.id}&participant_id={qp.a.id}")
    if "sessions.show" in client.application.view_functions:
        urls.append(f"/sessions/{qp.session.id}")
    for url in urls:
        html = client.get(url).get_data(as_text=True)
        page = page_scan(html)
        assert all(s.get("src") for s in page.scripts), url
        assert page.script_body.strip() == "", url
        assert page.handlers == [], url
        assert page.styles == [], url


def test_a_participant_named_like_a_script_shows_escaped(client: Any, qp: Any, organiser: Any,
                                                          login: Any, trainee: Any) -> None:
    started = trainee.start(qp.quiz.id, qp.evil.code).get_json()
    trainee.submit(started["attempt_id"], started["token"])
    login(organiser)
    for url in (f"/quizzes/{qp.quiz.id}/results", f"/quizzes/{qp.quiz.id}/paper",
                f"/quizzes/{qp.quiz.id}/paper?participant_id={qp.evil.id}"):
        html = client.get(url).get_data(as_text=True)
        assert '<script>alert("x")' not in html, url
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Nguyễn" in html, url


# --------------------------------------------------------------------------- question bank

def _question_form(**overrides: Any) -> dict[str, Any]:
    data = {"topic": "management", "kind": "single", "points": "2",
            "text": "Ai ký quyết định thành lập Trung tâm học tập cộng đồng?",
            "explanation": "Chủ tịch Ủy ban nhân dân huyện ký quyết định.",
            "option_rows": "6", "option_0": "Chủ tịch UBND huyện", "option_1": "Hiệu trưởng",
            "option_2": "", "option_3": "", "option_4": "", "option_5": "", "correct": ["0"]}
    data.update(overrides)
    return data


def test_bank_add_edit_retire_restore_through_forms(client: Any, qp: Any, organiser: Any,
                                                    login: Any) -> None:
    from trainer.quizzes.models import Question

    login(organiser)
    response = client.post("/quizzes/bank/new", data=_question_form())
    assert response.status_code == 302
    question = db.session.scalar(select(Question).where(Question.text.like("Ai ký%")))
    assert question is not None and question.points == 2 and question.topic == "management"
    assert question.explanation == "Chủ tịch Ủy ban nhân dân huyện ký quyết định."
    assert [(o.text, o.correct) for o in question.options] == [
        ("Chủ tịch UBND huyện", True), ("Hiệu trưởng", False)]

    form = client.get(f"/quizzes/bank/{question.id}/edit").get_data(as_text=True)
    assert 'value="Chủ tịch UBND huyện"' in form and "Chủ tịch Ủy ban nhân dân huyện ký" in form

    response = client.post(f"/quizzes/bank/{question.id}/edit", data=_question_form(
        kind="multiple", text="Ai có thể ký quyết định?", option_2="Phó Chủ tịch UBND huyện",
        correct=["0", "2"]))
    assert response.status_code == 302
    db.session.expire_all()
    question = db.session.get(Question, question.id)
    assert question.text == "Ai có thể ký quyết định?" and question.kind.value == "multiple"
    assert sorted(o.text for o in question.options if o.correct) == [
        "Chủ tịch UBND huyện", "Phó Chủ tịch UBND huyện"]

    response = client.post(f"/quizzes/bank/{question.id}/retire", data={"retired": "1"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Question, question.id).retired is True
    bank = client.get("/quizzes/bank").get_data(as_text=True)
    assert "Ai có thể ký quyết định?" not in bank
    assert "Ai có thể ký quyết định?" in client.get("/quizzes/bank?retired=1").get_data(
        as_text=True)
    client.post(f"/quizzes/bank/{question.id}/retire", data={"retired": "0"})
    db.session.expire_all()
    assert db.session.get(Question, question.id).retired is False


@pytest.mark.parametrize("overrides, field", [
    ({"correct": []}, "Mark exactly one option as correct."),
    ({"text": ""}, "This field is required."),
    ({"option_1": ""}, "A question has 2 to"),
    ({"points": "abc"}, "Not a valid whole number."),
    ({"kind": "essay"}, "Must be one of"),
])
def test_bank_form_refuses_bad_input_and_keeps_what_was_typed(
        client: Any, qp: Any, organiser: Any, login: Any, overrides: dict[str, Any],
        field: str) -> None:
    from trainer.quizzes.models import Question

    login(organiser)
    before = len(list(db.session.scalars(select(Question))))
    response = client.post("/quizzes/bank/new", data=_question_form(**overrides),
                           headers={"Accept-Language": "en"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field in html
    assert "Traceback" not in html
    if overrides.get("text") != "":
        assert "Ai ký quyết định thành lập" in html  # the text typed is kept
    assert len(list(db.session.scalars(select(Question)))) == before


def test_bank_search_ignores_accents_and_filters_by_topic(client: Any, qp: Any, organiser: Any,
                                                          login: Any) -> None:
    login(organiser)
    html = client.get("/quizzes/bank?q=binh+dang+gioi").get_data(as_text=True)
    assert "Luật Bình đẳng giới nêu những lĩnh vực nào?" in html
    assert "Mỗi xã có bao nhiêu" not in html
    html = client.get("/quizzes/bank?topic=management").get_data(as_text=True)
    assert "Mỗi xã có bao nhiêu" in html and "Luật Bình đẳng giới" not in html


# --------------------------------------------------------------------------- quiz builder

def _builder_form(qp: Any, **overrides: Any) -> dict[str, Any]:
    data = {"session_id": str(qp.session.id), "title": "Kiểm tra giữa buổi",
            "time_limit_min": "15", "pass_percent": "70", "attempts_allowed": "2",
            "multiple_rule": "partial", "reveal": "after_submit", "shuffle_questions": "1",
            "allow_unchecked": "1", "question_ids": [str(qp.questions[0].id)],
            "draw_gender": "2", "draw_management": ""}
    data.update(overrides)
    return data


def test_builder_creates_a_quiz_with_the_chosen_settings(client: Any, qp: Any, organiser: Any,
                                                         login: Any) -> None:
    from trainer.quizzes.models import Quiz

    login(organiser)
    page = client.get(f"/quizzes/new?session_id={qp.session.id}").get_data(as_text=True)
    assert f'data-testid="pick-{qp.questions[0].id}"' in page
    response = client.post("/quizzes/new", data=_builder_form(qp))
    assert response.status_code == 302
    quiz = db.session.scalar(select(Quiz).where(Quiz.title == "Kiểm tra giữa buổi"))
    assert response.headers["Location"].endswith(f"/quizzes/{quiz.id}")
    assert quiz.session_id == qp.session.id
    assert quiz.time_limit_s == 900 and quiz.pass_percent == 70 and quiz.attempts_allowed == 2
    assert quiz.multiple_rule.value == "partial" and quiz.reveal.value == "after_submit"
    assert quiz.shuffle_questions is True and quiz.shuffle_options is False
    assert quiz.allow_unchecked is True and quiz.status.value == "draft"
    assert [i.question_id for i in quiz.items] == [qp.questions[0].id]
    assert [(d.topic, d.count) for d in quiz.draws] == [("gender", 2)]
    assert quiz.short_code


def test_builder_defaults(client: Any, qp: Any, organiser: Any, login: Any) -> None:
    from trainer.quizzes.models import Quiz

    login(organiser)
    html = client.get(f"/quizzes/new?session_id={qp.session.id}").get_data(as_text=True)
    assert 'name="attempts_allowed" type="number" value="1"' in html
    assert '<option value="after_close" selected>' in html
    response = client.post("/quizzes/new", data={
        "session_id": str(qp.session.id), "title": "Mặc định",
        "question_ids": [str(qp.questions[0].id)]})
    assert response.status_code == 302
    quiz = db.session.scalar(select(Quiz).where(Quiz.title == "Mặc định"))
    assert quiz.attempts_allowed == 1 and quiz.reveal.value == "after_close"
    assert quiz.time_limit_s is None and quiz.allow_unchecked is False


@pytest.mark.parametrize("overrides, message", [
    ({"title": ""}, "This field is required."),
    ({"time_limit_min": "soon"}, "Give the time limit in minutes"),
    ({"pass_percent": "150"}, "A number from 0 to 100."),
    ({"attempts_allowed": "0"}, "A number from 1 to"),
    ({"draw_gender": "50"}, "The topic has only"),
    ({"session_id": "99999"}, "Unknown session."),
    ({"session_id": ""}, "Unknown session."),
])
def test_builder_refuses_bad_input(client: Any, qp: Any, organiser: Any, login: Any,
                                   overrides: dict[str, Any], message: str) -> None:
    from trainer.quizzes.models import Quiz

    login(organiser)
    before = len(list(db.session.scalars(select(Quiz))))
    response = client.post("/quizzes/new", data=_builder_form(qp, **overrides),
                           headers={"Accept-Language": "en"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and "Traceback" not in html
    assert len(list(db.session.scalars(select(Quiz)))) == before


def test_editing_a_started_quiz_changes_only_what_may_change(client: Any, qp: Any,
                                                              organiser: Any, login: Any,
                                                              trainee: Any) -> None:
    trainee.start(qp.quiz.id, qp.a.code)
    login(organiser)
    form = {"title": "Tên mới", "time_limit_min": "20", "pass_percent": "60",
            "attempts_allowed": "1", "multiple_rule": "all_or_nothing", "reveal": "after_close",
            "question_ids": [str(q.id) for q in qp.questions[:3]]}
    response = client.post(f"/quizzes/{qp.quiz.id}/edit", data=form)
    assert response.status_code == 302
    db.session.refresh(qp.quiz)
    assert qp.quiz.title == "Tên mới" and qp.quiz.time_limit_s == 1200
    form["question_ids"] = [str(qp.questions[0].id)]
    response = client.post(f"/quizzes/{qp.quiz.id}/edit", data=form,
                           headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert "can no longer change" in response.get_data(as_text=True)
    db.session.refresh(qp.quiz)
    assert len(qp.quiz.items) == 3


# --------------------------------------------------------------------------- quiz page

def test_open_and_close_buttons(client: Any, qp: Any, organiser: Any, login: Any) -> None:
    login(organiser)
    html = client.get(f"/quizzes/{qp.quiz.id}").get_data(as_text=True)
    assert 'data-testid="close-quiz"' in html and 'data-testid="open-quiz"' not in html
    response = client.post(f"/quizzes/{qp.quiz.id}/status", data={"status": "closed"})
    assert response.status_code == 302
    db.session.refresh(qp.quiz)
    assert qp.quiz.status.value == "closed"
    html = client.get(f"/quizzes/{qp.quiz.id}").get_data(as_text=True)
    assert 'data-testid="open-quiz"' in html
    client.post(f"/quizzes/{qp.quiz.id}/status", data={"status": "open"})
    db.session.refresh(qp.quiz)
    assert qp.quiz.status.value == "open"


def test_opening_an_empty_quiz_is_refused_with_a_message(client: Any, qp: Any, organiser: Any,
                                                         login: Any) -> None:
    from trainer.quizzes import services

    empty = services.create_quiz(None, {"session_id": qp.session.id, "title": "Trống"})
    login(organiser)
    response = client.post(f"/quizzes/{empty.id}/status", data={"status": "open"},
                           headers={"Accept-Language": "en"}, follow_redirects=True)
    assert response.status_code == 200
    assert "Add questions to the quiz before opening it." in response.get_data(as_text=True)
    db.session.refresh(empty)
    assert empty.status.value == "draft"


def test_quiz_page_shows_short_link_qr_and_progress(client: Any, qp: Any, organiser: Any,
                                                    login: Any, trainee: Any) -> None:
    trainee.start(qp.quiz.id, qp.a.code)
    login(organiser)
    html = client.get(f"/quizzes/{qp.quiz.id}").get_data(as_text=True)
    assert f"http://localhost/q/{qp.quiz.short_code}" in html
    assert f'src="/quizzes/{qp.quiz.id}/qr.svg"' in html
    assert f'href="/quizzes/{qp.quiz.id}/screen"' in html
    assert f'data-site-id="{qp.x.id}"' in html and f'data-site-id="{qp.y.id}"' in html
    assert f'data-session-id="{qp.session.id}"' in html
    assert re.search(r"/static/v/[0-9a-f]+/vendor/socket\.io-4\.8\.1\.min\.js", html)


def test_qr_code_encodes_the_absolute_short_link(client: Any, qp: Any, coord_x: Any,
                                                 login: Any) -> None:
    import segno

    login(coord_x)
    response = client.get(f"/quizzes/{qp.quiz.id}/qr.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"') and "viewBox" in svg
    expected = io.BytesIO()
    segno.make(f"http://localhost/q/{qp.quiz.short_code}", error="m").save(
        expected, kind="svg", border=2, xmldecl=False, svgns=True, omitsize=True, nl=False)
    assert svg == expected.getvalue().decode()


def test_room_screen_for_anyone_logged_in(client: Any, qp: Any, coord_x: Any, login: Any,
                                          trainee: Any) -> None:
    trainee.start(qp.quiz.id, qp.a.code)
    login(coord_x)
    html = client.get(f"/quizzes/{qp.quiz.id}/screen").get_data(as_text=True)
    assert qp.quiz.short_code in html and f"/quizzes/{qp.quiz.id}/qr.svg" in html
    # A coordinator's screen shows its own site.
    assert f'data-site-id="{qp.x.id}"' in html and f'data-site-id="{qp.y.id}"' not in html
    assert 'data-k="started">1<' in html
    live = client.get(f"/quizzes/{qp.quiz.id}/live.json").get_json()
    assert live["status"] == "open" and live["short_url"].endswith(f"/q/{qp.quiz.short_code}")
    assert {"site_id": qp.x.id, "started": 1, "submitted": 0, "passed": 0} in live["sites"]


def test_room_screen_of_one_site_and_when_closed(client: Any, qp: Any, organiser: Any,
                                                 login: Any) -> None:
    from trainer.quizzes import services

    login(organiser)
    html = client.get(f"/quizzes/{qp.quiz.id}/screen?site_id={qp.y.id}").get_data(as_text=True)
    assert f'data-site-id="{qp.y.id}"' in html and f'data-site-id="{qp.x.id}"' not in html
    services.set_status(None, qp.quiz.id, "closed")
    html = client.get(f"/quizzes/{qp.quiz.id}/screen").get_data(as_text=True)
    assert 'data-live="qr" hidden' in html
    assert 'data-live="closed-text" >' in html or 'data-live="closed-text">' in html


# --------------------------------------------------------------------------- results

def _take(trainee: Any, qp: Any, participant: Any, pick_first: bool) -> None:
    body = trainee.start(qp.quiz.id, participant.code).get_json()
    answers = {}
    for q in body["questions"]:
        question = next(x for x in qp.questions if x.id == q["id"])
        right = [o.id for o in question.options if o.correct]
        answers[str(q["id"])] = right if pick_first else [
            o.id for o in question.options if not o.correct][:1]
    trainee.save(body["attempt_id"], body["token"], answers)
    trainee.submit(body["attempt_id"], body["token"])


def test_results_pages_and_export(client: Any, qp: Any, organiser: Any, login: Any,
                                  trainee: Any) -> None:
    _take(trainee, qp, qp.a, True)
    _take(trainee, qp, qp.b, False)
    login(organiser)
    html = client.get(f"/quizzes/{qp.quiz.id}/results").get_data(as_text=True)
    assert "Thành phố Việt Trì" in html and "Huyện Cẩm Khê" in html
    assert "Nguyễn Thị An" in html and "Trần Văn Bình" in html
    for q in qp.questions[:3]:
        assert q.text in html
    assert 'data-testid="export-link"' in html
    response = client.get(f"/quizzes/{qp.quiz.id}/results.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in response.headers["Content-Disposition"]
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(response.data))
    names = [row[1] for row in wb.worksheets[1].iter_rows(min_row=2, values_only=True)]
    assert "Nguyễn Thị An" in names


# --------------------------------------------------------------------------- paper answers

def test_coordinator_enters_paper_answers(client: Any, qp: Any, coord_x: Any,
                                          login: Any) -> None:
    from trainer.quizzes.models import Attempt

    login(coord_x)
    html = client.get(f"/quizzes/{qp.quiz.id}/paper").get_data(as_text=True)
    assert f'data-testid="paper-choose-{qp.a.id}"' in html
    assert "Trần Văn Bình" not in html  # another site's participant
    page = client.get(f"/quizzes/{qp.quiz.id}/paper?site_id={qp.x.id}&participant_id={qp.a.id}")
    form = page.get_data(as_text=True)
    q1, q2, q3 = qp.questions[:3]
    for q in (q1, q2, q3):
        assert q.text in form
    data = {"site_id": str(qp.x.id), "participant_id": str(qp.a.id),
            f"q_{q1.id}": [str(o.id) for o in q1.options if o.correct],
            f"q_{q2.id}": [str(o.id) for o in q2.options if o.correct],
            f"q_{q3.id}": [str(o.id) for o in q3.options if not o.correct]}
    response = client.post(f"/quizzes/{qp.quiz.id}/paper", data=data)
    assert response.status_code == 302
    attempt = db.session.scalar(select(Attempt).where(Attempt.participant_id == qp.a.id))
    assert attempt.source.value == "paper" and attempt.entered_by_id == coord_x.id
    assert attempt.score == 2 and attempt.max_score == 3 and attempt.submitted_at is not None
    from trainer.audit.models import AuditEntry

    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "quiz.paper_answers"))
    assert entry.user_id == coord_x.id and entry.participant_id == qp.a.id
    html = client.get(f"/quizzes/{qp.quiz.id}/paper?site_id={qp.x.id}",
                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    row = html[html.index(f'data-testid="paper-choose-{qp.a.id}"') - 600:]
    assert "Submitted · paper" in row[:800]


def test_paper_answers_refused_are_explained(client: Any, qp: Any, coord_x: Any,
                                             login: Any) -> None:
    login(coord_x)
    q1 = qp.questions[0]
    response = client.post(f"/quizzes/{qp.quiz.id}/paper", data={
        "site_id": str(qp.x.id), "participant_id": str(qp.a.id),
        f"q_{q1.id}": [str(o.id) for o in q1.options][:2]}, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert "Choose one option only." in response.get_data(as_text=True)
    from trainer.quizzes.models import Attempt

    assert db.session.scalar(select(Attempt).where(Attempt.participant_id == qp.a.id)) is None


# --------------------------------------------------------------------------- session panel

def test_session_panel(client: Any, qp: Any, organiser: Any, coord_x: Any, login: Any) -> None:
    if "sessions.show" not in client.application.view_functions:
        pytest.skip("the session page is not there")
    login(organiser)
    html = client.get(f"/sessions/{qp.session.id}").get_data(as_text=True)
    assert 'data-testid="session-quizzes"' in html
    assert "Bài kiểm tra cuối buổi" in html
    assert f'data-testid="close-quiz-{qp.quiz.id}"' in html
    assert f"/q/{qp.quiz.short_code}" in html and f"/quizzes/{qp.quiz.id}/screen" in html
    assert f'href="/quizzes/new?session_id={qp.session.id}"' in html
    client.post("/logout")
    login(coord_x)
    html = client.get(f"/sessions/{qp.session.id}").get_data(as_text=True)
    assert "Bài kiểm tra cuối buổi" in html
    assert f'data-testid="close-quiz-{qp.quiz.id}"' not in html
    assert f"/quizzes/{qp.quiz.id}/screen" in html
    assert f"/quizzes/{qp.quiz.id}/results" not in html


def test_paper_answers_for_a_quiz_with_random_draws(client: Any, qp: Any, organiser: Any,
                                                    login: Any) -> None:
    """The sheet's questions are the picked ones plus those ticked «on the paper» (or answered)
    from the drawn topics."""
    from trainer.quizzes import services
    from trainer.quizzes.models import Attempt

    q1, q2, q3, q4 = qp.questions
    quiz = services.create_quiz(None, {
        "session_id": qp.session.id, "title": "Rút ngẫu nhiên", "question_ids": [q1.id],
        "draws": [{"topic": "gender", "count": 2}]})
    services.set_status(None, quiz.id, "open")
    login(organiser)
    html = client.get(f"/quizzes/{quiz.id}/paper?site_id={qp.y.id}&participant_id={qp.b.id}") \
        .get_data(as_text=True)
    assert f'data-testid="on-paper-{q2.id}"' in html and f'data-testid="on-paper-{q1.id}"' not in html
    response = client.post(f"/quizzes/{quiz.id}/paper", data={
        "site_id": str(qp.y.id), "participant_id": str(qp.b.id),
        f"q_{q1.id}": [str(o.id) for o in q1.options if o.correct],
        "on_paper": [str(q3.id)],  # on the sheet, left blank
        f"q_{q4.id}": [str(o.id) for o in q4.options if o.correct]})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    attempt = db.session.scalar(select(Attempt).where(Attempt.quiz_id == quiz.id))
    assert attempt.question_ids == [q1.id, q3.id, q4.id]
    assert attempt.score == 2 and attempt.max_score == 3
    # No attempt left: the page says so and offers no form.
    html = client.get(f"/quizzes/{quiz.id}/paper?site_id={qp.y.id}&participant_id={qp.b.id}") \
        .get_data(as_text=True)
    assert 'data-testid="paper-already"' in html and 'data-testid="paper-form"' not in html
