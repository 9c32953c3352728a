"""Quiz statistics as the organiser and the room see them: the score histogram by sex, the
share right per question (overall, women, men), live while the quiz is open; the per-person
table in pages; the trainee preview; the scoring rule in one line with "more"."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from trainer.dbtypes import utcnow
from trainer.extensions import db
from trainer.quizzes import services, statistics
from trainer.quizzes.models import Attempt
from trainer.sessions.models import Checkin, Registration


def answer(qp: SimpleNamespace, person: Any, right: set[int]) -> None:
    """The person answers the quiz's three questions: right for the numbers in `right` (1..3),
    wrong otherwise; then submits."""
    attempt, token, _created = services.start_attempt(qp.quiz.id, person.code)
    answers = {}
    for number, q in enumerate(qp.questions[:3], start=1):
        correct = [o.id for o in q.options if o.correct]
        wrong = [o.id for o in q.options if not o.correct][:1]
        answers[str(q.id)] = correct if number in right else wrong
    services.save_answers(attempt.id, token, answers)
    services.submit(attempt.id, token)


def test_histogram_and_right_answers_by_sex(qp: SimpleNamespace) -> None:
    answer(qp, qp.a, {1, 2, 3})   # woman: 100 %
    answer(qp, qp.b, {1})         # man: 33.3 %
    answer(qp, qp.evil, set())    # man: 0 %
    stats = statistics.quiz_statistics(qp.quiz)
    assert stats["submitted"] == 3
    bins = {b["lo"]: b for b in stats["bins"]}
    assert (bins[90]["total"], bins[90]["female"], bins[90]["male"]) == (1, 1, 0)
    assert (bins[30]["total"], bins[30]["male"]) == (1, 1)
    assert (bins[0]["total"], bins[0]["male"]) == (1, 1)
    assert sum(b["total"] for b in stats["bins"]) == 3
    q1, q2, q3 = stats["questions"]
    assert [q["number"] for q in stats["questions"]] == [1, 2, 3]
    assert (q1["right"], q1["answered"], q1["right_share"]) == (2, 3, 66.7)
    assert (q1["female_share"], q1["male_share"]) == (100.0, 50.0)
    assert (q2["right_share"], q2["female_share"], q2["male_share"]) == (33.3, 100.0, 0.0)
    assert q3["unspecified_share"] is None  # nobody of unspecified sex answered


def test_results_page_and_room_screen_show_the_statistics(
        qp: SimpleNamespace, client: Any, login: Any, organiser: Any, page_scan: Any) -> None:
    answer(qp, qp.a, {1, 2, 3})
    answer(qp, qp.b, {1})
    login(organiser)
    html = client.get(f"/quizzes/{qp.quiz.id}/results?lang=en").get_data(as_text=True)
    assert 'data-testid="histogram"' in html
    assert html.count('data-testid="question-bar"') == 3
    assert f'data-stats-url="/quizzes/{qp.quiz.id}/stats"' in html
    assert "js/quiz-stats.js" in html
    fragment = client.get(f"/quizzes/{qp.quiz.id}/stats?lang=en").get_data(as_text=True)
    assert 'data-right-share="100.0"' in fragment  # Q1: both right
    assert 'data-right-share="50.0"' in fragment   # Q2: the woman only
    assert "Women 100 %" in fragment and "Men 0 %" in fragment
    screen = client.get(f"/quizzes/{qp.quiz.id}/screen?lang=en").get_data(as_text=True)
    assert 'data-testid="quiz-stats"' in screen and "qz-stats-big" in screen
    assert page_scan(screen).styles == []  # drawn with SVG attributes, no inline styles


def test_statistics_follow_new_submissions_while_open(qp: SimpleNamespace, client: Any,
                                                      login: Any, organiser: Any) -> None:
    login(organiser)
    url = f"/quizzes/{qp.quiz.id}/stats"
    assert 'data-submitted="0"' in client.get(url).get_data(as_text=True)
    answer(qp, qp.a, {1, 2, 3})
    assert 'data-submitted="1"' in client.get(url).get_data(as_text=True)


def test_stats_fragment_for_the_sites_of_the_session_only(
        qp: SimpleNamespace, client: Any, login: Any, coord_x: Any, coord_other: Any) -> None:
    login(coord_x)
    assert client.get(f"/quizzes/{qp.quiz.id}/stats").status_code == 200
    client.post("/logout")
    login(coord_other)
    assert client.get(f"/quizzes/{qp.quiz.id}/stats").status_code == 403


def test_the_per_person_table_is_paged(qp: SimpleNamespace, client: Any, login: Any,
                                       organiser: Any, make_participant: Any) -> None:
    for i in range(60):
        p = make_participant(qp.x, f"Học Viên Thử {i:02d}", "female")
        db.session.add(Registration(session_id=qp.session.id, participant_id=p.id,
                                    site_id=qp.x.id))
        db.session.add(Checkin(session_id=qp.session.id, participant_id=p.id, site_id=qp.x.id,
                               at=utcnow()))
    db.session.commit()
    login(organiser)
    first = client.get(f"/quizzes/{qp.quiz.id}/results?lang=en").get_data(as_text=True)
    table = first[first.index('data-testid="participant-results"'):]
    assert table.count("<tr>") - 1 == statistics.PAGE_SIZE  # the header row aside
    assert "1–50 of 63" in first
    second = client.get(f"/quizzes/{qp.quiz.id}/results?page=2&lang=en").get_data(as_text=True)
    assert "51–63 of 63" in second
    rows = second[second.index('data-testid="participant-results"'):]
    assert rows.count("<tr>") - 1 == 13
    beyond = client.get(f"/quizzes/{qp.quiz.id}/results?page=99&lang=en").get_data(as_text=True)
    assert "51–63 of 63" in beyond


def test_preview_as_a_trainee_shows_the_questions_and_records_nothing(
        qp: SimpleNamespace, client: Any, login: Any, organiser: Any, coord_x: Any) -> None:
    login(organiser)
    builder = client.get(f"/quizzes/{qp.quiz.id}/edit?lang=en").get_data(as_text=True)
    assert f'href="/quizzes/{qp.quiz.id}/preview"' in builder
    html = client.get(f"/quizzes/{qp.quiz.id}/preview?lang=en").get_data(as_text=True)
    assert html.count('data-testid="preview-question"') == 3
    for q in qp.questions[:3]:
        assert q.text in html
    questions = html[html.index('class="qz-list"'):]
    assert "correct" not in questions.lower() and "checked" not in questions  # no answer shown
    assert "Tick every right answer." in html  # the multiple-answer question
    assert db.session.query(Attempt).count() == 0
    client.post("/logout")
    login(coord_x)
    assert client.get(f"/quizzes/{qp.quiz.id}/preview").status_code == 403


def test_the_scoring_rule_in_one_line_with_more(qp: SimpleNamespace, client: Any) -> None:
    html = client.get(f"/quizzes/{qp.quiz.id}/take?lang=en").get_data(as_text=True)
    rule = html[html.index('data-testid="rule"'):]
    summary = rule[rule.index("<summary>"):rule.index("</summary>")]
    assert "tick all of them" in summary and "more" in summary
    assert services.multiple_rule_text(qp.quiz) in rule  # the whole rule, behind "more"
