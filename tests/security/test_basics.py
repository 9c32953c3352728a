"""Security basics: CSRF on every form and cookie-authenticated API call, the session cookie,
security headers, tokens, the Socket.IO origin check, and uploads served as attachments.

Covered elsewhere, not repeated here:
- the login rate limit: tests/test_auth.py (test_failures_for_a_user_name_are_throttled...,
  test_failures_from_one_address_are_throttled, test_successful_logins_are_not_counted);
- token expiry and revocation: tests/test_auth.py (test_expired_token_is_refused,
  test_revoked_token_is_refused, test_token_of_a_deactivated_user_is_refused);
- headers on every answer of every route, no inline script / on* attribute / POST form
  without a CSRF token on any page: tests/security/test_permissions.py (each response of the
  table goes through header_problems and page_problems).
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.security.conftest import PASSWORD, PDF, Frozen  # type: ignore[import-not-found]
from tests.security.test_permissions import (  # type: ignore[import-not-found]
    TABLE,
    R,
    context,
    header_problems,
    outcome,
    page_problems,
)


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


@pytest.fixture
def csrf_on(frozen: Frozen) -> Any:
    frozen.app.config["WTF_CSRF_ENABLED"] = True
    yield frozen
    frozen.app.config["WTF_CSRF_ENABLED"] = False


def cookie_client(frozen: Frozen, account: str | None) -> Any:
    client = frozen.app.test_client()
    if account:
        with client.session_transaction() as s:
            s["_user_id"] = f"{frozen.world.users[account]}.0"  # "<id>.<session version>"
            s["_fresh"] = True
    return client


def body_of(route: R, ctx: SimpleNamespace) -> dict[str, Any]:
    if route.json is not None:
        return {"json": route.json(ctx)}
    if route.form is not None:
        return {"data": route.form(ctx)}
    return {}


# Janus's event handler posts JSON with its own password (basic auth), never a browser form.
MACHINE_POSTS = ("/conference/janus-events",)
FORM_POSTS = [r for r in TABLE if r.method == "POST" and not r.path.startswith("/api/")
              and r.path not in MACHINE_POSTS]
# Public endpoints take no cookie (a trainee's attempt answers to its X-Attempt-Token only).
API_WRITES = [r for r in TABLE if r.method != "GET" and r.path.startswith("/api/")
              and r.codes()["anon"] == "401" and not r.path.startswith("/api/v1/attempts/")]


def test_the_tables_cover_every_form_and_api_write() -> None:
    assert len(FORM_POSTS) > 40 and len(API_WRITES) > 40


# --------------------------------------------------------------------------- CSRF


@pytest.mark.parametrize("route", FORM_POSTS, ids=[r.id for r in FORM_POSTS])
def test_form_post_needs_the_csrf_token(csrf_on: Frozen, route: R) -> None:
    """Without the token: 400 and nothing done; with the page's token: as in the table."""
    frozen = csrf_on
    caller = "anon" if route.path == "/login" else "org"
    account = None if caller == "anon" else "organiser"
    ctx = context(frozen, caller)
    path = route.path.format(**vars(ctx))
    with frozen.isolated():
        client = cookie_client(frozen, account)
        refused = client.post(path, **body_of(route, ctx))
        html = refused.get_data(as_text=True)
        assert refused.status_code == 400, (path, html[:300])
        assert refused.mimetype == "text/html" and "Traceback" not in html
    with frozen.isolated():
        client = cookie_client(frozen, account)
        token = csrf_from(client.get("/login").get_data(as_text=True))
        data = body_of(route, ctx).get("data", {})
        accepted = client.post(path, data={**data, "csrf_token": token})
        assert outcome(accepted) == route.codes()[caller], (path, accepted.status_code)


@pytest.mark.parametrize("route", API_WRITES, ids=[r.id for r in API_WRITES])
def test_api_write_with_the_session_cookie_needs_the_csrf_header(csrf_on: Frozen,
                                                                 route: R) -> None:
    """A page calling the API with its cookie sends X-CSRFToken; a bearer token needs none."""
    frozen = csrf_on
    ctx = context(frozen, "org")
    path = route.path.format(**vars(ctx))
    with frozen.isolated():
        client = cookie_client(frozen, "organiser")
        refused = client.open(path, method=route.method, **body_of(route, ctx))
        assert refused.status_code == 400, (path, refused.get_data(as_text=True)[:300])
        assert refused.mimetype == "application/problem+json"
        assert refused.get_json()["type"] == "/problems/csrf"
    with frozen.isolated():
        client = cookie_client(frozen, "organiser")
        token = csrf_from(client.get("/sites").get_data(as_text=True))
        accepted = client.open(path, method=route.method, headers={"X-CSRFToken": token},
                               **body_of(route, ctx))
        assert outcome(accepted) == route.codes()["org"], (path, accepted.status_code)
    with frozen.isolated():
        bearer = frozen.app.test_client().open(
            path, method=route.method, **body_of(route, ctx),
            headers={"Authorization": f"Bearer {frozen.world.tokens['organiser']}"})
        assert outcome(bearer) == route.codes()["org"], (path, bearer.status_code)


