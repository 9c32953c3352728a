"""The session's public page for trainees: agenda, shared materials, the quiz while open."""

from __future__ import annotations

import re
from typing import Any

import pytest


@pytest.fixture
def day(qp: Any, make_user: Any) -> Any:
    from trainer.materials import services as materials
    from trainer.sessions import services as sessions

    organiser = make_user("organiser")
    sessions.add_agenda_item(organiser, qp.session, {"starts_at": "08:00", "title": "Khai mạc",
                                                     "presenter": "Bà Nguyễn Thị Hoa"})
    sessions.add_agenda_item(organiser, qp.session, {"starts_at": "08:30",
                                                     "title": "Quản lý trung tâm"})
    materials.create_link(organiser, "https://example.org/tai-lieu",
                          {"title": "Tài liệu chia sẻ", "topic": "management",
                           "visibility": "shared", "session_id": qp.session.id})
    materials.create_link(organiser, "https://example.org/noi-bo",
                          {"title": "Tài liệu nội bộ", "topic": "management",
                           "visibility": "staff", "session_id": qp.session.id})
    return qp


@pytest.mark.vietnamese_default
def test_a_trainee_sees_agenda_materials_and_the_open_quiz(client: Any, day: Any) -> None:
    response = client.get(f"/s/{day.session.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    items = re.findall(r'data-testid="agenda-item">\s*<span class="public-agenda-time">([^<]*)'
                       r'</span>\s*<span><b>([^<]+)</b>', html)
    assert items == [("08:00", "Khai mạc"), ("08:30", "Quản lý trung tâm")]
    assert "Bà Nguyễn Thị Hoa" in html
    assert "Tài liệu chia sẻ" in html and "Tài liệu nội bộ" not in html
    link = re.search(r'data-testid="quiz-link" href="([^"]+)">([^<]+)<', html)
    assert link is not None
    assert link.group(1) == f"/q/{day.quiz.short_code}"
    assert link.group(2) == "Làm bài kiểm tra: Bài kiểm tra cuối buổi"
    # nothing about the people
    assert "Nguyễn Thị An" not in html and day.a.code not in html


def test_no_quiz_link_once_the_quiz_is_closed(client: Any, day: Any) -> None:
    from trainer.quizzes import services

    services.set_status(None, day.quiz.id, "closed")
    html = client.get(f"/s/{day.session.id}").get_data(as_text=True)
    assert 'data-testid="quiz-link"' not in html
    assert 'data-testid="public-agenda"' in html


def test_an_unknown_session_is_404(client: Any, qp: Any) -> None:
    assert client.get("/s/999999").status_code == 404
