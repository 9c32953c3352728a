"""The app factory, health check, errors and security headers."""

from __future__ import annotations

from typing import Any

import pytest


def test_healthz(client: Any) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


@pytest.mark.vietnamese_default
def test_unknown_api_path_is_problem_json_in_vietnamese_by_default(client: Any) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 404
    assert set(body) >= {"type", "title", "status", "detail"}
    assert body["title"] == "Không tìm thấy"


def test_problem_json_in_english_on_request(client: Any) -> None:
    response = client.get("/api/v1/nothing-here", headers={"Accept-Language": "en"})
    assert response.get_json()["title"] == "Not found"


def test_unknown_page_is_a_friendly_html_page(client: Any) -> None:
    response = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Traceback" not in response.get_data(as_text=True)


def test_security_headers(client: Any) -> None:
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    script_src = next(part for part in csp.split(";") if part.strip().startswith("script-src"))
    assert script_src.strip() == "script-src 'self'"  # no inline script, no eval
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_openapi_document_lists_the_contract(client: Any) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for path in ("/api/v1/auth/token", "/api/v1/sites", "/api/v1/participants",
                 "/api/v1/users"):
        assert path in spec["paths"], path


def test_each_request_runs_in_its_own_context(app: Any) -> None:
    """The test keeps an app context pushed (the `app` fixture); a request must not reuse it:
    it gets its own `g` and its own database session, as in production."""
    from flask import g

    from tests.conftest import new_app
    from trainer.extensions import db

    application = new_app()
    seen: list[tuple[Any, Any, Any]] = []

    @application.get("/_context-probe")
    def probe() -> dict[str, Any]:
        seen.append((g._get_current_object(), db.session(), g.get("mark")))
        g.mark = "set by a request"
        return {}

    with application.app_context():
        g.mark = "set by the test"
        test_g, test_session = g._get_current_object(), db.session()
        client = application.test_client()
        assert client.get("/_context-probe").status_code == 200
        assert client.get("/_context-probe").status_code == 200
        assert g.mark == "set by the test"
    (g1, s1, mark1), (g2, s2, mark2) = seen
    assert mark1 is None and mark2 is None
    assert len({id(test_g), id(g1), id(g2)}) == 3
    assert len({id(test_session), id(s1), id(s2)}) == 3


def test_a_request_without_a_token_is_not_the_previous_caller(
        client: Any, make_user: Any, token_for: Any) -> None:
    user = make_user("organiser")
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token_for(user)}"})
    assert me.status_code == 200
    assert me.get_json()["username"] == user.username
    assert client.get("/api/v1/auth/me").status_code == 401
