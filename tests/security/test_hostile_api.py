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
               "X-Attempt-Token": world.a.token,
               "Accept-Encoding": "identity"}  # the WSGI transport does not decompress
    with frozen.isolated(files=case.method.upper() != "GET"):
        case.call_and_validate(headers=headers, checks=CHECKS)


# --------------------------------------------------------------------------- what schemathesis
# found, pinned down (it explores at random; these do not depend on its luck)

def bearer(frozen: Frozen) -> dict[str, str]:
    return {"Authorization": f"Bearer {frozen.world.tokens['organiser']}"}


def test_ids_beyond_32_bits_are_unknown(frozen: Frozen) -> None:
    """Path ids are bounded (0..2^31-1, PostgreSQL's INTEGER): a larger one is a 404, never
    an overflow in the database driver; the OpenAPI document says so."""
    client = frozen.app.test_client()
    with frozen.isolated():
        for path in ("/api/v1/sessions/2147483648", "/api/v1/participants/99999999999999999999",
                     "/api/v1/sessions/1/checkins/18446744073709551617",
                     "/api/v1/materials/2147483647"):
            response = client.get(path, headers=bearer(frozen)) if "checkins" not in path \
                else client.delete(path, headers=bearer(frozen))
            assert response.status_code == 404, path
            assert response.mimetype == "application/problem+json"
        assert client.get("/sessions/2147483648", headers=bearer(frozen)).status_code == 404
    spec = client.get("/api/v1/openapi.json").get_json()
    param = next(p for p in spec["paths"]["/api/v1/sessions/{session_id}"]["parameters"]
                 if p["name"] == "session_id")
    assert param["schema"]["maximum"] == 2**31 - 1 and param["schema"]["minimum"] == 0


def test_numbers_and_nul_bytes_in_bodies_and_queries_are_field_errors(frozen: Frozen) -> None:
    client = frozen.app.test_client()
    world = frozen.world
    with frozen.isolated():
        cases = [
            ("get", f"/api/v1/sessions?site_id={2**63}", None, "site_id"),
            ("get", "/api/v1/trainings?page=667242711795202654208", None, "page"),
            ("get", f"/api/v1/sessions/{world.session}/roster?site_id={10**30}", None,
             "site_id"),
            ("post", "/api/v1/participants", {"full_name": "An", "sex": "female",
                                              "site_id": 2**40}, "site_id"),
            ("post", "/api/v1/participants", {"full_name": "An", "sex": "female",
                                              "site_id": world.a.site, "phone": "09\x0012"},
             "phone"),
            ("post", "/api/v1/auth/token", {"username": "organiser\x00", "password": "x"},
             "username"),
            ("post", f"/api/v1/quizzes/{world.quiz}/attempts", {"participant_code": "A\x00B"},
             "participant_code"),
        ]
        for method, path, body, field in cases:
            response = getattr(client, method)(path, json=body, headers=bearer(frozen))
            assert response.status_code == 422, (path, response.get_data(as_text=True))
            assert field in response.get_json()["errors"], (path, response.get_json())


def test_errors_inside_lists_and_objects_have_dotted_names(frozen: Frozen) -> None:
    """`errors` is always {"field": ["message", ...]} (as documented), also for a field of
    an item of a list: "agenda.0.x"."""
    client = frozen.app.test_client()
    with frozen.isolated():
        response = client.post("/api/v1/sessions", headers=bearer(frozen), json={
            "title": "Phiên", "starts_at": "2030-01-01T08:00:00+07:00",
            "ends_at": "2030-01-01T10:00:00+07:00", "host_site_id": frozen.world.host,
            "site_ids": ["x"], "agenda": [{"title": "Khai mạc", "x": 1}]})
        assert response.status_code == 422
        errors = response.get_json()["errors"]
        assert set(errors) == {"site_ids.0", "agenda.0.x"}, errors
        assert all(isinstance(m, str) for messages in errors.values() for m in messages)
