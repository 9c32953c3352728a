"""The trainee's pages: open without an account, nothing about right answers before submit,
no inline script, stable test ids for the browser test."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

STATIC = Path(__file__).resolve().parents[2] / "static"


def _bank_texts(qp: Any) -> list[str]:
    texts = []
    for q in qp.questions:
        texts.append(q.text)
        texts.append(q.explanation)
        texts += [o.text for o in q.options]
    return texts


def _keys(value: Any) -> set[str]:
    """Every key of a JSON document, at any depth."""
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


@pytest.mark.parametrize("how", ["short", "take"])
def test_trainee_page_opens_without_login(client: Any, qp: Any, how: str) -> None:
    url = f"/q/{qp.quiz.short_code}" if how == "short" else f"/quizzes/{qp.quiz.id}/take"
    response = client.get(url, headers={"Accept-Language": "en"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Bài kiểm tra cuối buổi" in html
    for testid in ("code", "start", "scan", "timer", "save-state", "submit", "score", "verdict",
                   "review", "confirm-submit", "refresh", "rule"):
        assert f'data-testid="{testid}"' in html, testid
    assert f'data-quiz-id="{qp.quiz.id}"' in html
    assert response.headers["Cache-Control"] == "no-store"
    # The multiple-choice rule, as the back end words it.
    from trainer.quizzes.services import multiple_rule_text

    with client.application.test_request_context(headers={"Accept-Language": "en"}):
        rule = multiple_rule_text("all_or_nothing")
    assert rule in html


def test_short_code_is_case_insensitive_and_unknown_codes_are_404(client: Any, qp: Any) -> None:
    assert client.get(f"/q/{qp.quiz.short_code.lower()}").status_code == 200
    response = client.get("/q/NOPE99", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert "Traceback" not in response.get_data(as_text=True)
    assert client.get("/quizzes/99999/take").status_code == 404
    assert client.get("/q/" + "A" * 40).status_code == 404


def test_partial_rule_is_shown_when_the_quiz_uses_it(client: Any, qp: Any) -> None:
    from trainer.quizzes import services

    services.update_quiz(None, qp.quiz, {"multiple_rule": "partial"})
    html = client.get(f"/q/{qp.quiz.short_code}", headers={"Accept-Language": "en"}) \
        .get_data(as_text=True)
    with client.application.test_request_context(headers={"Accept-Language": "en"}):
        assert services.multiple_rule_text("partial") in html
        assert services.multiple_rule_text("all_or_nothing") not in html


def test_draft_and_closed_quizzes_say_so(client: Any, qp: Any) -> None:
    from trainer.quizzes import services

    services.set_status(None, qp.quiz.id, "closed")
    html = client.get(f"/q/{qp.quiz.short_code}").get_data(as_text=True)
    assert 'data-testid="closed"' in html and 'data-status="closed"' in html
    draft = services.create_quiz(None, {"session_id": qp.session.id, "title": "Nháp",
                                        "question_ids": [qp.questions[0].id]})
    html = client.get(f"/q/{draft.short_code}").get_data(as_text=True)
    assert 'data-testid="not-open"' in html


def test_trainee_html_holds_no_question_option_or_answer(client: Any, qp: Any) -> None:
    html = client.get(f"/q/{qp.quiz.short_code}").get_data(as_text=True)
    for text in _bank_texts(qp):
        assert text not in html, text
    # No JSON with correctness flags or explanations anywhere in the page.
    assert not re.search(r'"correct(_option_ids)?"\s*:', html)
    assert not re.search(r"&#34;correct(_option_ids)?&#34;\s*:", html)
    assert not re.search(r'"explanation"\s*:|&#34;explanation&#34;\s*:', html)
    for option in (o for q in qp.questions for o in q.options):
        assert f'value="{option.id}"' not in html


def test_trainee_scripts_hold_no_quiz_data(client: Any, qp: Any) -> None:
    html = client.get(f"/q/{qp.quiz.short_code}").get_data(as_text=True)
    sources = re.findall(r'<script[^>]*src="([^"]+)"', html)
    assert len(sources) == 1 and re.fullmatch(r"/static/v/[0-9a-f]+/js/quiz-take\.js", sources[0])
    response = client.get(sources[0])
    body = response.get_data(as_text=True)
    response.close()
    for text in _bank_texts(qp):
        assert text not in body
    # The script reads correctness only from the review the server sends after submitting.
    uses = re.findall(r"\w*correct\w*", body)
    assert set(uses) <= {"correct_option_ids", "isCorrect", "is-correct", "correct"}
    assert "review" in body


def test_trainee_page_has_no_inline_script(client: Any, qp: Any, page_scan: Any) -> None:
    html = client.get(f"/q/{qp.quiz.short_code}").get_data(as_text=True)
    page = page_scan(html)
    assert page.scripts and all(s.get("src") for s in page.scripts)
    assert page.script_body.strip() == ""
    assert page.handlers == []
    assert page.styles == []


def test_what_the_trainee_receives_before_submitting(client: Any, qp: Any, trainee: Any) -> None:
    """The page's data source, read as the page reads it: no hint of correctness until the
    attempt is submitted and the quiz's reveal setting allows it."""
    started = trainee.start(qp.quiz.id, qp.a.code)
    assert started.status_code == 201
    body = started.get_json()
    forbidden = {"correct", "correct_option_ids", "explanation", "correct_ids"}
    assert not _keys(body) & forbidden
    assert body["review"] is None
    raw = started.get_data(as_text=True)
    for q in qp.questions[:3]:
        assert q.explanation not in raw
    first = body["questions"][0]
    saved = trainee.save(body["attempt_id"], body["token"], {str(first["id"]): [first["options"][1]["id"]]})
    assert saved.status_code == 200
    view = trainee.get(body["attempt_id"], body["token"]).get_json()
    assert not _keys(view) & forbidden - {"correct_option_ids"}
    assert view["review"] is None
    assert view["answers"] == {str(first["id"]): [first["options"][1]["id"]]}
    # The same phone (a reload) resumes the same attempt with its saved answers; the code on
    # another phone does not.
    again = trainee.start(qp.quiz.id, qp.a.code)
    assert again.status_code == 200
    assert again.get_json()["attempt_id"] == body["attempt_id"]
    assert again.get_json()["answers"] == view["answers"]
    other = trainee.start(qp.quiz.id, qp.a.code, device="another-phone-0123456789")
    assert other.status_code == 403 and "answers" not in other.get_json()
    result = trainee.submit(body["attempt_id"], body["token"]).get_json()
    assert set(result) == {"score", "max_score", "percent", "passed"}
    # Revealed only once the quiz closes (the default).
    assert trainee.get(body["attempt_id"], body["token"]).get_json()["review"] is None
    from trainer.quizzes import services

    services.set_status(None, qp.quiz.id, "closed")
    review = trainee.get(body["attempt_id"], body["token"]).get_json()["review"]
    assert review and {"correct_option_ids", "explanation"} <= set(review[0])


