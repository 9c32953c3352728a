"""Fixtures: an app on a fresh database per test, clients, and `make_*` factories.

Set TEST_DATABASE_URL (PostgreSQL) and TEST_REDIS_URL to run against real services; without
them the suite uses SQLite and says which tests it skipped.
"""

from __future__ import annotations

import contextvars
import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pytest

_TMP = tempfile.mkdtemp(prefix="trainer-tests-")
os.environ.setdefault("TRAINER_DATA_DIR", _TMP)
os.environ.setdefault("SECRET_KEY", "tests-only-secret")
os.environ.pop("DATABASE_URL", None)
os.environ.pop("REDIS_URL", None)

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from trainer import create_app  # noqa: E402

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")
PASSWORD = "correct horse battery"


def database_url() -> str:
    if TEST_DATABASE_URL:
        url = TEST_DATABASE_URL
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        return url
    return f"sqlite:///{Path(_TMP) / 'test.db'}"


def pytest_sessionstart(session: Any) -> None:
    """Compile the message catalogues when a .po is newer than its .mo (as `make translations`
    does), so a plain `pytest` shows the Vietnamese and English texts too."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parent.parent / "trainer" / "translations"
    for po in root.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as f:
            catalog = read_po(f)
        tmp = mo.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as f:
            write_mo(f, catalog, use_fuzzy=True)
        os.replace(tmp, mo)  # atomic: several test runs may start at once


def pytest_report_header(config: Any) -> list[str]:
    lines = [f"database: {database_url().split('@')[-1]}"]
    if not TEST_DATABASE_URL:
        lines.append("TEST_DATABASE_URL unset: PostgreSQL-only tests are skipped")
    if not TEST_REDIS_URL:
        lines.append("TEST_REDIS_URL unset: tests that need Redis are skipped")
    return lines


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    for item in items:
        if "postgres" in item.keywords and not TEST_DATABASE_URL:
            item.add_marker(pytest.mark.skip(reason="needs TEST_DATABASE_URL (PostgreSQL)"))
        if "redis" in item.keywords and not TEST_REDIS_URL:
            item.add_marker(pytest.mark.skip(reason="needs TEST_REDIS_URL (Redis)"))


def base_config(**overrides: Any) -> dict[str, Any]:
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url(),
        "SECRET_KEY": "tests-only-secret",
        "WTF_CSRF_ENABLED": False,
        "DATA_DIR": _TMP,
        "SERVER_NAME": None,
        "LIVE_COALESCE_S": 0.0,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast; production keeps scrypt
    }
    config.update(overrides)
    return config


_schema_ready = False


def _reset_schema(app: Flask) -> None:
    """Create the schema once per run, then empty every table between tests (fast)."""
    global _schema_ready
    from trainer.extensions import db

    with app.app_context():
        if not _schema_ready:
            engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
            with engine.begin() as conn:
                if engine.dialect.name == "postgresql":
                    conn.execute(text("DROP SCHEMA public CASCADE"))
                    conn.execute(text("CREATE SCHEMA public"))
                else:
                    db.metadata.drop_all(conn)
                    conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
            engine.dispose()
            db.create_all()
            _schema_ready = True
        else:
            tables = list(reversed(db.metadata.sorted_tables))
            with db.engine.begin() as conn:
                if db.engine.dialect.name == "postgresql":
                    names = ", ".join(f'"{t.name}"' for t in tables)
                    conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
                else:
                    for table in tables:
                        conn.execute(table.delete())


class Client(FlaskClient):
    """Each request runs in a fresh `contextvars.Context()`, as in production, where a request
    finds no context pushed and pushes its own app context (its own `g`, its own database
    session). The test's own session (the `app` fixture's context) is committed first, so
    the request sees what the test wrote; the commit expires the test's objects, so what the
    test reads afterwards is what the request stored. Inside `with client:` (a test that
    asks to keep the request context) the request runs in the test's context instead.

    Requests ask for English (`language`) unless they say otherwise, so tests can assert the
    English msgids; tests of the Vietnamese default are marked `vietnamese_default`, which
    gives them a client that sends no Accept-Language at all."""

    language: str | None = "en"

    def open(self, *args: Any, **kwargs: Any) -> Any:
        from flask import has_app_context
        from werkzeug.datastructures import Headers

        from trainer.extensions import db

        if self.language and not (args and not isinstance(args[0], str)):
            headers = Headers(kwargs.pop("headers", None) or {})
            if "Accept-Language" not in headers:
                headers["Accept-Language"] = self.language
            kwargs["headers"] = headers
        if has_app_context():
            db.session().commit()  # the Session itself: a test may patch db.session.commit
        if self.preserve_context:
            return super().open(*args, **kwargs)
        return contextvars.Context().run(super().open, *args, **kwargs)


_shared: dict[str, Any] = {}


def new_app(**overrides: Any) -> Flask:
    """A separate application (own config); most tests use the shared `app` fixture instead."""
    application = create_app(base_config(**overrides))
    application.test_client_class = Client
    return application


@pytest.fixture
def app() -> Iterator[Flask]:
    """The application, built once per run (building one takes ~0.3 s: the OpenAPI document is
    generated from every schema), on emptied tables, with its config restored after each test
    so that no test sees another's settings."""
    from trainer.extensions import db, socketio

    if "app" not in _shared:
        _shared["app"] = new_app()
        _shared["config"] = dict(_shared["app"].config)
        _shared["socketio"] = socketio.server
    application = _shared["app"]
    socketio.server = _shared["socketio"]  # a test may have built another app meanwhile
    _reset_schema(application)
    application.extensions["trainer.throttle"].reset()  # rate limits start afresh
    with application.app_context():
        try:
            yield application
        finally:
            db.session.remove()
            application.config.clear()
            application.config.update(_shared["config"])