def test_a_token_from_another_session_is_refused(csrf_on: Frozen) -> None:
    frozen = csrf_on
    theirs = cookie_client(frozen, "coord_a")
    token = csrf_from(theirs.get("/sites").get_data(as_text=True))
    mine = cookie_client(frozen, "organiser")
    with frozen.isolated():
        response = mine.post("/sites/new", data={"code": "TS", "name": "Huyện Tân Sơn",
                                                 "kind": "bridge", "csrf_token": token})
        assert response.status_code == 400


# --------------------------------------------------------------------------- cookies


def session_cookie(response: Any) -> list[str]:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, response.headers
    return [a.strip().lower() for a in cookies[0].split(";")]


def test_session_cookie_is_httponly_lax_and_secure_behind_https(frozen: Frozen) -> None:
    """HttpOnly and SameSite=Lax: also in tests/test_auth.py; Secure (and HSTS) once
    TRAINER_SECURE_COOKIES=1 sets SESSION_COOKIE_SECURE."""
    config = frozen.app.config
    with frozen.isolated():
        plain = frozen.app.test_client().post(
            "/login", data={"username": "organiser", "password": PASSWORD})
        attributes = session_cookie(plain)
        assert {"httponly", "samesite=lax"} <= set(attributes)
        assert "secure" not in attributes
        assert "Strict-Transport-Security" not in plain.headers
    config["SESSION_COOKIE_SECURE"] = True
    try:
        with frozen.isolated():
            secure = frozen.app.test_client().post(
                "/login", data={"username": "organiser", "password": PASSWORD},
                base_url="https://localhost")
            assert {"httponly", "samesite=lax", "secure"} <= set(session_cookie(secure))
            assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
    finally:
        config["SESSION_COOKIE_SECURE"] = False


def test_trainer_secure_cookies_turns_secure_cookies_on(monkeypatch: Any) -> None:
    from trainer.config import from_environment

    monkeypatch.delenv("TRAINER_SECURE_COOKIES", raising=False)
    assert from_environment()["SESSION_COOKIE_SECURE"] is False
    monkeypatch.setenv("TRAINER_SECURE_COOKIES", "1")
    settings = from_environment()
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["PREFERRED_URL_SCHEME"] == "https"


def test_bearer_calls_get_no_cookie(frozen: Frozen) -> None:
    """An API client with a token is not handed a cookie session (nothing a browser could
    send on its own later)."""
    with frozen.isolated():
        response = frozen.app.test_client().get(
            "/api/v1/auth/me",
            headers={"Authorization": f"Bearer {frozen.world.tokens['organiser']}"})
        assert response.status_code == 200
        assert not response.headers.getlist("Set-Cookie")


# --------------------------------------------------------------------------- headers


@pytest.mark.parametrize("path", ["/static/js/wall.js", "/static/vendor/jsQR-1.4.0.js",
                                  "/api/v1/sites", "/api/v1/nothing-here", "/nothing-here",
                                  "/login", "/api/v1/openapi.json", "/healthz"])
def test_security_headers_on_pages_api_static_and_errors(frozen: Frozen, path: str) -> None:
    with frozen.isolated():
        response = frozen.app.test_client().get(
            path, headers={"Authorization": f"Bearer {frozen.world.tokens['organiser']}"})
        response.close()
        assert header_problems(response, None) == [], path


def test_the_header_and_page_checks_can_fail(frozen: Frozen) -> None:
    from flask import Response

    bare = Response("<p>x</p>", mimetype="text/html")
    assert len(header_problems(bare, None)) >= 3
    loose = Response("x", headers={
        "Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline'",
        "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"})
    assert any("script-src" in p for p in header_problems(loose, None))
    assert len(page_problems(
        "<script>alert(1)</script><img src=x onerror=alert(1)>"
        "<a href=' javascript:alert(1)'>x</a>"
        "<form method=POST action=/x><input name=a></form>")) == 4
    assert page_problems('<script type="module" src="/static/js/wall.js"></script>'
                         '<form method="post"><input type="hidden" name="csrf_token" '
                         'value="t"></form><form method="get"></form>') == []


