"""Schemathesis against the served OpenAPI document, as an organiser, over every operation.

Checks: never a 5xx, every status code and content type is documented (errors are
application/problem+json, documented as such), and every body matches its documented schema.
A second run draws schema-valid requests only and checks that none is refused as invalid
(400/422): the document states the rules the server applies. Rules no JSON Schema can state
(they depend on stored data, or on several fields at once) are listed in BEYOND_SCHEMA, each
with why; a 422 naming only such fields is the server applying one of them. The examples are bounded (max_examples) and derandomised so a run is reproducible and takes a
couple of minutes. Every call runs in a transaction rolled back afterwards (tests/security/
conftest.py), so a generated DELETE does not take the world away from the next example.
"""

from __future__ import annotations

import re
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
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


# --------------------------------------------------------------------------- schema-valid
# requests are accepted

STORED = "names stored data (an id, key or code that must exist, or belong to the session)"
SESSION_SITE = "must be a site of the session (stored data)"
TIMES = ("ends after starts_at, at most 14 days later, both between 2000 and 2100 in UTC: a "
         "rule over two fields, and over the time in UTC that the offset moves")
UPLOAD = "the content of the uploaded file (its type, a roster's header row, the codes in it)"
OPTIONS = ("the options of a question as a whole: one correct option for `single`, at least "
           "one for `multiple`, two for `true_false`, no two with the same text")
VIDEO_SERVER = "the built-in video room needs a video server on this deployment (none here)"
LINK = ("provider `link` needs a link: in conference.url, in conference_url, or the one the "
        "session has (stored)")
ANSWERS = "keys are the questions of the quiz, values their options (stored data)"

#: operation -> {error field (a regular expression): why the schema cannot state its rule}
BEYOND_SCHEMA: dict[str, dict[str, str]] = {
    "GET /api/v1/reports/coverage": {
        "training_id": "one of two query parameters (training_id or year) is needed, which "
                       "an OpenAPI 3.0 parameter list cannot say; or " + STORED},
    "GET /api/v1/reports/gender": {
        "session_id": "one of three query parameters (session_id, training_id or year) is "
                      "needed, which an OpenAPI 3.0 parameter list cannot say; or " + STORED},
    "GET /api/v1/reports/sessions/{session_id}": {"quiz_id": "a quiz of the session: " + STORED},
    "GET /api/v1/sessions/{session_id}/roster": {"site_id": SESSION_SITE},
    "POST /api/v1/sessions/{session_id}/checkins": {"site_id": SESSION_SITE},
    "POST /api/v1/sessions/{session_id}/walkins": {"site_id": SESSION_SITE},
    "POST /api/v1/sessions/{session_id}/rollcall/{site_id}": {"site_id": SESSION_SITE},
    "POST /api/v1/sessions/{session_id}/sites/{site_id}/status": {"site_id": SESSION_SITE},
    "POST /api/v1/sessions": {
        "starts_at|ends_at": TIMES, "host_site_id|site_ids|training_id": STORED,
        "conference_provider": VIDEO_SERVER, "conference_url": LINK},
    "PATCH /api/v1/sessions/{session_id}": {
        "starts_at|ends_at": TIMES, "host_site_id|site_ids|training_id": STORED,
        "conference_provider": VIDEO_SERVER, "conference_url": LINK},
    "POST /api/v1/sessions/{session_id}/copy": {"starts_at|ends_at": TIMES,
                                                "training_id": STORED},
    "POST /api/v1/sessions/{session_id}/registrations": {
        "participant_ids|site_ids|unit_ids": STORED},
    "POST /api/v1/sessions/{session_id}/registrations/import": {"file": UPLOAD},
    "POST /api/v1/participants/import": {"file": UPLOAD, "site_id": STORED},
    "POST /api/v1/participants": {"site_id": STORED},
    "PATCH /api/v1/participants/{participant_id}": {"site_id": STORED},
    "POST /api/v1/materials/topics": {
        "key": "without a key, one is made from the English or else the Vietnamese name (its "
               "letters a-z and digits once accents are removed): a name with none gives none"},
    "POST /api/v1/materials": {
        "topic|training_id|session_id|agenda_item_id": STORED + "; and one of the three "
        "attachments at most (a `not` that schemathesis cannot draw from in a form)",
        "file|url": UPLOAD + "; and a file or a web address, not both: the schema's oneOf, "
                    "which schemathesis's coverage phase does not keep in a form"},
    "PATCH /api/v1/materials/{material_id}": {
        "topic|training_id|session_id|agenda_item_id|current_version": STORED,
        "url": "only a link has a web address (the stored kind of the material)"},
    "POST /api/v1/materials/{material_id}/versions": {"file": UPLOAD},
    "POST /api/v1/questions": {"topic": STORED, r"options(\.\d+\.text)?": OPTIONS},
    "PATCH /api/v1/questions/{question_id}": {"topic": STORED,
                                              r"options(\.\d+\.text)?": OPTIONS},
    "POST /api/v1/quizzes": {"session_id": STORED,
                             r"questions\.\d+\.options(\.\d+\.text)?": OPTIONS},
    "PATCH /api/v1/quizzes/{quiz_id}": {r"questions\.\d+\.options(\.\d+\.text)?": OPTIONS},
    "POST /api/v1/quizzes/{quiz_id}/paper": {r"answers\..*": ANSWERS,
                                             "participant_id|participant_code": STORED},
    "PUT /api/v1/attempts/{attempt_id}/answers": {r"answers\..*": ANSWERS},
}


def beyond_schema(case: Any, response: Any) -> bool:
    """A 422 whose field errors all name fields of BEYOND_SCHEMA for this operation."""
    rules = BEYOND_SCHEMA.get(case.operation.label)
    if response.status_code != 422 or rules is None:
        return False
    errors = (response.json() or {}).get("errors") or {}
    return bool(errors) and all(any(re.fullmatch(rule, name) for rule in rules)
                                for name in errors)


positive = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _app())
positive.config.generation.update(modes=[GenerationMode.POSITIVE])


@positive.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_schema_valid_requests_are_accepted(case: Any, frozen: Frozen) -> None:
    world = frozen.world
    headers = {"Authorization": f"Bearer {world.tokens['organiser']}",
               "X-Attempt-Token": world.a.token, "Accept-Encoding": "identity"}
    with frozen.isolated(files=case.method.upper() != "GET"):
        response = case.call(headers=headers)
        if not beyond_schema(case, response):
            case.validate_response(response, checks=[positive_data_acceptance])


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
