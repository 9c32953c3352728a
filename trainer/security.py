"""Who is calling (session cookie or bearer token), CSRF for cookie callers, and headers."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeGuard, TypeVar
from urllib.parse import urlsplit

from flask import (
    Flask,
    Request,
    Response,
    abort,
    current_app,
    make_response,
    redirect,
    request,
    url_for,
)
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask_babel import gettext
from flask_login import current_user

from trainer.extensions import csrf, db, login_manager

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger(__name__)


def public(view: F) -> F:
    """Mark an /api/v1 endpoint as open to callers without an account (e.g. trainees)."""
    view._public = True  # type: ignore[attr-defined]
    return view


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def is_safe_next(target: str | None) -> TypeGuard[str]:
    r"""Only local paths: no scheme, no host, no protocol-relative //evil.example. Browsers
    drop tabs and newlines inside a URL and read a backslash as a slash, so "/\t/evil" and
    "/\evil" are refused too, as is any whitespace or control character."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return False
    try:
        parts = urlsplit(target)
    except ValueError:
        return False
    return not parts.scheme and not parts.netloc


def origin_of(url: str) -> str | None:
    """scheme://host[:port] of an http(s) or ws(s) URL, for a CSP source list; None otherwise."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https", "ws", "wss") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def media_page(connect_to: Callable[[], Iterable[str]]) -> Callable[[F], F]:
    """For the pages of a video call only: this origin may use the camera, microphone, autoplay
    and full screen, and the page may reach the URLs `connect_to()` names (the video server)
    besides its own origin. Every other page keeps the global headers (camera for the scanner,
    no microphone)."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            response = make_response(view(*args, **kwargs))
            origins = sorted({o for url in connect_to() if (o := origin_of(url))})
            csp: str = current_app.extensions["trainer.csp"]
            if origins:
                csp = csp.replace("connect-src 'self'", "connect-src 'self' " + " ".join(origins), 1)
            response.headers["Content-Security-Policy"] = csp
            response.headers["Permissions-Policy"] = (
                "camera=(self), microphone=(self), autoplay=(self), fullscreen=(self), "
                "geolocation=()")
            return response

        return wrapper  # type: ignore[return-value]

    return decorate


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed cookie session, without building its signer for a request that brought
    no session cookie and leaves the session empty (an API call with a bearer token)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not session and not session.modified:  # nothing to set or delete
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)


