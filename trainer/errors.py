"""Domain errors, and how they answer: RFC 9457 problem+json under /api, error pages elsewhere."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, json, render_template, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

RETRY_AFTER_S = 5  # seconds a client waits before retrying when the database is down

TITLES: dict[int, Any] = {
    400: _l("Malformed request"),
    401: _l("Authentication required"),
    403: _l("Not allowed"),
    404: _l("Not found"),
    405: _l("Method not allowed"),
    409: _l("Conflict"),
    413: _l("Too large"),
    415: _l("Unsupported media type"),
    422: _l("Invalid input"),
    429: _l("Too many requests"),
    500: _l("Internal error"),
    503: _l("Service unavailable"),
}

DETAILS: dict[int, Any] = {
    400: _l("The request could not be read."),
    401: _l("Log in or send a valid bearer token."),
    403: _l("You are not allowed to do this."),
    404: _l("There is nothing at this address."),
    405: _l("This address does not accept that method."),
    413: _l("The upload is larger than the server accepts."),
    500: _l("Something went wrong on our side. Nothing was saved; please try again."),
    503: _l("The database is not answering right now. Please try again in a moment."),
}

# Marshmallow / webargs messages, translated when shown.


class DomainError(Exception):
    """An error a user can act on; services raise these, handlers render them."""

    status = 400
    slug = "bad-request"

    def __init__(self, detail: Any = None, *, errors: dict[str, list[Any]] | None = None,
                 **extra: Any) -> None:
        super().__init__(str(detail) if detail is not None else self.slug)
        self.detail = detail
        self.errors = errors
        self.extra = extra


class Invalid(DomainError):
    status = 422
    slug = "invalid"

    @classmethod
    def field(cls, name: str, message: Any, detail: Any = None) -> Invalid:
        return cls(detail or message, errors={name: [message]})


class Unauthorized(DomainError):
    status = 401
    slug = "unauthorized"


class Forbidden(DomainError):
    status = 403
    slug = "forbidden"


class NotFound(DomainError):
    status = 404
    slug = "not-found"


class Conflict(DomainError):
    status = 409
    slug = "conflict"


class TooLarge(DomainError):
    status = 413
    slug = "too-large"


class TooMany(DomainError):
    status = 429
    slug = "too-many-requests"


class Unavailable(DomainError):
    status = 503
    slug = "unavailable"


def _flatten_errors(messages: dict[str, Any]) -> dict[str, list[Any]]:
    """webargs nests errors by location ({"json": {...}}); keep the field names only. Errors
    inside lists and nested objects get dotted names ("agenda.0.title"), so that `errors` is
    always {"field": ["message", ...]}."""
    out: dict[str, list[Any]] = {}

    def add(name: str, msgs: Any) -> None:
        if isinstance(msgs, dict):
            for key, inner in msgs.items():
                add(f"{name}.{key}", inner)
            return
        for msg in msgs if isinstance(msgs, list) else [msgs]:
            if isinstance(msg, dict | list):
                add(name, msg)
            else:
                out.setdefault(name, []).append(str(msg))

    for location, fields in messages.items():
        if location in ("json", "query", "form", "files", "headers", "path") and isinstance(fields, dict):
            for name, msgs in fields.items():
                add(str(name), msgs)
        else:
            add(str(location), fields)
    return out


def wants_problem_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not request.accept_mimetypes.accept_html


def problem(status: int, detail: Any = None, *, title: Any = None, slug: str | None = None,
            errors: dict[str, list[Any]] | None = None, **extra: Any) -> Response:
    body: dict[str, Any] = {
        "type": f"/problems/{slug}" if slug else "about:blank",
        "title": str(title or TITLES.get(status, TITLES[500 if status >= 500 else 400])),
        "status": status,
        "detail": str(detail if detail is not None else DETAILS.get(status, body_title(status))),
    }
    if errors:
        body["errors"] = errors
    body.update({k: v for k, v in extra.items() if v is not None})
    response = current_app.response_class(
        json.dumps(body), status=status, mimetype="application/problem+json"
    )
    return _retry_after(response, status, extra.get("retry_after"))


def _retry_after(response: Response, status: int, seconds: Any = None) -> Response:
    """429 and 503 say when to try again (503: the database; a few seconds)."""
    if seconds is None and status == 503:
        seconds = RETRY_AFTER_S
    if seconds is not None and status in (429, 503):
        response.headers["Retry-After"] = str(int(seconds))
    return response


def body_title(status: int) -> str:
    return str(TITLES.get(status, TITLES[500 if status >= 500 else 400]))


def _page(status: int, detail: Any) -> tuple[str, int]:
    return render_template(
        "errors/error.html", status=status, title=body_title(status),
        detail=str(detail if detail is not None else DETAILS.get(status, "")),
    ), status


def render_error(status: int, detail: Any = None, **kw: Any) -> Any:
    if wants_problem_json():
        return problem(status, detail, **kw)
    return _retry_after(current_app.make_response(_page(status, detail)), status,
                        kw.get("retry_after"))


def _forget_user() -> None:
    """Render the error as an anonymous caller: with the database gone, loading the user
    (for the language, the menu) would fail again inside the error handler."""
    from flask import g

    from trainer.extensions import login_manager

    g._login_user = login_manager.anonymous_user()


def _end_transaction() -> None:
    """Roll back what the failed request did; a connection too broken to roll back is closed
    (it must not hide the error being answered)."""
    from trainer.extensions import db

    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001
        db.session.close()


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError) -> Any:
        from trainer.extensions import db

        db.session.rollback()
        errors = {k: [str(m) for m in v] for k, v in (exc.errors or {}).items()} or None
        return render_error(exc.status, exc.detail, slug=exc.slug, errors=errors, **exc.extra)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> Any:
        return render_error(400, gettext("The form has expired or was sent from another page. "
                                         "Reload the page and try again."), slug="csrf")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        status = exc.code or 500
        data = getattr(exc, "data", None) or {}
        messages = data.get("messages") if isinstance(data, dict) else None
        if status == 422 and messages:
            errors = _flatten_errors(messages)
            return render_error(422, gettext("Some fields are not valid."), errors=errors,
                                slug="invalid")
        if status == 400 and isinstance(messages, dict):
            return render_error(400, gettext("The body is not valid JSON."), slug="malformed")
        response = render_error(status, DETAILS.get(status))
        if status == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
            resp = current_app.make_response(response)
            resp.headers["Allow"] = ", ".join(exc.valid_methods)
            return resp
        return response

    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeout)
    def database_down(exc: Exception) -> Any:
        log.warning("database unavailable: %s", exc)
        _end_transaction()
        _forget_user()  # the rollback expired the loaded user; reloading it would fail too
        return render_error(503, slug="database-unavailable")

    @app.errorhandler(OverflowError)
    @app.errorhandler(DataError)
    def unusable_value(exc: Exception) -> Any:
        """A number too large for the database, a NUL character PostgreSQL cannot store, a
        date past year 9999: the request's fault (400), wherever no check caught it first."""
        log.warning("value refused on %s %s: %s", request.method, request.path, exc)
        _end_transaction()
        return render_error(400, gettext("A value in the request is too large or contains a "
                                         "character that cannot be stored."), slug="bad-value")

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        log.exception("unhandled error on %s %s", request.method, request.path)
        _end_transaction()
        if not _user_loaded():
            _forget_user()
        return render_error(500)


def _user_loaded() -> bool:
    from flask import g

    return "_login_user" in g