def test_a_participant_not_checked_in_is_refused_naming_nobody(client: Any, qp: Any,
                                                               trainee: Any) -> None:
    response = trainee.start(qp.quiz.id, qp.late.code)
    assert response.status_code == 403
    assert "Cúc" not in response.get_json()["detail"]
    assert "coordinator" in response.get_json()["detail"]
    assert trainee.start(qp.quiz.id, "ZZZZZZ").get_json() == response.get_json()


def test_materials_link_only_when_the_route_exists(client: Any, qp: Any) -> None:
    html = client.get(f"/q/{qp.quiz.short_code}").get_data(as_text=True)
    rules = [r.rule for r in client.application.url_map.iter_rules()]
    has_route = any(re.fullmatch(r"/s/<(int:)?session_id>/materials/?", r) for r in rules)
    assert ('data-testid="materials"' in html) == has_route
    if has_route:
        assert f'href="/s/{qp.session.id}/materials' in html


def test_take_script_speaks_the_documented_api() -> None:
    body = (STATIC / "js" / "quiz-take.js").read_text(encoding="utf-8")
    for path in ('"/quizzes/" + QUIZ_ID + "/attempts"', '"/attempts/" + state.attemptId + "/answers"',
                 '"/attempts/" + state.attemptId + "/submit"', '"X-Attempt-Token"', '"Date"'):
        assert path in body, path
    # Old Android Chrome: no optional chaining or nullish coalescing.
    code = re.sub(r"//.*", "", body)
    assert "?." not in code and "??" not in code
    assert "innerHTML" not in body


def test_i18n_strings_reach_the_script_as_json(client: Any, qp: Any) -> None:
    html = client.get(f"/q/{qp.quiz.short_code}", headers={"Accept-Language": "en"}) \
        .get_data(as_text=True)
    match = re.search(r'data-i18n="([^"]*)"', html)
    assert match
    import html as html_lib

    strings = json.loads(html_lib.unescape(match.group(1)))
    assert strings["offline"] == "Offline — will retry"
    assert {"saved", "saving", "unanswered", "passed", "failed"} <= set(strings)


@pytest.mark.vietnamese_default
def test_the_start_button_says_start_the_quiz(client: Any, qp: Any) -> None:
    html = client.get(f"/q/{qp.quiz.short_code}").get_data(as_text=True)
    button = re.search(r'<button[^>]*data-testid="start"[^>]*>([^<]*)</button>', html)
    assert button is not None and button.group(1).strip() == "Bắt đầu làm bài"
    assert "Trang chủ" not in html
