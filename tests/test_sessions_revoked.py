"""Browser sessions and live connections that must end: a cookie kept from before a logout,
a password change or a deactivation no longer works; "log out everywhere" for users and
admins; live sockets close when their account's sessions end."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import pytest

from trainer.extensions import db, socketio

PASSWORD = "correct horse battery"


def _copy_cookie(source: Any, target: Any) -> None:
    """The attacker's browser: the victim's session cookie, copied."""
    cookie = source.get_cookie("session")
    assert cookie is not None
    target.set_cookie("session", cookie.value)


def test_a_cookie_kept_from_before_a_logout_stops_working(app: Any, client: Any,
                                                          make_user: Any, login: Any) -> None:
    user = make_user("organiser")
    login(user)
    stolen = app.test_client()
    _copy_cookie(client, stolen)
    assert stolen.get("/sites").status_code == 200  # the copy works while the session lives
    client.post("/logout")
    assert stolen.get("/sites").status_code == 302  # the kept cookie is dead
    assert stolen.get("/api/v1/sites").status_code == 401


def test_a_password_change_and_deactivation_end_sessions_and_tokens(
        app: Any, client: Any, make_user: Any, login: Any, api_as: Any) -> None:
    from trainer.auth.services import set_password, update_user

    admin = make_user("admin")
    user = make_user("organiser")
    login(user)
    api = api_as(user)
    assert client.get("/sites").status_code == 200
    set_password(db.session.get(type(user), user.id), "another long passphrase 42")
    assert client.get("/sites").status_code == 302
    assert api.get("/api/v1/sites").status_code == 401
    # log in again with the new password, then the account is deactivated
    login(user, "another long passphrase 42")
    assert client.get("/sites").status_code == 200
    update_user(admin, user, active=False)
    assert client.get("/sites").status_code == 302


def test_the_session_lasts_hours_not_a_month(app: Any, client: Any, make_user: Any,
                                             login: Any) -> None:
    login(make_user("organiser"))
    cookie = client.get_cookie("session")
    assert cookie.expires is not None
    from datetime import datetime

    left = cookie.expires - datetime.now(UTC)
    assert left.total_seconds() <= 12 * 3600 + 60
    assert app.permanent_session_lifetime.total_seconds() == 12 * 3600


def test_log_out_everywhere_for_oneself_and_by_an_admin(app: Any, client: Any, make_user: Any,
                                                        api_as: Any, login: Any) -> None:
    user, other, admin = make_user("organiser"), make_user("organiser"), make_user("admin")
    mine = api_as(user)
    assert api_as(other).post(f"/api/v1/users/{user.id}/logout").status_code == 403
    assert mine.post(f"/api/v1/users/{user.id}/logout").status_code == 204
    assert mine.get("/api/v1/sites").status_code == 401  # this token too
    # an admin, from the account page, for a lost phone
    victim_browser = app.test_client()
    assert victim_browser.post("/login", data={"username": other.username,
                                               "password": PASSWORD}).status_code == 302
    login(admin)
    page = client.get(f"/users/{other.id}")
    assert "Log out everywhere" in page.get_data(as_text=True)
    assert client.post(f"/users/{other.id}/logout").status_code == 302
    assert victim_browser.get("/sites").status_code == 302
    assert client.get("/sites").status_code == 200  # the admin stays in


def test_live_sockets_close_when_the_account_is_logged_out(app: Any, client: Any,
                                                           make_user: Any, token_for: Any,
                                                           api_as: Any) -> None:
    user = make_user("organiser")
    token = token_for(user)
    sio = socketio.test_client(app, namespace="/live", auth={"token": token})
    assert sio.is_connected("/live")
    api_as(user).post(f"/api/v1/users/{user.id}/logout")
    assert not sio.is_connected("/live")


def test_a_revoked_token_socket_is_closed_at_its_next_event(app: Any, client: Any,
                                                             make_user: Any,
                                                             token_for: Any) -> None:
    user = make_user("organiser")
    token = token_for(user)
    sio = socketio.test_client(app, namespace="/live", auth={"token": token})
    assert sio.is_connected("/live")
    assert client.delete("/api/v1/auth/token",
                         headers={"Authorization": f"Bearer {token}"}).status_code == 204
    answer = sio.emit("watch", {"session_id": 1}, namespace="/live", callback=True)
    assert answer["status"] == 401
    assert not sio.is_connected("/live")


@pytest.mark.redis
def test_connections_held_by_other_processes_are_closed_through_redis(
        app: Any, monkeypatch: Any) -> None:
    """Another server process's socket of the account is known from Redis and closed through
    the message queue (python-socketio's disconnect of a sid it does not hold)."""
    from tests.conftest import TEST_REDIS_URL
    from trainer import live

    app.config["REDIS_URL"] = TEST_REDIS_URL
    app.extensions.pop("trainer.live.registry", None)
    closed: list[str] = []
    monkeypatch.setattr(socketio.server, "disconnect",
                        lambda sid, namespace=None: closed.append(sid))
    try:
        live.remember_connection(424242, "sid-in-another-process")
        live.end_user_connections(424242)
        assert closed == ["sid-in-another-process"]
        assert not app.extensions["trainer.live.registry"].exists("trainer:sockets:424242")
    finally:
        app.extensions.pop("trainer.live.registry").close()
