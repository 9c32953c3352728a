"""Settings from the environment (see README, "Configuration")."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any


def _data_dir() -> Path:
    path = Path(os.environ.get("TRAINER_DATA_DIR", "instance")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _secret_key(data_dir: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in the data folder."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = data_dir / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        key = secrets.token_urlsafe(48)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process won the race
            return path.read_text().strip()
        with os.fdopen(fd, "w") as f:
            f.write(key)
        return key


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def from_environment() -> dict[str, Any]:
    data_dir = _data_dir()
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{data_dir / 'trainer.db'}"
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgres://")
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    return {
        "DATA_DIR": str(data_dir),
        "SECRET_KEY": _secret_key(data_dir),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "SOCKETIO_CHANNEL": os.environ.get("TRAINER_SOCKETIO_CHANNEL", "trainer"),
        "MAX_CONTENT_LENGTH": _int("TRAINER_MAX_UPLOAD_MB", 200) * 1024 * 1024,
        "IMPORT_MAX_BYTES": _int("TRAINER_IMPORT_MAX_MB", 10) * 1024 * 1024,
        "TOKEN_TTL_HOURS": _int("TRAINER_TOKEN_TTL_HOURS", 24 * 14),
        # A browser session ends after this long without a request (a sliding window).
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=_int("TRAINER_SESSION_HOURS", 12)),
        "REMEMBER_COOKIE_DURATION": timedelta(hours=_int("TRAINER_SESSION_HOURS", 12)),
        # Free failed logins per (user name, address); then each try waits twice as long.
        "LOGIN_MAX_FAILURES": _int("TRAINER_LOGIN_MAX_FAILURES", 5),
        # Failed logins from one address (any names) within the window before it waits.
        "LOGIN_ADDRESS_MAX_FAILURES": _int("TRAINER_LOGIN_ADDRESS_MAX_FAILURES", 100),
        "LOGIN_WINDOW_S": _int("TRAINER_LOGIN_WINDOW_S", 15 * 60),
        "SESSION_COOKIE_SECURE": os.environ.get("TRAINER_SECURE_COOKIES", "") == "1",
        "PREFERRED_URL_SCHEME": "https" if os.environ.get("TRAINER_SECURE_COOKIES") == "1" else "http",
        "CORS_ORIGINS": [o for o in os.environ.get("TRAINER_ALLOWED_ORIGINS", "").split(",") if o],
        "PROXY_COUNT": _int("TRAINER_PROXY_COUNT", 0),
        # Refused quiz codes (limits' notation: "10 per minute"), per address and per quiz.
        "QUIZ_CODE_LIMIT_ADDRESS": os.environ.get("TRAINER_QUIZ_CODE_LIMIT", "10 per minute"),
        "QUIZ_CODE_LIMIT_QUIZ": os.environ.get("TRAINER_QUIZ_CODE_LIMIT_PER_QUIZ",
                                               "300 per minute"),
        "TIMEZONE": os.environ.get("TRAINER_TIMEZONE", "Asia/Ho_Chi_Minh"),
        # Video (trainer.conference): an external Janus; without JANUS_URL `trainer serve`
        # starts its own when the `janus` binary is on PATH (JANUS_MANAGED=0: never).
        "JANUS_URL": os.environ.get("JANUS_URL") or None,
        "JANUS_ADMIN_URL": os.environ.get("JANUS_ADMIN_URL") or None,
        "JANUS_ADMIN_SECRET": os.environ.get("JANUS_ADMIN_SECRET") or None,
        "JANUS_PUBLIC_URL": os.environ.get("JANUS_PUBLIC_URL") or None,
        "JANUS_ROOM_ADMIN_KEY": os.environ.get("JANUS_ROOM_ADMIN_KEY") or None,
        "JANUS_EVENTS_PASSWORD": os.environ.get("JANUS_EVENTS_PASSWORD") or None,
        # Where that Janus writes recordings, readable by trainer (the child's: data folder).
        "JANUS_RECORDINGS_DIR": os.environ.get("JANUS_RECORDINGS_DIR") or None,
        "JANUS_MANAGED": os.environ.get("JANUS_MANAGED", "1") != "0",
        "JANUS_PORT": _int("JANUS_PORT", 0),  # the child Janus's HTTP API port; 0: a free one
    }


DEFAULTS: dict[str, Any] = {
    "SQLALCHEMY_ENGINE_OPTIONS": {},
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,
    "WTF_CSRF_CHECK_DEFAULT": False,
    "BABEL_DEFAULT_LOCALE": "vi",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
    "LANGUAGES": ("vi", "en"),
    "API_TITLE": "trainer",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": None,
    "OPENAPI_REDOC_PATH": "docs",
    "OPENAPI_REDOC_URL": "/static/vendor/redoc-2.5.4.standalone.js",
    # At most one live push per session and kind this often: a change waits up to this long.
    # 0.25 kept the p99 check-in -> 1,000 watchers near 390 ms; 0.1 brings it to 215-265 ms
    # for about 5 % more of a core at 200 check-ins/s (bench/README.md, table 2).
    "LIVE_COALESCE_S": 0.1,
    "SITE_OFFLINE_AFTER_S": 30,
    # How long a check-in, walk-in or undo waits for its turn to write a session's attendance
    # (trainer.checkin.counters.turn) before a 503 with Retry-After: under the check-in
    # page's own 15 s request timeout, so that the phone hears the answer.
    "CHECKIN_WAIT_S": 10,
    "JSON_SORT_KEYS": False,
    "PASSWORD_HASH_METHOD": "scrypt",
}
