"""Record audit entries inside the caller's transaction (the caller's service commits)."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from sqlalchemy import insert

from trainer.audit.models import AuditEntry
from trainer.dbtypes import utcnow
from trainer.extensions import db


def entry(
    action: str,
    *,
    user_id: int | None = None,
    session_id: int | None = None,
    site_id: int | None = None,
    participant_id: int | None = None,
    **details: Any,
) -> dict[str, Any]:
    """An audit entry's column values, not written yet (`record` writes one; the attendance
    counters write a check-in's with its version, trainer.checkin.counters). Details that are
    None are left out."""
    return {
        "at": utcnow(), "action": action, "user_id": user_id, "session_id": session_id,
        "site_id": site_id, "participant_id": participant_id,
        "address": request.remote_addr if has_request_context() else None,
        "details": {k: v for k, v in details.items() if v is not None},
    }


def record(action: str, **fields: Any) -> None:
    """One audit entry (see `entry` for the fields), written at once (a Core INSERT on the
    session's connection) in the caller's transaction."""
    db.session.connection().execute(INSERT, entry(action, **fields))


INSERT = insert(AuditEntry.__table__)
