"""POST /conference/janus-events: where Janus's sample event handler sends its events.

Basic authentication with the user `janus` and the events password (generated for a child
Janus; JANUS_EVENTS_PASSWORD for another server). Not part of the public API.
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, abort, request

from trainer.conference import ingest
from trainer.conference.process import EVENTS_USER
from trainer.conference.runtime import runtime

bp = Blueprint("conference_hooks", __name__)


@bp.post("/conference/janus-events")
def janus_events() -> Any:
    password = runtime().events_password
    auth = request.authorization
    if (not password or auth is None or auth.type != "basic"
            or not hmac.compare_digest((auth.username or "").encode(), EVENTS_USER.encode())
            or not hmac.compare_digest((auth.password or "").encode(), password.encode())):
        abort(401)
    payload = request.get_json(silent=True)
    if payload is None:
        abort(400)
    ingest.ingest(payload)
    return "", 204


janus_events._csrf_exempt = True  # type: ignore[attr-defined]  # Janus, not a browser
