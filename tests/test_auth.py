"""Logging in (pages and API tokens), throttling, accounts, CSRF and the session cookie."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Any

import pytest
from flask_babel import gettext
from sqlalchemy import select, update

from trainer import create_app
from trainer.auth.models import ApiToken, LoginFailure, User
from trainer.dbtypes import utcnow
from trainer.extensions import db

PASSWORD = "correct horse battery"
WRONG = "Wrong user name or password."


def translated(app: Any, msgid: str, lang: str = "vi", **kw: Any) -> str:
    """The text the app shows for `msgid` in `lang`; must differ from the English msgid."""
    # a fresh app context: Flask-Babel caches the locale in `g`, which the `app` fixture's
    # context shares with the requests the test made before
    with app.app_context(), app.test_request_context(headers={"Accept-Language": lang}):
        text = gettext(msgid, **kw)
    if lang != "en":
        assert text != msgid % kw if kw else text != msgid, (
            f"no {lang} translation for {msgid!r} in trainer/translations")
    return text


def is_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    return body


def token_login(client: Any, username: str, password: str, addr: str = "127.0.0.1",
                **headers: str) -> Any:
    return client.post("/api/v1/auth/token", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": addr}, headers=headers)


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'name="csrf-token" content="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


# --- the login page ------------------------------------------------------------------------

@pytest.mark.vietnamese_default
def test_login_page_renders_in_vietnamese_by_default(client: Any) -> None:
    response = client.get("/login")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="vi">' in html
    assert 'name="username"' in html and 'name="password"' in html and 'type="password"' in html


def test_login_succeeds_and_leads_home(client: Any, make_user: Any) -> None:
    user = make_user("organiser")
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/", follow_redirects=True)
    assert page.status_code == 200
    assert page.request.path != "/login"
    assert user.username in page.get_data(as_text=True)  # the "Log out (name)" button


def test_user_name_is_case_insensitive(client: Any, make_user: Any) -> None:
    user = make_user("organiser", username="Organiser.Hoa")
    response = client.post("/login", data={"username": "organiser.hoa", "password": PASSWORD})
    assert response.status_code == 302, user


@pytest.mark.vietnamese_default
@pytest.mark.parametrize("how", ["default", "query", "header"])
def test_wrong_password_shows_a_translated_error(app: Any, client: Any, make_user: Any,
                                                 how: str) -> None:
    user = make_user("organiser")
    data = {"username": user.username, "password": "not the password"}
    if how == "query":
        response = client.post("/login?lang=en", data=data)
    elif how == "header":
        response = client.post("/login", data=data, headers={"Accept-Language": "en"})
    else:
        response = client.post("/login", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 401
    expected = translated(app, WRONG) if how == "default" else WRONG
    assert expected in html
    if how == "default":
        assert WRONG not in html


@pytest.mark.parametrize("data", [
    {"username": "", "password": ""},
    {"username": "x" * 65, "password": "whatever-long"},
])
def test_login_form_refuses_empty_or_over_long_input(client: Any, data: dict[str, str]) -> None:
    response = client.post("/login", data=data)
    assert response.status_code == 422
    assert 'class="error"' in response.get_data(as_text=True)


def test_inactive_account_cannot_log_in(client: Any, make_user: Any) -> None:
    user = make_user("organiser")
    user.active = False
    db.session.commit()
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 401
    assert token_login(client, user.username, PASSWORD).status_code == 401


@pytest.mark.parametrize("target", [
    "//evil.example",
    "https://evil.example",
    "http://evil.example/login",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    " //evil.example",
    "javascript:alert(1)",
])
def test_next_never_leaves_the_site(client: Any, make_user: Any, target: str) -> None:
    user = make_user("organiser")
    response = client.post("/login", query_string={"next": target},
                           data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_next_to_a_local_page_is_followed(client: Any, make_user: Any) -> None:
    user = make_user("organiser")
    response = client.post("/login?next=/sites%3Fq%3Dthanh",
                           data={"username": user.username, "password": PASSWORD})
    assert response.headers["Location"] == "/sites?q=thanh"


def test_a_page_that_needs_login_sends_to_the_login_page_and_back(client: Any,
                                                                   make_user: Any) -> None:
    response = client.get("/sites")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    user = make_user("organiser")
    response = client.post(response.headers["Location"],
                           data={"username": user.username, "password": PASSWORD})
    assert response.headers["Location"] == "/sites"


def test_logout_requires_post(client: Any, make_user: Any, login: Any) -> None:
    login(make_user("organiser"))
    assert client.get("/logout").status_code == 405
    assert client.get("/sites").status_code == 200  # still logged in
    response = client.post("/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/sites").status_code == 302


# --- throttling ----------------------------------------------------------------------------

def test_a_failing_pair_is_slowed_but_the_real_user_elsewhere_gets_in(
        app: Any, client: Any, make_user: Any, api_as: Any) -> None:
    """The attack: 30 wrong passwords for someone's name used to lock them out everywhere.
    Now only the attacker's (name, address) pair waits; the owner logs in from their own
    address, with the right password, at once."""
    app.config["LOGIN_MAX_FAILURES"] = 3
    user = make_user("organiser")
    token = api_as(user).token  # issued before the attack
    attacker = "203.0.113.5"
    for _ in range(3):
        is_problem(token_login(client, user.username, "wrong password", addr=attacker), 401)
    response = token_login(client, user.username, PASSWORD, addr=attacker)
    body = is_problem(response, 429)
    assert int(response.headers["Retry-After"]) in (1, 2)
    assert body["detail"]
    # the same name in other letter case counts as the same account
    is_problem(token_login(client, user.username.upper(), PASSWORD, addr=attacker), 429)
    # the owner, from an address that has not been failing: in, by API and by the page
    assert token_login(client, user.username, PASSWORD, addr="198.51.100.20").status_code == 201
    page = client.post("/login", data={"username": user.username, "password": PASSWORD},
                       environ_base={"REMOTE_ADDR": "198.51.100.21"})
    assert page.status_code == 302
    # calls with a token issued earlier are not throttled
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    # another account from the attacker's address still logs in
    other = make_user("organiser")
    assert token_login(client, other.username, PASSWORD, addr=attacker).status_code == 201
    # the login page says so, in the visitor's language
    msgid = "Too many failed logins. Wait %(seconds)d seconds and try again."
    page = client.post("/login?lang=en", data={"username": user.username, "password": PASSWORD},
                       environ_base={"REMOTE_ADDR": attacker})
    assert page.status_code == 429
    assert "Too many failed logins. Wait" in page.get_data(as_text=True)
    client.get("/login?lang=vi")
    page = client.post("/login", data={"username": user.username, "password": PASSWORD},
                       environ_base={"REMOTE_ADDR": attacker})
    assert page.status_code == 429
    assert translated(app, msgid, seconds=2).split("2")[0] in page.get_data(as_text=True)


def _age_failures(seconds: float) -> None:
    """Time passes: every recorded failure is `seconds` older."""
    for failure in db.session.scalars(select(LoginFailure)):
        failure.at = failure.at - timedelta(seconds=seconds)
    db.session.commit()


def test_each_further_failure_doubles_the_wait(app: Any, client: Any, make_user: Any) -> None:
    app.config["LOGIN_MAX_FAILURES"] = 2
    user = make_user("organiser")
    waits = []
    for _ in range(2):
        is_problem(token_login(client, user.username, "guess"), 401)
    for _ in range(6):
        refused = token_login(client, user.username, "guess")
        is_problem(refused, 429)
        wait = int(refused.headers["Retry-After"])
        waits.append(wait)
        _age_failures(wait)  # the caller waits as told, then fails once more
        is_problem(token_login(client, user.username, "guess"), 401)
    assert waits == [1, 2, 4, 8, 16, 32]
    # the right password after waiting gets in, and the pair starts afresh
    _age_failures(64)
    assert token_login(client, user.username, PASSWORD).status_code == 201
    assert token_login(client, user.username, "guess").status_code == 401


def test_failures_expire_after_the_window(app: Any, client: Any, make_user: Any) -> None:
    app.config["LOGIN_MAX_FAILURES"] = 2
    user = make_user("organiser")
    for _ in range(2):
        token_login(client, user.username, "wrong password")
    assert token_login(client, user.username, PASSWORD).status_code == 429
    past = utcnow() - timedelta(seconds=app.config["LOGIN_WINDOW_S"] + 1)
    db.session.execute(update(LoginFailure).values(at=past))
    db.session.commit()
    assert token_login(client, user.username, PASSWORD).status_code == 201


def test_old_failures_are_purged(app: Any, client: Any) -> None:
    past = utcnow() - timedelta(seconds=app.config["LOGIN_WINDOW_S"] + 60)
    db.session.add_all([LoginFailure(username="old", address="10.1.1.1", at=past)
                        for _ in range(3)])
    db.session.commit()
    token_login(client, "someone", "wrong password")
    db.session.expire_all()
    assert [f.username for f in db.session.scalars(select(LoginFailure))] == ["someone"]


def test_an_unknown_user_name_costs_a_password_check(client: Any, make_user: Any,
                                                    monkeypatch: Any) -> None:
    """So that the answer's timing does not tell which user names exist."""
    from trainer.auth import services

    checked: list[str] = []
    real = services.check_password_hash

    def spy(stored: str, password: str) -> bool:
        checked.append(stored)
        return real(stored, password)

    monkeypatch.setattr(services, "check_password_hash", spy)
    is_problem(token_login(client, "nobody-at-all", "guess"), 401)
    user = make_user("organiser")
    is_problem(token_login(client, user.username, "guess"), 401)
    assert len(checked) == 2 and checked[1] == user.password_hash


