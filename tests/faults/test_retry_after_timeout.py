"""A client whose request timed out retries it: the server had finished the first one, so the
retry must answer what was stored, and nothing is stored twice (check-in by client_id; quiz
start and submit by the attempt and its token). SQLite and PostgreSQL.

The first answer is lost on the way back: the request goes through a TCP proxy that throws the
response away, the client gives up after a short timeout, and the test waits until the server
has answered (the proxy saw the response) before retrying.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.faults.conftest import bearer
from tests.support_servers import TcpProxy, count_rows, load_world

pytestmark = [pytest.mark.processes]

SHORT = (5, 1.5)  # connect, read: the phone gives up long before a lost answer could come


def lost_answer(proxy: TcpProxy, method: str, path: str, **kw: Any) -> None:
    """Send through the proxy; the server answers, the client never hears it."""
    proxy.answered.clear()
    proxy.drop_responses = True
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.request(method, f"http://127.0.0.1:{proxy.port}{path}", timeout=SHORT, **kw)
    assert proxy.answered.wait(30), "the server never answered the first request"


def test_retried_checkin_and_quiz_submit_are_stored_once(database: str, servers: Any,
                                                         tmp_path: Path) -> None:
    world = load_world(database, tmp_path, at_a=3, at_b=0, at_host=0, quiz=True)
    server = servers("retry", database)
    proxy = TcpProxy("127.0.0.1", server.port).start()
    try:
        _checkin(server.url, proxy, world, database)
        _quiz(server.url, proxy, world, database)
    finally:
        proxy.close()


def _checkin(base: str, proxy: TcpProxy, world: Any, database: str) -> None:
    person = world.people["a"][0]
    path = f"/api/v1/sessions/{world.session_id}/checkins"
    body = {"site_id": world.a_id, "participant_id": person["id"],
            "client_id": str(uuid.uuid4())}
    headers = bearer(world.coord_token)

    lost_answer(proxy, "POST", path, json=body, headers=headers)
    retry = requests.post(base + path, json=body, headers=headers, timeout=10)
    assert retry.status_code == 200, retry.text  # "the same client_id sent again"
    again = requests.post(base + path, json=body, headers=headers, timeout=10)
    assert again.status_code == 200 and again.json()["id"] == retry.json()["id"]

    rows = count_rows(database, "SELECT id, client_id FROM checkin WHERE session_id = :s "
                                "AND participant_id = :p", s=world.session_id, p=person["id"])
    assert [(r.id, r.client_id) for r in rows] == [(retry.json()["id"], body["client_id"])]
    attendance = requests.get(f"{base}/api/v1/sessions/{world.session_id}/attendance",
                              headers=bearer(world.organiser_token), timeout=10).json()
    assert attendance["totals"]["present"] == 1


def _quiz(base: str, proxy: TcpProxy, world: Any, database: str) -> None:
    person = world.people["a"][0]  # checked in above: may take the quiz
    start_path = f"/api/v1/quizzes/{world.quiz_id}/attempts"
    code = {"participant_code": person["code"], "device": "phone-of-a-0123456789"}

    lost_answer(proxy, "POST", start_path, json=code)
    started = requests.post(base + start_path, json=code, timeout=10)
    assert started.status_code == 200, started.text  # resumed, not a second attempt
    attempt_id, token = started.json()["attempt_id"], started.json()["token"]
    token_header = {"X-Attempt-Token": token}
    answers = {str(q): ids for q, ids in world.quiz_answers.items()}
    saved = requests.put(f"{base}/api/v1/attempts/{attempt_id}/answers",
                         json={"answers": answers}, headers=token_header, timeout=10)
    assert saved.status_code == 200, saved.text

    submit_path = f"/api/v1/attempts/{attempt_id}/submit"
    lost_answer(proxy, "POST", submit_path, headers=token_header)
    first = count_rows(database, "SELECT submitted_at FROM attempt WHERE id = :a", a=attempt_id)
    assert first[0].submitted_at is not None  # the lost submit was taken
    retry = requests.post(base + submit_path, headers=token_header, timeout=10)
    assert retry.status_code == 200, retry.text
    assert retry.json() == {"score": 3.0, "max_score": 3.0, "percent": 100.0, "passed": True} \
        or {k: retry.json()[k] for k in ("score", "max_score", "percent", "passed")} == \
        {"score": 3, "max_score": 3, "percent": 100, "passed": True}

    rows = count_rows(database, "SELECT id, submitted_at, score FROM attempt "
                                "WHERE quiz_id = :q AND participant_id = :p",
                      q=world.quiz_id, p=person["id"])
    assert len(rows) == 1 and rows[0].id == attempt_id
    assert rows[0].submitted_at == first[0].submitted_at and rows[0].score == 3
    answers_stored = count_rows(database, "SELECT question_id FROM answer WHERE attempt_id = :a",
                                a=attempt_id)
    assert sorted(r.question_id for r in answers_stored) == sorted(world.quiz_answers)
