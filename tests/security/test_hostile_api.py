"""Schemathesis against the served OpenAPI document, as an organiser, over every operation.

Checks: never a 5xx, every status code and content type is documented (errors are
application/problem+json, documented as such), and every body matches its documented schema.
The examples are bounded (max_examples) and derandomised so a run is reproducible and takes a
couple of minutes. Every call runs in a transaction rolled back afterwards (tests/security/
conftest.py), so a generated DELETE does not take the world away from the next example.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import _shared, new_app  # type: ignore[import-not-found]
from tests.security.conftest import Frozen  # type: ignore[import-not-found]

MAX_EXAMPLES = 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


def _app() -> Any:
    """The shared test application (as tests/conftest.py's `app` fixture makes it)."""
    from trainer.extensions import socketio

    if "app" not in _shared:
        _shared["app"] = new_app()
        _shared["config"] = dict(_shared["app"].config)
        _shared["socketio"] = socketio.server
    return _shared["app"]


schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _app())


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_api(case: Any, frozen: Frozen) -> None:
    world = frozen.world
    headers = {"Authorization": f"Bearer {world.tokens['organiser']}",
               "X-Attempt-Token": world.a.token}
    with frozen.isolated(files=case.method.upper() != "GET"):
        case.call_and_validate(headers=headers, checks=CHECKS)