def test_successful_logins_are_not_counted(app: Any, client: Any, make_user: Any) -> None:
    app.config["LOGIN_MAX_FAILURES"] = 3
    user = make_user("organiser")
    for _ in range(4):
        assert token_login(client, user.username, PASSWORD).status_code == 201
    assert client.post("/login", data={"username": user.username,
                                       "password": PASSWORD}).status_code == 302
    for _ in range(2):  # two failures, then a success, again: never throttled
        token_login(client, user.username, "wrong password")
        token_login(client, user.username, "wrong password")
        assert token_login(client, user.username, PASSWORD).status_code == 201


def test_failures_from_one_address_are_throttled(app: Any, client: Any, make_user: Any) -> None:
    """The wider limit: one address trying many names waits; other addresses do not."""
    app.config["LOGIN_ADDRESS_MAX_FAILURES"] = 10
    user = make_user("organiser")
    for i in range(10):
        is_problem(token_login(client, f"nobody{i}", "guess", addr="10.0.0.9"), 401)
    response = token_login(client, user.username, PASSWORD, addr="10.0.0.9")
    is_problem(response, 429)
    assert int(response.headers["Retry-After"]) in range(1, app.config["LOGIN_WINDOW_S"] + 1)
    assert token_login(client, user.username, PASSWORD, addr="10.0.0.10").status_code == 201


