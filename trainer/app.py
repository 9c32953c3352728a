"""The application factory's body (see `trainer.create_app`)."""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.engine import Engine

from trainer import assets
from trainer import config as config_module
from trainer.extensions import api, babel, csrf, db, login_manager, migrate, socketio

ROOT = Path(__file__).resolve().parent.parent

# Feature packages, in the order their pages, API and Socket.IO events are registered.
# Each may have `views.bp` (pages), `api.blp` (JSON), `events` (Socket.IO) and `cli.register`.
FEATURES = (
    "auth",
    "sites",
    "people",
    "sessions",
    "checkin",
    "materials",
    "quizzes",
    "reports",
    "backup",
    "conference",
)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self' ws: wss:; frame-src 'self'; "
    "frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'"
)


def _gevent_patched() -> bool:
    try:
        from gevent import monkey
    except ImportError:  # pragma: no cover
        return False
    return bool(monkey.is_module_patched("socket"))


def _engine_options(app: Flask) -> dict[str, Any]:
    url: str = app.config["SQLALCHEMY_DATABASE_URI"]
    options: dict[str, Any] = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if url.startswith("sqlite"):
        options.setdefault("connect_args", {}).setdefault("timeout", 30)
        if _gevent_patched():
            # One connection per process: SQLite writes are serial anyway, and a greenlet that
            # waits on SQLite's busy handler would block the lock holder's greenlet.
            options.setdefault("pool_size", 1)
            options.setdefault("max_overflow", 0)
            options.setdefault("pool_timeout", 30)
    else:
        # No ping on every checkout (a round trip each time, two per check-in): a connection
        # the database dropped fails its request with a 503 (Retry-After), which marks the
        # pool's older connections to be replaced (SQLAlchemy's disconnect handling), and one
        # idle past pool_recycle is replaced before it is used.
        options.setdefault("pool_recycle", 600)
        options.setdefault("pool_size", 10)
        options.setdefault("max_overflow", 20)
        # A burst (1,000 screens reconnecting, a rush of check-ins) waits for a connection
        # rather than failing; a database that is down still fails fast (connect_timeout).
        options.setdefault("pool_timeout", 30)
        options.setdefault("connect_args", {}).setdefault("connect_timeout", 3)
    return options


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    import sqlite3

    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Let SQLAlchemy's "begin" event issue BEGIN IMMEDIATE (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn: Any) -> None:
    if conn.dialect.name == "sqlite":
        # On the DBAPI connection: SQLAlchemy's execute() costs more than the BEGIN itself.
        import sqlite3

        from sqlalchemy import exc

        # Read-only connections (trainer.offload's workers) read a snapshot and never take
        # the write lock: under WAL they neither wait for writers nor make them wait.
        begin = "BEGIN" if conn.engine.url.query.get("mode") == "ro" else "BEGIN IMMEDIATE"
        try:
            conn.connection.dbapi_connection.execute(begin)
        except sqlite3.Error as e:
            raise exc.DBAPIError.instance(begin, (), e, sqlite3.Error,
                                          dialect=conn.dialect) from e


