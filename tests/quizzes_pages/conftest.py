"""Fixtures for the quiz pages: a live session at two sites, checked-in participants (one of
them named like an HTML script), a small bank and an open quiz."""

from __future__ import annotations

from html.parser import HTMLParser
from types import SimpleNamespace
from typing import Any

import pytest

EVIL = '<script>alert("x")</script> Nguyễn'

BANK = [
    {"topic": "management", "kind": "single", "points": 1,
     "text": "Mỗi xã có bao nhiêu Trung tâm học tập cộng đồng?",
     "explanation": "Giải thích: mỗi xã, phường, thị trấn có đúng một trung tâm.",
     "options": [{"text": "Đúng một trung tâm", "correct": True},
                 {"text": "Hai trung tâm", "correct": False},
                 {"text": "Ba trung tâm", "correct": False}]},
    {"topic": "gender", "kind": "multiple", "points": 1,
     "text": "Luật Bình đẳng giới nêu những lĩnh vực nào?",
     "explanation": "Giải thích: luật nêu tám lĩnh vực, có giáo dục và y tế.",
     "options": [{"text": "Giáo dục và đào tạo", "correct": True},
                 {"text": "Y tế", "correct": True},
                 {"text": "Thiên văn học", "correct": False}]},
    {"topic": "gender", "kind": "true_false", "points": 1,
     "text": "Giới tính là đặc điểm sinh học của nam và nữ.",
     "explanation": "Giải thích: giới tính chỉ các đặc điểm sinh học.",
     "options": [{"text": "Đúng", "correct": True}, {"text": "Sai", "correct": False}]},
    {"topic": "gender", "kind": "single", "points": 1,
     "text": "Ngày Quốc tế Phụ nữ là ngày nào?",
     "explanation": "Giải thích: ngày 8 tháng 3.",
     "options": [{"text": "Ngày 8 tháng 3", "correct": True},
                 {"text": "Ngày 20 tháng 10", "correct": False}]},
]


@pytest.fixture
def qp(app: Any, make_site: Any, make_user: Any, make_participant: Any, make_session: Any,
       register: Any) -> SimpleNamespace:
    from trainer.dbtypes import utcnow
    from trainer.extensions import db
    from trainer.quizzes import services
    from trainer.sessions.models import Checkin

    x = make_site(code="VT", name="Thành phố Việt Trì", kind="host")
    y = make_site(code="CK", name="Huyện Cẩm Khê")
    other = make_site(code="YL", name="Huyện Yên Lập")
    a = make_participant(x, "Nguyễn Thị An", "female")
    b = make_participant(y, "Trần Văn Bình", "male")
    evil = make_participant(x, EVIL, "male")
    late = make_participant(y, "Lê Thị Cúc", "female")  # registered, not checked in
    session = make_session([x, y])
    register(session, [a, b, evil, late])
    for p in (a, b, evil):
        db.session.add(Checkin(session_id=session.id, participant_id=p.id, site_id=p.site_id,
                               at=utcnow()))
    db.session.commit()
    services.create_topic(None, "management", "Quản lý, điều hành Trung tâm học tập cộng đồng",
                          "Managing a community learning centre")
    services.create_topic(None, "gender", "Giới và bình đẳng giới",
                          "Gender and gender equality")
    questions = [services.create_question(None, q) for q in BANK]
    quiz = services.create_quiz(None, {
        "session_id": session.id, "title": "Bài kiểm tra cuối buổi", "time_limit_s": 600,
        "pass_percent": 60, "question_ids": [q.id for q in questions[:3]],
        "shuffle_questions": False, "shuffle_options": False})
    services.set_status(None, quiz.id, "open")
    return SimpleNamespace(x=x, y=y, other=other, a=a, b=b, evil=evil, late=late,
                           session=session, questions=questions, quiz=quiz)


# Accounts are made only by the tests that need them (password hashing is slow on purpose).
@pytest.fixture
def organiser(qp: SimpleNamespace, make_user: Any) -> Any:
    return make_user("organiser", username="organiser")


@pytest.fixture
def coord_x(qp: SimpleNamespace, make_user: Any) -> Any:
    return make_user("coordinator", sites=[qp.x], username="coord_x")


@pytest.fixture
def coord_other(qp: SimpleNamespace, make_user: Any) -> Any:
    return make_user("coordinator", sites=[qp.other], username="coord_other")


class PageScan(HTMLParser):
    """Collects <script> tags, event-handler and style attributes of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.handlers: list[tuple[str, str]] = []
        self.styles: list[str] = []
        self.in_script = False
        self.script_body = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        d = dict(attrs)
        if tag == "script":
            self.scripts.append(d)
            self.in_script = True
        for name, _value in attrs:
            if name.lower().startswith("on"):
                self.handlers.append((tag, name))
            if name.lower() == "style":
                self.styles.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self.in_script = False

    def handle_data(self, data: str) -> None:
        if self.in_script:
            self.script_body += data


def scan(html: str) -> PageScan:
    parser = PageScan()
    parser.feed(html)
    return parser


@pytest.fixture
def page_scan() -> Any:
    return scan


@pytest.fixture
def trainee(client: Any) -> Any:
    """A trainee speaking the attempt API as quiz-take.js does."""

    class Trainee:
        device = "this-phone-0123456789"  # the page's random device key

        def start(self, quiz_id: int, code: str, device: str | None = None) -> Any:
            return client.post(f"/api/v1/quizzes/{quiz_id}/attempts",
                               json={"participant_code": code,
                                     "device": device or self.device})

        def save(self, attempt_id: int, token: str, answers: dict[str, list[int]]) -> Any:
            return client.put(f"/api/v1/attempts/{attempt_id}/answers",
                              json={"answers": answers}, headers={"X-Attempt-Token": token})

        def submit(self, attempt_id: int, token: str) -> Any:
            return client.post(f"/api/v1/attempts/{attempt_id}/submit",
                               headers={"X-Attempt-Token": token})

        def get(self, attempt_id: int, token: str) -> Any:
            return client.get(f"/api/v1/attempts/{attempt_id}",
                              headers={"X-Attempt-Token": token})

    return Trainee()