@pytest.fixture
def client(app: Flask, request: Any) -> FlaskClient:
    test_client = app.test_client()
    if request.node.get_closest_marker("vietnamese_default"):
        test_client.language = None  # type: ignore[attr-defined]
    return test_client


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


class Api:
    """A JSON client with a bearer token: api.post("/api/v1/...", json={...})."""

    def __init__(self, client: FlaskClient, token: str | None = None, lang: str | None = None):
        self.client, self.token, self.lang = client, token, lang

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        out = dict(headers or {})
        if self.token:
            out.setdefault("Authorization", f"Bearer {self.token}")
        if self.lang:
            out.setdefault("Accept-Language", self.lang)
        return out

    def __getattr__(self, method: str) -> Callable[..., Any]:
        if method not in ("get", "post", "put", "patch", "delete"):
            raise AttributeError(method)

        def call(path: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
            return getattr(self.client, method)(path, headers=self._headers(headers), **kw)

        return call


@pytest.fixture
def make_site(app: Flask) -> Callable[..., Any]:
    from trainer.sites.services import create_site

    n = count(1)

    def make(code: str | None = None, name: str | None = None, kind: str = "bridge",
             units: tuple[str, ...] = ()) -> Any:
        from trainer.sites.services import add_unit

        i = next(n)
        site = create_site(None, code=code or f"S{i:03d}", name=name or f"Huyện Thử {i}",
                           kind=kind)
        for unit in units:
            add_unit(None, site, unit)
        return site

    return make


@pytest.fixture
def make_user(app: Flask) -> Callable[..., Any]:
    from trainer.auth.services import create_user

    n = count(1)

    def make(role: str = "organiser", sites: tuple[Any, ...] | list[Any] = (),
             username: str | None = None, password: str = PASSWORD) -> Any:
        return create_user(username or f"{role}{next(n)}", password, role,
                           [s.id for s in sites])

    return make


@pytest.fixture
def make_participant(app: Flask) -> Callable[..., Any]:
    from trainer.people.services import create

    n = count(1)

    def make(site: Any, full_name: str | None = None, sex: str = "female", **kw: Any) -> Any:
        data = {"full_name": full_name or f"Nguyễn Thị Thử {next(n)}", "sex": sex,
                "site_id": site.id, **kw}
        return create(None, data)

    return make


@pytest.fixture
def token_for(app: Flask) -> Callable[[Any], str]:
    from trainer.auth.services import issue_token

    def make(user: Any) -> str:
        return issue_token(user).token

    return make


@pytest.fixture
def api_as(client: FlaskClient, token_for: Callable[[Any], str]) -> Callable[..., Api]:
    """api_as(user) -> an Api client authenticated as that user; api_as(None) -> anonymous."""

    def make(user: Any = None, lang: str | None = None) -> Api:
        return Api(client, token_for(user) if user is not None else None, lang)

    return make


@pytest.fixture
def login(client: FlaskClient) -> Callable[..., Any]:
    def do(user: Any, password: str = PASSWORD) -> Any:
        response = client.post("/login", data={"username": user.username, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response

    return do


@pytest.fixture
def make_session(app: Flask) -> Callable[..., Any]:
    """A training session across the given sites (the first is the host), starting now."""
    from trainer.dbtypes import utcnow
    from trainer.extensions import db
    from trainer.sessions.models import SessionSite, SessionStatus, TrainingSession

    def make(sites: list[Any], title: str = "Phiên tập huấn thử", status: str = "live",
             starts_in: timedelta = timedelta(minutes=-30),
             duration: timedelta = timedelta(hours=3), **kw: Any) -> Any:
        start = utcnow() + starts_in
        session = TrainingSession(title=title, starts_at=start, ends_at=start + duration,
                                  host_site_id=sites[0].id, status=SessionStatus(status),
                                  topics=kw.pop("topics", ["management"]), **kw)
        session.session_sites = [SessionSite(site_id=s.id) for s in sites]
        db.session.add(session)
        db.session.commit()
        return session

    return make


@pytest.fixture
def register(app: Flask) -> Callable[..., Any]:
    """register(session, participants): the expected roster, each at their home site."""
    from trainer.extensions import db
    from trainer.sessions.models import Registration

    def do(session: Any, participants: list[Any]) -> None:
        for p in participants:
            db.session.add(Registration(session_id=session.id, participant_id=p.id,
                                        site_id=p.site_id))
        db.session.commit()

    return do