# --------------------------------------------------------------------------- tokens


def test_an_admin_setting_a_new_password_revokes_the_users_tokens(frozen: Frozen) -> None:
    """A password reset after a lost phone or a leak also ends the API sessions of the
    account (as trainer.auth.services.set_password does)."""
    world = frozen.world
    headers = {"Authorization": f"Bearer {world.tokens['coord_a']}"}
    with frozen.isolated():
        client = frozen.app.test_client()
        assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
        admin = cookie_client(frozen, "admin")
        response = admin.post(f"/users/{world.users['coord_a']}", data={
            "username": "coord_a", "role": "coordinator", "site_ids": world.a.site,
            "active": "y", "password": "a new password 2025"})
        assert response.status_code == 302
        assert client.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_changing_only_other_fields_keeps_the_tokens(frozen: Frozen) -> None:
    world = frozen.world
    headers = {"Authorization": f"Bearer {world.tokens['coord_a']}"}
    with frozen.isolated():
        admin = cookie_client(frozen, "admin")
        response = admin.post(f"/users/{world.users['coord_a']}", data={
            "username": "coord_a", "display_name": "Điều phối Cẩm Khê",
            "role": "coordinator", "site_ids": world.a.site, "active": "y"})
        assert response.status_code == 302
        client = frozen.app.test_client()
        assert client.get("/api/v1/auth/me", headers=headers).status_code == 200


def test_set_password_revokes_tokens(frozen: Frozen) -> None:
    from trainer.auth.models import User
    from trainer.auth.services import set_password
    from trainer.extensions import db

    world = frozen.world
    headers = {"Authorization": f"Bearer {world.tokens['organiser']}"}
    with frozen.isolated():
        set_password(db.session.get(User, world.users["organiser"]), "another password 1")
        client = frozen.app.test_client()
        assert client.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_expired_or_revoked_tokens_open_no_live_connection(frozen: Frozen) -> None:
    """The Socket.IO connection checks the token like the API does."""
    from sqlalchemy import update

    from trainer.auth.models import ApiToken
    from trainer.auth.services import hash_token, revoke_token
    from trainer.dbtypes import utcnow
    from trainer.extensions import db, socketio

    world = frozen.world
    with frozen.isolated():
        ok = socketio.test_client(frozen.app, namespace="/live",
                                  auth={"token": world.tokens["coord_a"]})
        assert ok.is_connected("/live")
        ok.disconnect(namespace="/live")
        revoke_token(world.tokens["coord_a"])
        db.session.execute(update(ApiToken).where(
            ApiToken.token_hash == hash_token(world.tokens["organiser"]))
            .values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        for account in ("coord_a", "organiser"):
            sio = socketio.test_client(frozen.app, namespace="/live",
                                       auth={"token": world.tokens[account]})
            assert not sio.is_connected("/live"), account


# --------------------------------------------------------------------------- Socket.IO origin


def handshake(frozen: Frozen, origin: str | None, transport: str = "polling",
              **headers: str) -> Any:
    if origin is not None:
        headers["Origin"] = origin
    return frozen.app.test_client().get(f"/socket.io/?EIO=4&transport={transport}",
                                        headers=headers)


def test_live_connections_from_another_site_are_refused(frozen: Frozen) -> None:
    """A page of another site cannot open a live connection with the user's cookie
    (cross-site WebSocket hijacking): Engine.IO refuses its Origin before anything else."""
    for origin in ("https://evil.example", "http://localhost.evil.example",
                   "http://localhost:8080", "null"):
        for transport in ("polling", "websocket"):
            response = handshake(frozen, origin, transport)
            assert response.status_code == 400, (origin, transport)
            assert b"Not an accepted origin" in response.get_data(), origin


def test_live_connections_from_the_same_site_are_accepted(frozen: Frozen) -> None:
    same = handshake(frozen, "http://localhost")
    assert same.status_code == 200 and same.get_data().startswith(b"0{"), same.get_data()
    assert same.headers.get("Access-Control-Allow-Origin") == "http://localhost"
    # no Origin at all: not a browser page (a script, a kiosk with a token)
    assert handshake(frozen, None).status_code == 200
    # behind the HTTPS proxy the page's origin is https://
    proxied = handshake(frozen, "https://localhost", X_Forwarded_Proto="https")
    assert proxied.status_code == 200, proxied.get_data()


def test_the_origin_check_is_not_turned_off(frozen: Frozen) -> None:
    """cors_allowed_origins=[] or "*" would turn the check off (DESIGN.md: a pitfall)."""
    from trainer.extensions import socketio

    allowed = socketio.server.eio.cors_allowed_origins
    assert allowed is None or (isinstance(allowed, list) and allowed and "*" not in allowed)


# --------------------------------------------------------------------------- uploads


def test_files_are_attachments_with_nosniff_for_everyone(frozen: Frozen) -> None:
    """Uploaded files are downloaded, never shown as a page of this site: attachment,
    nosniff, a CSP without scripts; inline only for previewable types on request."""
    world = frozen.world
    paths = [f"/materials/{world.material_shared}/file",
             f"/materials/{world.material_staff}/file",
             f"/materials/{world.material_staff}/versions/1/file"]
    for account in (None, "coord_a", "organiser"):
        for path in paths:
            with frozen.isolated():
                response = cookie_client(frozen, account).get(path)
                response.close()
                if response.status_code == 404:
                    assert account is None and "shared" not in path
                    continue
                assert response.status_code == 200, (account, path)
                disposition = response.headers["Content-Disposition"]
                assert disposition.startswith("attachment;"), (path, disposition)
                assert response.headers["X-Content-Type-Options"] == "nosniff"
                assert response.mimetype == "application/pdf"
                assert header_problems(response, "materials.download") == []
    with frozen.isolated():
        shown = cookie_client(frozen, "organiser").get(paths[0] + "?inline=1")
        shown.close()
        assert shown.headers["Content-Disposition"].startswith("inline;")
        assert header_problems(shown, "materials.download") == []


HTML_PAGE = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
       b"<script>alert(1)</script></svg>")


