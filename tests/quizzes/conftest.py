"""Quiz fixtures: two sites in a live session, checked-in participants, a small quiz whose
results are worked out by hand in the tests, and a trainee client speaking the attempt API."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest


@pytest.fixture
def world(app: Any, make_site: Any, make_user: Any, make_participant: Any, make_session: Any,
          register: Any) -> SimpleNamespace:
    from trainer.dbtypes import utcnow
    from trainer.extensions import db
    from trainer.quizzes.services import create_topic
    from trainer.sessions.models import Checkin

    x = make_site(code="VT", name="Thành phố Việt Trì", kind="host")
    y = make_site(code="CK", name="Huyện Cẩm Khê")
    other = make_site(code="YL", name="Huyện Yên Lập")
    a = make_participant(x, "Nguyễn Thị An", "female")
    b = make_participant(x, "Trần Văn Bình", "male")
    c = make_participant(y, "Lê Thị Cúc", "female")
    d = make_participant(y, "Phạm Văn Dũng", "male")
    e = make_participant(y, "Hoàng Thị Em", "female")  # present, never takes the quiz
    f = make_participant(y, "Đỗ Văn Phúc", "male")  # not checked in
    session = make_session([x, y])
    register(session, [a, b, c, d, e, f])
    for p in (a, b, c, d, e):
        db.session.add(Checkin(session_id=session.id, participant_id=p.id, site_id=p.site_id,
                               at=utcnow()))
    db.session.commit()
    create_topic(None, "management", "Quản lý, điều hành Trung tâm học tập cộng đồng",
                 "Managing a community learning centre")
    create_topic(None, "gender", "Giới và bình đẳng giới", "Gender and gender equality")
    # Accounts are made on first use: hashing a password is slow.
    users = {"organiser": ("organiser", ()), "coord_x": ("coordinator", (x,)),
             "coord_y": ("coordinator", (y,)), "coord_other": ("coordinator", (other,))}
    return World(make_user, users, x=x, y=y, other=other, a=a, b=b, c=c, d=d, e=e, f=f,
                 session=session)


class World(SimpleNamespace):
    def __init__(self, make_user: Any, users: dict[str, Any], **kw: Any) -> None:
        super().__init__(**kw)
        self._make_user, self._users = make_user, users

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in self._users:
            raise AttributeError(name)
        role, sites = self._users[name]
        user = self._make_user(role, sites=sites, username=name)
        setattr(self, name, user)
        return user


# Three questions, one point each (options in this order; the first one is correct in Q1).
QUESTIONS = [
    {"text": "Mỗi xã có bao nhiêu Trung tâm học tập cộng đồng?", "kind": "single", "points": 1,
     "explanation": "Mỗi xã, phường, thị trấn có một trung tâm.",
     "options": [{"text": "Một", "correct": True}, {"text": "Hai", "correct": False},
                 {"text": "Ba", "correct": False}]},
    {"text": "Luật Bình đẳng giới bao gồm những lĩnh vực nào?", "kind": "multiple", "points": 1,
     "explanation": "Luật nêu tám lĩnh vực, trong đó có giáo dục và y tế.",
     "options": [{"text": "Giáo dục và đào tạo", "correct": True},
                 {"text": "Y tế", "correct": True},
                 {"text": "Thiên văn học", "correct": False}]},
    {"text": "Giới tính là đặc điểm sinh học của nam và nữ.", "kind": "true_false", "points": 1,
     "explanation": "Giới tính chỉ các đặc điểm sinh học.",
     "options": [{"text": "Đúng", "correct": True}, {"text": "Sai", "correct": False}]},
]


@pytest.fixture
def make_quiz(world: SimpleNamespace) -> Any:
    """make_quiz(open=True, **settings) -> a quiz of the session with QUESTIONS, not shuffled."""
    from trainer.extensions import db
    from trainer.quizzes import services
    from trainer.quizzes.models import QuizStatus

    def make(open: bool = True, questions: list[dict[str, Any]] | None = None,
             **settings: Any) -> Any:
        data = {"session_id": world.session.id, "title": "Bài kiểm tra thử",
                "time_limit_s": 600, "pass_percent": 60, "shuffle_questions": False,
                "shuffle_options": False, "questions": questions if questions is not None
                else QUESTIONS, **settings}
        quiz = services.create_quiz(None, data)
        if open:
            quiz.status = QuizStatus.OPEN
            db.session.commit()
        return quiz

    return make


def options_by_text(quiz: Any) -> dict[str, dict[str, int]]:
    """{question text prefix (first word + index): {option text: option id}} for picking
    answers in tests: keys "q1", "q2", "q3"."""
    out = {}
    for i, item in enumerate(quiz.items, start=1):
        out[f"q{i}"] = {o.text: o.id for o in item.question.options}
        out[f"q{i}"]["_id"] = item.question_id
    return out


class Trainee:
    """The phone: start with a code, then save and submit with the attempt token."""

    def __init__(self, client: Any, lang: str | None = None) -> None:
        self.client = client
        self.headers = {"Accept-Language": lang} if lang else {}
        self.bodies: list[Any] = []  # every JSON body received, for leak checks
        self.held: dict[tuple[int, str], str] = {}  # (quiz id, code) -> the token held

    def _keep(self, response: Any) -> Any:
        self.bodies.append(response.get_json(silent=True))
        return response

    def start(self, quiz_id: int, code: str, token: str | None = None) -> Any:
        """Like the quiz page, the phone sends the token it holds for this quiz and code (or
        `token` when given): a code alone cannot resume an attempt held by another phone."""
        key = (quiz_id, code)
        response = self._keep(self.client.post(
            f"/api/v1/quizzes/{quiz_id}/attempts", json={"participant_code": code},
            headers=self._auth(token or self.held.get(key))))
        if response.status_code in (200, 201):
            self.held[key] = response.get_json()["token"]
        return response

    def get(self, attempt_id: int, token: str | None) -> Any:
        return self._keep(self.client.get(f"/api/v1/attempts/{attempt_id}",
                                          headers=self._auth(token)))

    def save(self, attempt_id: int, token: str | None, answers: Any) -> Any:
        return self._keep(self.client.put(f"/api/v1/attempts/{attempt_id}/answers",
                                          json={"answers": answers}, headers=self._auth(token)))

    def submit(self, attempt_id: int, token: str | None) -> Any:
        return self._keep(self.client.post(f"/api/v1/attempts/{attempt_id}/submit",
                                           headers=self._auth(token)))

    def _auth(self, token: str | None) -> dict[str, str]:
        return {**self.headers, **({"X-Attempt-Token": token} if token else {})}

    def take(self, quiz: Any, participant: Any, answers: dict[int, list[int]]) -> Any:
        start = self.start(quiz.id, participant.code)
        assert start.status_code == 201, start.get_json()
        body = start.get_json()
        saved = self.save(body["attempt_id"], body["token"],
                          {str(k): v for k, v in answers.items()})
        assert saved.status_code == 200, saved.get_json()
        result = self.submit(body["attempt_id"], body["token"])
        assert result.status_code == 200, result.get_json()
        return result.get_json()


@pytest.fixture
def trainee(client: Any) -> Trainee:
    return Trainee(client)


@pytest.fixture
def option_ids() -> Any:
    """option_ids(quiz) -> {"q1": {option text: id, "_id": question id}, "q2": ..., ...}."""
    return options_by_text
