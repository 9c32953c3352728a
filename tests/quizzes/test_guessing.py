"""Quiz codes as an attacker tries them: guessing is throttled, refusals read alike and name
nobody, and a code alone never takes over, reads or submits an attempt held by another
device (API.md v1.1, "Quizzes")."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from trainer.extensions import db
from trainer.quizzes.models import Attempt

from .conftest import Trainee


def _from(client: Any, address: str) -> Trainee:
    """A phone behind another address."""
    client.environ_base["REMOTE_ADDR"] = address
    return Trainee(client)


def test_guessing_codes_from_one_address_is_throttled(app: Any, world: Any, make_quiz: Any,
                                                      trainee: Any) -> None:
    quiz = make_quiz()
    guesses = [f"ZZZZ{n:02d}" for n in range(10)]
    for code in guesses:
        assert trainee.start(quiz.id, code).status_code == 403
    blocked = trainee.start(quiz.id, "ZZZZ99")
    assert blocked.status_code == 429
    assert blocked.mimetype == "application/problem+json"
    assert int(blocked.headers["Retry-After"]) in range(1, 61)
    # the throttle holds for a right code from that address too: guessing stops here
    assert trainee.start(quiz.id, world.a.code).status_code == 429
    assert db.session.scalar(select(func.count()).select_from(Attempt)) == 0
    # another address (another site's Wi-Fi) is not slowed
    other = _from(app.test_client(), "198.51.100.7")
    assert other.start(quiz.id, world.b.code).status_code == 201


def test_guessing_from_many_addresses_is_throttled_per_quiz(app: Any, world: Any,
                                                            make_quiz: Any) -> None:
    app.config["QUIZ_CODE_LIMIT_QUIZ"] = "25 per minute"
    quiz, other_quiz = make_quiz(), make_quiz()
    for n in range(25):
        phone = _from(app.test_client(), f"203.0.113.{n + 1}")
        assert phone.start(quiz.id, f"QQQQ{n:02d}").status_code == 403
    fresh = _from(app.test_client(), "192.0.2.200")
    response = fresh.start(quiz.id, "QQQQ99")
    assert response.status_code == 429 and int(response.headers["Retry-After"]) >= 1
    assert fresh.start(other_quiz.id, world.a.code).status_code == 201  # other quizzes go on


def test_right_codes_are_never_counted(world: Any, make_quiz: Any, trainee: Any) -> None:
    """A room full of phones behind one address: only refusals count."""
    quiz = make_quiz()
    for _ in range(15):
        assert trainee.start(quiz.id, world.a.code).status_code in (200, 201)
    for _ in range(9):
        assert trainee.start(quiz.id, "ZZZZZZ").status_code == 403
    assert trainee.start(quiz.id, world.b.code).status_code == 201


def test_refusals_read_alike_and_name_nobody(app: Any, world: Any, make_quiz: Any,
                                            trainee: Any) -> None:
    quiz = make_quiz()
    trainee.start(quiz.id, world.a.code)  # a's attempt, held by this phone
    stranger = _from(app.test_client(), "198.51.100.9")
    unknown = stranger.start(quiz.id, "ZZZZZZ")
    unchecked = stranger.start(quiz.id, world.f.code)     # registered, not checked in
    held = stranger.start(quiz.id, world.a.code)          # attempt held by another phone
    bodies = [r.get_json() for r in (unknown, unchecked, held)]
    assert [r.status_code for r in (unknown, unchecked, held)] == [403, 403, 403]
    assert bodies[0] == bodies[1] == bodies[2]
    for name in ("Nguyễn Thị An", "Đỗ Văn Phúc", "An", "Phúc"):
        assert name not in unknown.get_data(as_text=True) + unchecked.get_data(as_text=True) \
            + held.get_data(as_text=True)


def test_a_code_alone_does_not_take_over_an_attempt(app: Any, world: Any, make_quiz: Any,
                                                    trainee: Any, option_ids: Any,
                                                    api_as: Any) -> None:
    quiz = make_quiz()
    ids = option_ids(quiz)
    mine = trainee.start(quiz.id, world.a.code).get_json()
    q1 = ids["q1"]
    assert trainee.save(mine["attempt_id"], mine["token"],
                        {str(q1["_id"]): [q1["Một"]]}).status_code == 200
    # the attack: the same code from another phone used to resume with a fresh token
    stranger = _from(app.test_client(), "198.51.100.10")
    taken = stranger.start(quiz.id, world.a.code)
    assert taken.status_code == 403
    assert "token" not in taken.get_json() and "questions" not in taken.get_json()
    # nothing read, nothing changed: the owner's phone goes on
    assert trainee.get(mine["attempt_id"], mine["token"]).get_json()["answers"] == {
        str(q1["_id"]): [q1["Một"]]}
    # a coordinator of another site cannot hand it over; the participant's can
    url = f"/api/v1/attempts/{mine['attempt_id']}/handover"
    assert api_as(world.coord_y).post(url).status_code == 403
    assert api_as(world.coord_x).post(url).status_code == 204
    resumed = stranger.start(quiz.id, world.a.code)
    assert resumed.status_code == 200
    assert resumed.get_json()["attempt_id"] == mine["attempt_id"]
    assert resumed.get_json()["answers"] == {str(q1["_id"]): [q1["Một"]]}
    # the old phone lost it; the approval is used up
    assert trainee.get(mine["attempt_id"], mine["token"]).status_code == 403
    third = _from(app.test_client(), "198.51.100.11")
    assert third.start(quiz.id, world.a.code).status_code == 403


def test_results_after_closing_need_the_token(app: Any, world: Any, make_quiz: Any,
                                              trainee: Any) -> None:
    from trainer.quizzes import services

    quiz = make_quiz()
    mine = trainee.start(quiz.id, world.a.code).get_json()
    trainee.submit(mine["attempt_id"], mine["token"])
    services.set_status(None, quiz.id, "closed")
    stranger = _from(app.test_client(), "198.51.100.12")
    closed = stranger.start(quiz.id, world.a.code)
    assert closed.status_code == 403 and closed.get_json()["reason"] == "closed"
    assert "result" not in closed.get_json()
    assert stranger.get(mine["attempt_id"], None).status_code == 401
    own = trainee.start(quiz.id, world.a.code)
    assert own.status_code == 200 and own.get_json()["result"]["max_score"] == 3.0


@pytest.mark.redis
def test_server_processes_count_refusals_together_in_redis() -> None:
    from trainer.throttle import Throttle

    from ..conftest import TEST_REDIS_URL

    one, two = Throttle(str(TEST_REDIS_URL)), Throttle(str(TEST_REDIS_URL))
    one.reset()
    for _ in range(3):
        one.hit("3 per minute", "quiz-code-address", "192.0.2.1")
    wait = two.wait("3 per minute", "quiz-code-address", "192.0.2.1")
    assert wait is not None and 1 <= wait <= 60
    assert two.wait("3 per minute", "quiz-code-address", "192.0.2.2") is None
    one.reset()


def test_the_starting_device_resumes_with_its_key(app: Any, world: Any, make_quiz: Any,
                                                  client: Any) -> None:
    """The answer to a start was lost: the phone sends its code and device key again."""
    quiz = make_quiz()
    url = f"/api/v1/quizzes/{quiz.id}/attempts"
    first = client.post(url, json={"participant_code": world.a.code,
                                   "device": "k" * 16}).get_json()
    again = client.post(url, json={"participant_code": world.a.code, "device": "k" * 16})
    assert again.status_code == 200 and again.get_json()["attempt_id"] == first["attempt_id"]
    other = client.post(url, json={"participant_code": world.a.code, "device": "x" * 16})
    assert other.status_code == 403
    bad = client.post(url, json={"participant_code": world.a.code, "device": "short"})
    assert bad.status_code == 422 and "device" in bad.get_json()["errors"]