def build_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(
        "trainer",
        root_path=str(ROOT / "trainer"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        static_url_path=assets.url_path(ROOT / "static"),
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    from trainer import validation
    from trainer.apiutil import IdConverter

    app.url_map.converters["int"] = IdConverter  # ids 0..2^31-1; larger ones: 404
    app.config.from_mapping(config_module.DEFAULTS)
    app.config.from_mapping(config_module.from_environment())
    if overrides:
        app.config.from_mapping(overrides)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = _engine_options(app)
    if proxies := int(app.config.get("PROXY_COUNT") or 0):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    app.config.setdefault("API_SPEC_OPTIONS", {}).update(
        {
            "info": {"description": "The public contract of trainer (v1). "
                     + validation.TEXT_RULES},
            "components": {
                "securitySchemes": {
                    "bearer": {"type": "http", "scheme": "bearer"},
                    "attemptToken": {"type": "apiKey", "in": "header", "name": "X-Attempt-Token"},
                }
            },
            "security": [{"bearer": []}],
        }
    )
    logging.basicConfig(level=app.config.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    db.init_app(app)
    from trainer import state

    state.init_app(app)  # caches and live-push bookkeeping: app.extensions["trainer"]
    migrate.init_app(app, db, directory=str(ROOT / "trainer" / "migrations"),
                     render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    from trainer import i18n

    babel.init_app(app, locale_selector=i18n.select_locale,
                   timezone_selector=i18n.select_timezone)
    i18n.register(app)
    login_manager.init_app(app)
    from trainer import docs

    docs.init_api(app, api)  # problem+json error docs, 401/403, the /api/v1/docs page

    for name in FEATURES:  # Socket.IO handlers first: Flask-SocketIO keeps handlers declared
        _optional(f"trainer.{name}.events")  # after init_app on that one app's server only
    message_queue = app.config.get("REDIS_URL")
    from trainer import live

    socketio.init_app(
        app,
        async_mode=app.config.get("SOCKETIO_ASYNC_MODE")
        or ("gevent" if _gevent_patched() else "threading"),
        message_queue=message_queue,
        channel=app.config.get("SOCKETIO_CHANNEL", "trainer"),
        client_manager=live.message_queue(message_queue,
                                          app.config.get("SOCKETIO_CHANNEL", "trainer")),
        cors_allowed_origins=app.config.get("CORS_ORIGINS") or None,
        ping_interval=20,
        ping_timeout=20,
        logger=False,
        engineio_logger=False,
        manage_session=False,
        json=None,
    )

    from trainer import errors, security

    errors.register_error_handlers(app)
    security.register(app, csp=CSP)
    from trainer import throttle

    throttle.init_app(app)
    assets.register(app)

    _import_models()
    for name in FEATURES:
        _register_feature(app, name)

    from trainer import cli

    cli.register(app)

    @app.get("/favicon.ico")
    def favicon() -> Any:
        return app.send_static_file("favicon.svg")

    @app.get("/ping")
    def ping() -> Any:
        """Liveness: answers without touching the database (and the benchmarks' ceiling)."""
        return {"pong": True}

    @app.get("/healthz")
    def healthz() -> Any:
        from sqlalchemy import text

        from trainer.errors import problem

        try:
            db.session.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001
            db.session.rollback()
            return problem(503, slug="database-unavailable")
        return {"status": "ok"}

    app.jinja_env.globals["nav_items"] = _nav_items

    return app


# Main navigation: (endpoint, label, roles). Entries whose feature is absent are left out.
NAV: tuple[tuple[str, Any, tuple[str, ...]], ...] = (
    ("sessions.index", _l("Sessions"), ("admin", "organiser")),
    ("checkin.today_page", _l("Check-in"), ("coordinator",)),
    ("sessions.mine", _l("My sites' sessions"), ("coordinator",)),
    ("trainings.index", _l("Trainings"), ("admin", "organiser")),
    ("sites.index", _l("Sites"), ("admin", "organiser", "coordinator")),
    ("people.index", _l("Participants"), ("admin", "organiser", "coordinator")),
    ("materials.index", _l("Materials"), ("admin", "organiser", "coordinator")),
    ("quizzes.bank", _l("Question bank"), ("admin", "organiser")),
    ("reports.index", _l("Reports"), ("admin", "organiser")),
    ("auth.users", _l("Accounts"), ("admin",)),
)

HOME: dict[str, tuple[str, ...]] = {
    "admin": ("sessions.index", "sites.index"),
    "organiser": ("sessions.index", "sites.index"),
    # today's check-in desk (the only live one at once), else the user's sessions
    "coordinator": ("checkin.today_page", "sessions.mine", "people.index"),
}


def home_endpoint(user: Any) -> str | None:
    for endpoint in HOME.get(user.role.value, ()):
        if endpoint in current_app.view_functions:
            return endpoint
    return None


def _nav_items() -> list[tuple[str, Any, tuple[str, ...]]]:
    return [item for item in NAV if item[0] in current_app.view_functions]


def _import_models() -> None:
    for name in ("auth", "sites", "people", "sessions", "checkin", "audit", "materials",
                 "quizzes", "reports", "conference"):
        _optional(f"trainer.{name}.models")


def _optional(module: str) -> Any:
    try:
        spec = importlib.util.find_spec(module)
    except ModuleNotFoundError:
        return None
    return importlib.import_module(module) if spec is not None else None


def _register_feature(app: Flask, name: str) -> None:
    views = _optional(f"trainer.{name}.views")
    if views is not None and hasattr(views, "bp"):
        app.register_blueprint(views.bp)
    for extra in getattr(views, "blueprints", ()):  # more page blueprints, e.g. trainings
        app.register_blueprint(extra)
    api_module = _optional(f"trainer.{name}.api")
    if api_module is not None and hasattr(api_module, "blp"):
        api.register_blueprint(api_module.blp)
    _optional(f"trainer.{name}.events")
    setup = _optional(f"trainer.{name}.setup")  # state in app.extensions, more blueprints
    if setup is not None and hasattr(setup, "init_app"):
        setup.init_app(app)
    cli_module = _optional(f"trainer.{name}.cli")
    if cli_module is not None and hasattr(cli_module, "register"):
        cli_module.register(app)