def test_forwarded_for_without_a_proxy_count_is_warned_about_once(
        app: Any, client: Any, caplog: Any) -> None:
    app.config["PROXY_COUNT"] = 0
    app.extensions.pop("trainer.proxy_warned", None)
    with caplog.at_level("WARNING", logger="trainer.security"):
        client.get("/healthz", headers={"X-Forwarded-For": "198.51.100.1"})
        client.get("/healthz", headers={"X-Forwarded-For": "198.51.100.2"})
    warnings = [r for r in caplog.records if "TRAINER_PROXY_COUNT" in r.getMessage()]
    assert len(warnings) == 1


# --- API tokens ----------------------------------------------------------------------------

def test_token_is_issued_with_the_user(client: Any, make_user: Any, make_site: Any) -> None:
    site = make_site()
    user = make_user("coordinator", sites=[site])
    response = token_login(client, user.username, PASSWORD)
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) >= {"token", "expires_at", "user"}
    assert body["user"]["id"] == user.id
    assert body["user"]["username"] == user.username
    assert body["user"]["role"] == "coordinator"
    assert body["user"]["site_ids"] == [site.id]
    assert "password" not in body["user"] and "password_hash" not in body["user"]
    assert re.search(r"(\+\d\d:\d\d|Z)$", body["expires_at"]), body["expires_at"]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200 and me.get_json()["username"] == user.username


@pytest.mark.parametrize("payload, status", [
    ({"username": "x"}, 422),
    ({"username": "x", "password": "y", "extra": 1}, 422),
    ({"username": 5, "password": "y"}, 422),
])
def test_token_request_is_validated(client: Any, payload: dict[str, Any], status: int) -> None:
    response = client.post("/api/v1/auth/token", json=payload)
    is_problem(response, status)


