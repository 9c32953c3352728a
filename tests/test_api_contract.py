"""The served OpenAPI document and the browsable reference agree with the public contract
(shared API.md), and every /api error is an RFC 9457 problem, never HTML or a traceback."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask_babel import gettext
from openapi_spec_validator import validate
from sqlalchemy.exc import IntegrityError

from trainer import create_app
from trainer.extensions import db
from trainer.security import public

PROBLEM = "application/problem+json"
METHODS = ("get", "post", "put", "patch", "delete")

# Every operation API.md names (v1). Those the app serves must be in the OpenAPI document;
# REQUIRED must be served already (the foundation's part of the contract).
CONTRACT = [
    ("post", "/api/v1/auth/token"),
    ("post", "/api/v1/users"),
    ("get", "/api/v1/sites"),
    ("post", "/api/v1/sites"),
    ("post", "/api/v1/participants"),
    ("get", "/api/v1/participants"),
    ("post", "/api/v1/participants/import"),
    ("post", "/api/v1/sessions"),
    ("get", "/api/v1/sessions/<id>"),
    ("get", "/api/v1/sessions"),
    ("post", "/api/v1/sessions/<id>/registrations"),
    ("post", "/api/v1/sessions/<id>/status"),
    ("post", "/api/v1/sessions/<id>/checkins"),
    ("delete", "/api/v1/sessions/<id>/checkins/<checkin_id>"),
    ("get", "/api/v1/sessions/<id>/attendance"),
    ("post", "/api/v1/materials"),
    ("get", "/api/v1/materials"),
    ("post", "/api/v1/quizzes"),
    ("post", "/api/v1/quizzes/<id>/status"),
    ("post", "/api/v1/quizzes/<id>/attempts"),
    ("put", "/api/v1/attempts/<id>/answers"),
    ("post", "/api/v1/attempts/<id>/submit"),
    ("get", "/api/v1/quizzes/<id>/results"),
]
REQUIRED = {
    ("post", "/api/v1/auth/token"), ("post", "/api/v1/users"), ("get", "/api/v1/sites"),
    ("post", "/api/v1/sites"), ("post", "/api/v1/participants"),
    ("get", "/api/v1/participants"),
}


@pytest.fixture
def spec(client: Any) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")  # anonymous: the document is public
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return dict(response.get_json())


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, item[method]) for path, item in spec["paths"].items()
            for method in METHODS if method in item]


def resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        section, name = node["$ref"].split("/")[-2:]
        node = spec["components"][section][name]
    return node


def is_problem(response: Any, status: int) -> dict[str, Any]:
    text = response.get_data(as_text=True)
    assert response.status_code == status, text[:300]
    assert response.mimetype == PROBLEM
    assert "Traceback" not in text and "<html" not in text.lower()
    body = response.get_json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    assert all(isinstance(body[k], str) and body[k] for k in ("type", "title", "detail"))
    return body


# --- the document ---------------------------------------------------------------------------

def test_openapi_document_is_valid_openapi_3(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.")
    validate(spec)


def test_contract_operations_are_documented(app: Any, spec: dict[str, Any]) -> None:
    adapter = app.url_map.bind("localhost")
    served = []
    for method, path in CONTRACT:
        sample = re.sub(r"<[^>]+>", "1", path)
        try:
            endpoint, _ = adapter.match(sample, method=method.upper())
        except Exception:  # noqa: BLE001 - NotFound / MethodNotAllowed: not built yet
            assert (method, path) not in REQUIRED, f"{method.upper()} {path} is not served"
            continue
        rule = next(app.url_map.iter_rules(endpoint))
        documented = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        assert documented in spec["paths"], documented
        assert method in spec["paths"][documented], f"{method.upper()} {documented}"
        served.append((method, path))
    assert set(served) >= REQUIRED


def test_every_api_route_is_documented(app: Any, spec: dict[str, Any]) -> None:
    undocumented = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint.startswith(("api-docs.",
                                                                            "api_docs.")):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            if method.lower() not in spec["paths"].get(path, {}):
                undocumented.append(f"{method} {path} ({rule.endpoint})")
    assert undocumented == []


def test_error_responses_are_documented_as_problems(spec: dict[str, Any]) -> None:
    problem = spec["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "errors"} <= set(problem["properties"])
    for method, path, operation in operations(spec):
        where = f"{method.upper()} {path}"
        responses = operation["responses"]
        for status, response in responses.items():
            if status == "default" or status.startswith(("4", "5")):
                content = resolve(spec, response).get("content", {})
                assert list(content) == [PROBLEM], f"{where} {status}: {list(content)}"
                assert content[PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}
        assert "default" in responses, where
        if "requestBody" in operation or any(p.get("in") == "query"
                                             for p in operation.get("parameters", [])):
            assert "422" in responses, where
        if "security" not in operation:  # the bearer token of the document's default
            assert {"401", "403"} <= set(responses), where


def test_public_operations_are_marked(spec: dict[str, Any]) -> None:
    token = spec["paths"]["/api/v1/auth/token"]
    assert token["post"]["security"] == []
    assert "security" not in token["delete"]  # revoking needs the token itself
    assert spec["security"] == [{"bearer": []}]


def test_documented_bodies_match_the_contract(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]

    def fields(name: str) -> set[str]:
        return set(schemas[name]["properties"])

    def body_of(path: str, method: str, status: str) -> dict[str, Any]:
        response = resolve(spec, spec["paths"][path][method]["responses"][status])
        return dict(resolve(spec, response["content"]["application/json"]["schema"]))

    token = body_of("/api/v1/auth/token", "post", "201")
    assert {"token", "expires_at", "user"} <= set(token["properties"])
    assert {"id", "username", "role", "site_ids"} <= fields("User")
    sites = body_of("/api/v1/sites", "get", "200")
    assert {"items", "total"} <= set(sites["properties"])
    assert {"id", "code", "name", "kind"} <= fields("Site")
    assert schemas["Site"]["properties"]["kind"]["enum"] == ["host", "bridge"]
    parameters = {p["name"]: p for p in spec["paths"]["/api/v1/sites"]["get"]["parameters"]}
    assert parameters["per_page"]["schema"]["maximum"] == 500
    assert parameters["page"]["schema"]["minimum"] == 1
    participant = body_of("/api/v1/participants", "post", "201")
    assert {"id", "code", "full_name", "sex", "site_id"} <= set(participant["properties"])


# --- the browsable page ---------------------------------------------------------------------

def test_docs_page_is_redoc_from_the_vendored_script(client: Any) -> None:
    response = client.get("/api/v1/docs")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert '<redoc spec-url="/api/v1/openapi.json"' in html
    assert '<script src="/static/vendor/redoc-2.5.4.standalone.js"></script>' in html
    script = client.get("/static/vendor/redoc-2.5.4.standalone.js")
    assert script.status_code == 200 and b"redoc" in script.get_data()[:200_000]
    script.close()
    csp = response.headers["Content-Security-Policy"]
    script_src = next(p for p in csp.split(";") if p.strip().startswith("script-src"))
    assert script_src.strip() == "script-src 'self'"  # no inline script, no CDN
    assert "worker-src 'self' blob:" in csp  # ReDoc's worker


def test_only_the_docs_page_may_start_blob_workers(client: Any) -> None:
    for path in ("/login", "/api/v1/openapi.json", "/healthz"):
        assert "worker-src" not in client.get(path).headers["Content-Security-Policy"], path


# --- errors ---------------------------------------------------------------------------------

@pytest.fixture
def staff_api(api_as: Any, make_user: Any) -> Any:
    return api_as(make_user("organiser"))


@pytest.mark.parametrize("method, path, kwargs, status", [
    ("get", "/api/v1/no-such-thing", {}, 404),
    ("get", "/api/v1/sites/99999", {}, 404),
    ("delete", "/api/v1/sites", {}, 405),
    ("post", "/api/v1/sites", {"data": "{", "content_type": "application/json"}, 400),
    ("post", "/api/v1/sites", {"json": {"code": "?"}}, 422),
    ("post", "/api/v1/sites", {"data": "code=A&name=B",
                               "content_type": "application/x-www-form-urlencoded"}, 422),
    ("get", "/api/v1/sites?per_page=100000", {}, 422),
])
def test_api_errors_are_problems(staff_api: Any, method: str, path: str,
                                 kwargs: dict[str, Any], status: int) -> None:
    response = getattr(staff_api, method)(path, **kwargs)
    is_problem(response, status)
    if status == 405:
        assert "GET" in response.headers["Allow"]


def test_unauthenticated_api_calls_are_problems_even_for_unknown_ids(api_as: Any) -> None:
    is_problem(api_as(None).get("/api/v1/sites/1"), 401)
    is_problem(api_as(None).get("/api/v1/sites", headers={"Accept": "text/html"}), 401)


@pytest.mark.vietnamese_default
def test_problem_language_follows_the_caller(app: Any, staff_api: Any, api_as: Any,
                                             make_user: Any) -> None:
    english = api_as(make_user("organiser"), lang="en")
    assert is_problem(english.get("/api/v1/sites/99999"), 404)["title"] == "Not found"
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "vi"}):
        vietnamese = gettext("Not found")  # a fresh `g`: Flask-Babel caches the locale there
    assert vietnamese != "Not found", "no vi translation for 'Not found'"
    assert is_problem(staff_api.get("/api/v1/sites/99999"), 404)["title"] == vietnamese


def test_too_large_is_413_problem(app: Any, staff_api: Any) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = staff_api.post("/api/v1/sites", json={"code": "BIG", "name": "x" * 5000})
    is_problem(response, 413)


@pytest.fixture
def boom_app(app: Any) -> Any:
    """An app of its own with routes that fail the way a bug or the database would."""
    from tests.conftest import new_app  # type: ignore[import-not-found]

    app = new_app()

    def boom() -> Any:
        raise RuntimeError("secret-internal-detail")

    def integrity() -> Any:
        raise IntegrityError("INSERT INTO secret_table", {}, Exception("secret-constraint"))

    app.add_url_rule("/api/v1/test-boom", "test_boom", public(boom))
    app.add_url_rule("/api/v1/test-integrity", "test_integrity", public(integrity),
                     methods=["POST"])
    app.add_url_rule("/test-boom", "test_boom_page", boom)
    yield app
    with app.app_context():
        db.engine.dispose()


def test_unexpected_errors_are_500_problems_without_details(boom_app: Any) -> None:
    client = boom_app.test_client()
    for response in (client.get("/api/v1/test-boom"), client.post("/api/v1/test-integrity")):
        body = is_problem(response, 500)
        assert "secret" not in response.get_data(as_text=True)
        assert body["detail"]
    page = client.get("/test-boom", headers={"Accept": "text/html"})
    html = page.get_data(as_text=True)
    assert page.status_code == 500 and page.mimetype == "text/html"
    assert "secret" not in html and "Traceback" not in html
    assert client.get("/healthz").status_code == 200  # the app keeps serving


@pytest.fixture
def down_app() -> Any:
    """An app whose PostgreSQL does not answer (nothing listens on port 1)."""
    application = create_app({
        "TESTING": True, "SECRET_KEY": "down", "WTF_CSRF_ENABLED": False,
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://postgres@127.0.0.1:1/x",
    })
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("method, path, kwargs", [
    ("get", "/healthz", {}),
    ("post", "/api/v1/auth/token", {"json": {"username": "admin", "password": "whatever"}}),
    ("get", "/api/v1/sites", {"headers": {"Authorization": "Bearer some-token"}}),
    ("get", "/api/v1/sites", {"headers": {"Authorization": "Bearer some-token",
                                          "Accept-Language": "en"}}),
])
def test_database_down_is_503_problem_with_retry_after(down_app: Any, method: str, path: str,
                                                       kwargs: dict[str, Any]) -> None:
    response = getattr(down_app.test_client(), method)(path, **kwargs)
    body = is_problem(response, 503)
    assert int(response.headers["Retry-After"]) > 0
    assert "127.0.0.1" not in response.get_data(as_text=True)
    if kwargs.get("headers", {}).get("Accept-Language") == "en":
        assert body["title"] == "Service unavailable"


def test_database_down_on_a_page_is_a_friendly_503(down_app: Any) -> None:
    response = down_app.test_client().post("/login", data={"username": "admin",
                                                           "password": "whatever"})
    html = response.get_data(as_text=True)
    assert response.status_code == 503 and response.mimetype == "text/html"
    assert int(response.headers["Retry-After"]) > 0
    assert "Traceback" not in html and "127.0.0.1" not in html