def register(app: Flask, *, csp: str) -> None:
    from trainer.auth.models import User

    app.session_interface = CookieSessions()
    app.extensions["trainer.csp"] = csp
    from trainer.auth.services import user_for_token

    login_manager.session_protection = "basic"
    login_manager.login_view = "auth.login"

    @login_manager.user_loader
    def load_user(session_id: str) -> User | None:
        """The session's "<user id>.<session version>": a session from before the account's
        last logout, password change or deactivation no longer matches."""
        user_id, _, version = (session_id or "").partition(".")
        try:
            user = db.session.get(User, int(user_id))
            version_number = int(version)
        except ValueError:
            return None
        if user is None or not user.active or user.session_version != version_number:
            return None
        return user

    @login_manager.request_loader
    def load_user_from_request(_request: Any) -> User | None:
        token = bearer_token()
        return user_for_token(token) if token else None

    @login_manager.unauthorized_handler
    def unauthorized() -> Any:
        from trainer.errors import render_error, wants_problem_json

        if wants_problem_json():
            return render_error(401, gettext("Log in or send a valid bearer token."),
                                slug="unauthorized")
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))

    @app.before_request
    def api_guard() -> Any:
        if not request.path.startswith("/api/v1/"):
            return None
        if request.endpoint is None:
            return None  # 404 / 405 answer as they are
        view = app.view_functions.get(request.endpoint)
        if getattr(view, "_public", False) or request.endpoint in (
            "api-docs.openapi_json", "api-docs.openapi_redoc",
        ):
            return None
        if bearer_token():
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            return None  # a bearer token cannot be forged by another site: no CSRF needed
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            _check_csrf(app)  # a browser page calling the API with its session cookie
        return None

    defaults = [("Content-Security-Policy", csp), ("X-Content-Type-Options", "nosniff"),
                ("X-Frame-Options", "DENY"), ("Referrer-Policy", "same-origin"),
                ("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")]
    hsts = ("Strict-Transport-Security", "max-age=31536000")
    no_store = ("Cache-Control", "no-store")

    @app.after_request
    def security_headers(response: Response) -> Response:
        """These headers unless the view set its own (one pass over the headers: werkzeug's
        setdefault scans them all for each name)."""
        headers = response.headers
        present = {name.lower() for name in headers.keys()}  # noqa: SIM118 - a Headers object
        wanted = defaults
        if app.config.get("SESSION_COOKIE_SECURE"):
            wanted = [*wanted, hsts]
        if request.path.startswith("/api/"):
            wanted = [*wanted, no_store]
        for name, value in wanted:
            if name.lower() not in present:
                headers.add(name, value)
        return response

    @app.before_request
    def warn_unset_proxy_count() -> None:
        """Behind a proxy that TRAINER_PROXY_COUNT does not declare, every caller has the
        proxy's address: login and quiz-code throttling would then slow everyone at once."""
        if app.config.get("PROXY_COUNT") or app.extensions.get("trainer.proxy_warned"):
            return
        if "X-Forwarded-For" in request.headers:
            app.extensions["trainer.proxy_warned"] = True
            log.warning("Requests carry X-Forwarded-For but TRAINER_PROXY_COUNT is 0: every "
                        "caller is seen as the proxy's address %s, so throttling treats them "
                        "as one. Set TRAINER_PROXY_COUNT to the number of proxies in front.",
                        request.remote_addr)

    @app.before_request
    def refuse_unreadable_json() -> Any:
        """A JSON body that the parser cannot take (an integer of thousands of digits, arrays
        nested thousands deep) is a malformed request (400), never a server error with a
        traceback in the log."""
        from trainer.errors import render_error

        if request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        body: Any = None
        if request.is_json:
            try:
                body = json.loads(request.get_data(cache=True) or b"null")
            except (ValueError, RecursionError):
                return render_error(400, gettext(
                    "The body is not valid JSON, or holds a number too long or nesting too "
                    "deep to read."), slug="malformed")
        if (request.method == "PATCH" and request.path.startswith("/api/v1/")
                and not request.files and not request.form and body in (None, {})):
            return render_error(422, gettext("Send at least one field to change."),
                                slug="invalid", errors={"_schema": [
                                    gettext("Send at least one field to change.")]})
        return None

    @app.before_request
    def refuse_nul_characters() -> Any:
        """No text typed in a page holds a NUL character, and PostgreSQL refuses to store or
        compare one: a query or form field with one is refused (400) before any view runs.
        The API's schemas refuse it field by field; path segments are checked by the views."""
        if request.path.startswith("/api/"):
            return None
        values = [v for item in request.args.items(multi=True) for v in item]
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            values += [v for item in request.form.items(multi=True) for v in item]
        if any("\x00" in v for v in values):
            abort(400)
        return None

    @app.before_request
    def csrf_for_forms() -> Any:
        if request.path.startswith("/api/v1/") or request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        view = app.view_functions.get(request.endpoint or "")
        if getattr(view, "_csrf_exempt", False):
            return None
        if bearer_token() and current_user.is_authenticated:
            return None
        _check_csrf(app)
        return None


def _check_csrf(app: Flask) -> None:
    """Flask-WTF's check, run by us (WTF_CSRF_CHECK_DEFAULT is off so /api/v1 can skip it)."""
    if app.config.get("WTF_CSRF_ENABLED", True):
        csrf.protect()