@pytest.mark.vietnamese_default
def test_wrong_password_for_a_token_is_401_in_the_callers_language(
        app: Any, client: Any, make_user: Any) -> None:
    user = make_user("organiser")
    body = is_problem(token_login(client, user.username, "nope", **{"Accept-Language": "en"}),
                      401)
    assert body["detail"] == WRONG
    body = is_problem(token_login(client, user.username, "nope"), 401)
    assert body["detail"] == translated(app, WRONG)


def test_token_is_stored_hashed(client: Any, make_user: Any) -> None:
    user = make_user("organiser")
    token = token_login(client, user.username, PASSWORD).get_json()["token"]
    rows = list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)))
    assert len(rows) == 1
    row = rows[0]
    stored = [str(getattr(row, column.key)) for column in ApiToken.__table__.columns]
    assert not any(token in value for value in stored)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()


@pytest.mark.parametrize("header", [
    "Bearer not-a-real-token",
    "Bearer " + "x" * 500,
    "Basic dXNlcjpwYXNz",
    "Bearer",
])
def test_bad_credentials_are_401(client: Any, header: str) -> None:
    response = client.get("/api/v1/sites", headers={"Authorization": header})
    is_problem(response, 401)


def test_expired_token_is_refused(client: Any, make_user: Any, token_for: Any) -> None:
    user = make_user("organiser")
    token = token_for(user)
    db.session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    is_problem(client.get("/api/v1/sites", headers={"Authorization": f"Bearer {token}"}), 401)


def test_revoked_token_is_refused(client: Any, make_user: Any, token_for: Any) -> None:
    user = make_user("organiser")
    token, other = token_for(user), token_for(user)
    headers = {"Authorization": f"Bearer {token}"}
    response = client.delete("/api/v1/auth/token", headers=headers)
    assert response.status_code == 204
    is_problem(client.get("/api/v1/sites", headers=headers), 401)
    is_problem(client.delete("/api/v1/auth/token", headers=headers), 401)
    # the user's other tokens stay valid
    assert client.get("/api/v1/sites",
                      headers={"Authorization": f"Bearer {other}"}).status_code == 200


def test_token_of_a_deactivated_user_is_refused(client: Any, make_user: Any,
                                                token_for: Any) -> None:
    user = make_user("organiser")
    token = token_for(user)
    user.active = False
    db.session.commit()
    is_problem(client.get("/api/v1/sites", headers={"Authorization": f"Bearer {token}"}), 401)


