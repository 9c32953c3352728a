"""A check-in's write and the session's row lock: the lock that keeps attendance versions in
commit order is held only inside the database (on PostgreSQL the bump is committed by the
statement that makes it), and a check-in that cannot get its turn to write is answered at
once with a 503 and Retry-After, having stored nothing, so that the phone's retry stores it.

Runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set."""

from __future__ import annotations

import uuid
from contextlib import ExitStack
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import OperationalError

from trainer.audit.models import AuditEntry
from trainer.checkin import counters
from trainer.checkin.models import SiteAttendance
from trainer.extensions import db
from trainer.sessions.models import Checkin, TrainingSession


def count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_the_session_row_is_free_when_the_statement_that_bumped_its_version_returns(
        app: Any, world: Any, api_as: Any) -> None:
    """Another transaction can lock the session's row right after the check-in's bump has
    returned: nothing of the check-in's transaction is left waiting for the app's next
    statement or its COMMIT while other check-ins of the session queue behind the lock."""
    w = world
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    db.session.commit()
    seen: list[str] = []

    def after(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "UPDATE training_session SET attendance_version" not in statement:
            return
        with db.engine.connect() as other:
            try:
                other.execute(text("SELECT id FROM training_session WHERE id = :id "
                                   "FOR NO KEY UPDATE NOWAIT"), {"id": w.session.id})
                seen.append("free")
            except OperationalError:
                seen.append("locked")
            other.rollback()

    event.listen(db.engine, "after_cursor_execute", after)
    try:
        response = api_as(w.coord_a).post(f"/api/v1/sessions/{w.session.id}/checkins",
                                          json={"site_id": w.a.id, "participant_id": w.ha.id})
    finally:
        event.remove(db.engine, "after_cursor_execute", after)
    assert response.status_code == 201, response.get_json()
    assert seen == ["free"]
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "checkin")).one()
    assert entry.details["checkin_id"] == response.get_json()["id"]
    assert entry.details["version"] == response.get_json()["version"] == 1


def test_a_checkin_without_a_turn_is_answered_503_and_its_retry_is_stored(
        app: Any, world: Any, api_as: Any) -> None:
    w = world
    app.config["CHECKIN_WAIT_S"] = 0
    path = f"/api/v1/sessions/{w.session.id}/checkins"
    body = {"site_id": w.a.id, "participant_id": w.ha.id, "client_id": str(uuid.uuid4())}
    api = api_as(w.coord_a)
    db.session.commit()
    with ExitStack() as busy:  # every turn of this process taken by other writes
        for _ in range(counters.TURNS):
            busy.enter_context(counters.turn(w.session.id))
        refused = api.post(path, json=body)
    assert refused.status_code == 503
    assert refused.mimetype == "application/problem+json"
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.get_json()["status"] == 503
    db.session.expire_all()
    assert count(Checkin) == 0 and count(AuditEntry) == 0 and count(SiteAttendance) == 0
    assert db.session.scalar(select(TrainingSession.attendance_version)
                             .where(TrainingSession.id == w.session.id)) == 0

    retried = api.post(path, json=body)  # the phone's queue sends it again
    assert retried.status_code == 201, retried.get_json()
    assert retried.get_json()["version"] == 1
    assert api.post(path, json=body).status_code == 200
    db.session.expire_all()
    assert count(Checkin) == 1
