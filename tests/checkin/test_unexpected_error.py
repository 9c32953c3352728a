"""An unexpected error inside the check-in path is logged and answered 500 problem+json, with
nothing stored: there is no second path that would take the check-in instead."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import func, select

from trainer.audit import services as audit
from trainer.audit.models import AuditEntry
from trainer.checkin import counters
from trainer.checkin.models import SiteAttendance
from trainer.extensions import db
from trainer.sessions.models import Checkin, TrainingSession


def count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.parametrize("fault", ["write", "audit"])
def test_an_error_inside_the_checkin_is_logged_and_answered_500(
        world: Any, api_as: Any, monkeypatch: Any, caplog: Any, fault: str) -> None:
    def broken(*_: Any, **__: Any) -> Any:
        raise TypeError("forced inside the check-in")

    if fault == "write":  # the write's turn: a context manager that fails as it begins
        monkeypatch.setattr(counters, "turn", broken)
    else:
        monkeypatch.setattr(audit, "entry", broken)
    w = world
    with caplog.at_level(logging.ERROR):
        response = api_as(w.coord_a).post(f"/api/v1/sessions/{w.session.id}/checkins",
                                          json={"site_id": w.a.id, "participant_id": w.ha.id})
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 500 and body["title"] == "Internal error"
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "POST" in record.getMessage() and "/checkins" in record.getMessage()
    assert record.exc_info is not None and record.exc_info[0] is TypeError
    assert count(Checkin) == 0 and count(AuditEntry) == 0 and count(SiteAttendance) == 0
    assert db.session.scalar(select(TrainingSession.attendance_version)
                             .where(TrainingSession.id == w.session.id)) == 0