@pytest.mark.parametrize(("content", "name"), [
    (HTML_PAGE, "bai-giang.html"), (HTML_PAGE, "bai-giang.pdf"), (SVG, "so-do.svg"),
    (SVG, "so-do.png"), (b"MZ\x90\x00" + b"\x00" * 64, "tai-lieu.pdf"),
])
def test_active_content_is_not_accepted_as_a_material(frozen: Frozen, content: bytes,
                                                      name: str) -> None:
    """A file is typed by its content: a page or a script disguised as a document is refused
    (422), so the site never serves it."""
    world = frozen.world
    with frozen.isolated():
        response = frozen.app.test_client().post(
            "/api/v1/materials",
            headers={"Authorization": f"Bearer {world.tokens['organiser']}"},
            data={"file": (io.BytesIO(content), name), "topic": world.material_topic,
                  "visibility": "shared"})
        assert response.status_code == 422, response.get_data(as_text=True)[:300]
        assert response.mimetype == "application/problem+json"


def test_a_real_pdf_is_accepted(frozen: Frozen) -> None:
    """(the refusals above are about the content, not about every upload)"""
    world = frozen.world
    with frozen.isolated():
        response = frozen.app.test_client().post(
            "/api/v1/materials",
            headers={"Authorization": f"Bearer {world.tokens['organiser']}"},
            data={"file": (io.BytesIO(PDF + b"% x\n"), "a.pdf"),
                  "topic": world.material_topic, "visibility": "shared"})
        assert response.status_code == 201, response.get_data(as_text=True)[:300]
        url = response.get_json()["url"]
        assert urlsplit(url).path.startswith("/materials/")


# --------------------------------------------------------------------------- anonymous callers

# (the start page "/" sends everyone somewhere: to the login page when logged out)
LOGIN_PAGES = [r for r in TABLE if r.codes()["anon"] == "L" and r.method == "GET"
               and r.path != "/"]


@pytest.mark.parametrize("route", LOGIN_PAGES, ids=[r.id for r in LOGIN_PAGES])
def test_a_script_without_login_gets_401_not_the_login_page(frozen: Frozen, route: R) -> None:
    """A browser is sent to the login page (302, in the table); a caller that asks for JSON
    gets a 401 problem instead."""
    path = route.path.format(**vars(context(frozen, "anon")))
    with frozen.isolated(files=False):
        response = frozen.app.test_client().get(path, headers={"Accept": "application/json"})
        assert response.status_code == 401, path
        assert response.mimetype == "application/problem+json"
