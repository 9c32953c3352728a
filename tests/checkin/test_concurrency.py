"""Many requests at once: one check-in per person, versions that never repeat.

Runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from trainer.audit.models import AuditEntry
from trainer.extensions import db
from trainer.sessions.models import Checkin, TrainingSession

THREADS = 16


def run_at_once(app: Any, requests: list[tuple[str, str, dict[str, Any]]]) -> list[Any]:
    """Send each (token, path, json) from its own thread and test client, all released
    together; answers in order."""
    db.session.commit()  # the test's own session holds no transaction (SQLite locks)
    barrier = threading.Barrier(len(requests))
    answers: list[Any] = [None] * len(requests)

    def send(i: int, token: str, path: str, body: dict[str, Any]) -> None:
        client = app.test_client()
        barrier.wait(timeout=30)
        try:
            response = client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
            answers[i] = (response.status_code, response.get_json())
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            answers[i] = ("error", repr(exc))

    threads = [threading.Thread(target=send, args=(i, *req)) for i, req in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    db.session.expire_all()
    return answers


@pytest.mark.parametrize("same_client_id", [False, True], ids=["scans", "retries"])
def test_same_participant_from_many_threads_is_checked_in_once(
        app: Any, world: Any, token_for: Any, same_client_id: bool) -> None:
    w = world
    path = f"/api/v1/sessions/{w.session.id}/checkins"
    shared = str(uuid.uuid4())
    requests = [
        (token_for(w.coord_a if i % 2 else w.organiser), path,
         {"site_id": w.a.id, "participant_id": w.ha.id,
          "client_id": shared if same_client_id else str(uuid.uuid4())})
        for i in range(THREADS)
    ]
    answers = run_at_once(app, requests)
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * (THREADS - 1) + [201], answers
    assert len({body["id"] for _, body in answers}) == 1
    assert db.session.scalar(select(func.count()).select_from(Checkin)) == 1
    assert db.session.scalar(select(TrainingSession.attendance_version)
                             .where(TrainingSession.id == w.session.id)) == 1
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "checkin")) == 1


def test_many_people_at_once_get_distinct_versions(app: Any, world: Any, token_for: Any,
                                                   make_participant: Any,
                                                   register: Any) -> None:
    w = world
    people = [make_participant(w.a, f"Nguyễn Văn Khách {i}", "male") for i in range(THREADS)]
    register(w.session, people)
    path = f"/api/v1/sessions/{w.session.id}/checkins"
    token = token_for(w.coord_a)
    answers = run_at_once(app, [(token, path, {"site_id": w.a.id, "participant_id": p.id})
                                for p in people])
    assert [status for status, _ in answers] == [201] * THREADS, answers
    versions = [e.details["version"] for e in db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "checkin"))]
    assert sorted(versions) == list(range(1, THREADS + 1))
    assert db.session.scalar(select(TrainingSession.attendance_version)
                             .where(TrainingSession.id == w.session.id)) == THREADS