def test_tokens_survive_a_restart(app: Any, client: Any, make_user: Any) -> None:
    user = make_user("organiser")
    token = token_login(client, user.username, PASSWORD).get_json()["token"]
    username = user.username
    db.session.commit()  # end this session's transaction: SQLite would make the other wait
    restarted = create_app({
        "TESTING": True, "SECRET_KEY": "another-secret", "WTF_CSRF_ENABLED": False,
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
    })
    try:
        response = restarted.test_client().get(
            "/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        assert response.get_json()["username"] == username
    finally:
        with restarted.app_context():
            db.session.remove()
            db.engine.dispose()


# --- accounts ------------------------------------------------------------------------------

def test_admin_creates_accounts(api_as: Any, make_user: Any, make_site: Any,
                                client: Any) -> None:
    admin = make_user("admin")
    site = make_site()
    response = api_as(admin).post("/api/v1/users", json={
        "username": "coord-hoa", "password": "mat-khau-dai", "role": "coordinator",
        "site_ids": [site.id]})
    assert response.status_code == 201
    body = response.get_json()
    assert body["username"] == "coord-hoa" and body["role"] == "coordinator"
    assert body["site_ids"] == [site.id] and isinstance(body["id"], int)
    assert "password" not in body
    login = token_login(client, "coord-hoa", "mat-khau-dai")
    assert login.status_code == 201 and login.get_json()["user"]["site_ids"] == [site.id]


@pytest.mark.parametrize("payload, status, field", [
    ({"username": "c1", "password": "long-enough", "role": "coordinator"}, 422, "site_ids"),
    ({"username": "c1", "password": "long-enough", "role": "coordinator", "site_ids": [999]},
     422, "site_ids"),
    ({"username": "u1", "password": "short", "role": "organiser"}, 422, "password"),
    ({"username": "u1", "password": "long-enough", "role": "king"}, 422, "role"),
    ({"username": "with space", "password": "long-enough", "role": "organiser"}, 422,
     "username"),
    ({"username": "u1", "password": "long-enough"}, 422, "role"),
    ({"username": "u1", "password": "long-enough", "role": "organiser", "admin": True}, 422,
     "admin"),
    ({"username": "Admin0", "password": "long-enough", "role": "organiser"}, 409, "username"),
])
def test_account_input_is_checked(api_as: Any, make_user: Any, payload: dict[str, Any],
                                  status: int, field: str) -> None:
    admin = make_user("admin", username="admin0")
    body = is_problem(api_as(admin).post("/api/v1/users", json=payload), status)
    assert field in body.get("errors", {}), body


@pytest.mark.parametrize("role", ["organiser", "coordinator"])
def test_only_admins_create_accounts(api_as: Any, make_user: Any, make_site: Any,
                                     role: str) -> None:
    actor = make_user(role, sites=[make_site()] if role == "coordinator" else [])
    response = api_as(actor).post("/api/v1/users", json={
        "username": "sneaky", "password": "long-enough", "role": "admin"})
    is_problem(response, 403)
    is_problem(api_as(None).post("/api/v1/users", json={
        "username": "sneaky", "password": "long-enough", "role": "admin"}), 401)
    assert db.session.scalar(select(User).where(User.username == "sneaky")) is None


def test_account_pages_are_for_admins(client: Any, make_user: Any, make_site: Any,
                                      login: Any) -> None:
    site = make_site(code="TSN", name="Huyện Tân Sơn")
    login(make_user("organiser"))
    assert client.get("/users").status_code == 403
    assert client.get("/users/new").status_code == 403
    client.post("/logout")
    login(make_user("admin"))
    assert client.get("/users").status_code == 200
    form = client.get("/users/new").get_data(as_text=True)
    assert "TSN · Huyện Tân Sơn" in form
    response = client.post("/users/new", data={"username": "coord-x", "password": "long-enough",
                                               "role": "coordinator"})
    assert response.status_code == 422
    assert "coord-x" not in client.get("/users").get_data(as_text=True)
    response = client.post("/users/new", data={"username": "coord-x", "password": "long-enough",
                                               "role": "coordinator", "site_ids": [site.id]})
    assert response.status_code == 302
    assert token_login(client, "coord-x", "long-enough").get_json()["user"]["site_ids"] == [
        site.id]


# --- CSRF and cookies ----------------------------------------------------------------------

@pytest.fixture
def csrf_app(app: Any) -> Any:
    app.config["WTF_CSRF_ENABLED"] = True
    return app


def test_form_post_without_csrf_token_is_a_friendly_400(app: Any, csrf_app: Any, client: Any,
                                                        make_user: Any) -> None:
    user = make_user("organiser")
    msgid = ("The form has expired or was sent from another page. "
             "Reload the page and try again.")
    response = client.post("/login?lang=en", data={"username": user.username,
                                                   "password": PASSWORD})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "Traceback" not in html
    assert msgid in html
    client.get("/login?lang=vi")
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 400
    assert translated(app, msgid) in response.get_data(as_text=True)


def test_api_post_with_session_cookie_needs_the_csrf_header(
        csrf_app: Any, client: Any, make_user: Any, api_as: Any) -> None:
    user = make_user("organiser")
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": user.username, "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302
    page_token = csrf_from(client.get("/sites").get_data(as_text=True))
    site = {"code": "VTR", "name": "Thành phố Việt Trì", "kind": "host"}
    body = is_problem(client.post("/api/v1/sites", json=site), 400)
    assert body["type"] == "/problems/csrf"
    assert client.get("/api/v1/sites").status_code == 200  # reading needs no token
    response = client.post("/api/v1/sites", json=site, headers={"X-CSRFToken": page_token})
    assert response.status_code == 201
    # a bearer token is not sent by browsers on their own: no CSRF token needed
    other = api_as(user).post("/api/v1/sites", json={"code": "PTH", "name": "Thị xã Phú Thọ"})
    assert other.status_code == 201


def test_session_cookie_is_httponly_and_samesite_lax(client: Any, make_user: Any) -> None:
    user = make_user("organiser")
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies
    attributes = [a.strip().lower() for a in cookies[0].split(";")]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
