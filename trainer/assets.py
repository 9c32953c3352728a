"""Static files: versioned URLs kept for a year, and compressed responses.

Every `url_for('static', ...)` is `/static/v/<version>/<file>`, where the version is a digest
of the whole static folder: a browser keeps such a file for a year without asking again, and
a release that changes any file changes every URL. Because the version is a path segment, the
scripts' relative imports (`import "./api.js"`) carry it too. The plain `/static/<file>` stays
served (the service worker's list, old pages) and is revalidated on every use.

HTML, JSON, JS, CSS and SVG answers are compressed (Flask-Compress: brotli, zstd or gzip, as
the browser accepts) when they are worth it.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Flask, request
from flask_compress import Compress

YEAR_S = 365 * 24 * 3600
VERSIONED = "/static/v"
COMPRESS_MIMETYPES = [
    "text/html", "text/css", "text/plain", "text/csv", "text/javascript", "application/javascript",
    "application/json", "application/problem+json", "application/manifest+json", "image/svg+xml",
]


def _signature(folder: Path) -> tuple[tuple[str, int, int], ...]:
    return tuple(sorted((str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns)
                        for p in folder.rglob("*") if p.is_file()))


@lru_cache(maxsize=8)
def _digest(folder: str, signature: tuple[tuple[str, int, int], ...]) -> str:
    h = hashlib.sha256()
    for name, _size, _mtime in signature:
        h.update(name.encode())
        h.update((Path(folder) / name).read_bytes())
    return h.hexdigest()[:12]


def version(folder: Path) -> str:
    """A digest of the static folder's file names and contents."""
    return _digest(str(folder), _signature(folder))


def url_path(folder: Path) -> str:
    """The static URL path to give Flask: /static/v/<version>."""
    return f"{VERSIONED}/{version(folder)}"


def _static_view(app: Flask) -> Any:
    def static(filename: str) -> Any:
        """The file, read whole and closed at once (static files are small), so that it can
        be compressed like any other answer; conditional requests still get 304."""
        response = app.send_static_file(filename)
        if response.status_code == 200 and response.is_streamed:
            chunks: Any = response.response  # a file wrapper, iterated as bytes
            try:
                body = b"".join(chunks)
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
            response.direct_passthrough = False
            response.set_data(body)
        return response

    return static


def register(app: Flask) -> None:
    """Unversioned /static/ beside the versioned one, cache headers, compression."""
    view = _static_view(app)
    app.view_functions["static"] = view
    if app.static_url_path != "/static":
        app.add_url_rule("/static/<path:filename>", endpoint="static_plain", view_func=view)

    @app.after_request
    def cache_headers(response: Any) -> Any:
        if request.endpoint == "static" and response.status_code in (200, 304):
            if app.debug:
                response.headers["Cache-Control"] = "no-cache"
            else:
                response.headers["Cache-Control"] = f"public, max-age={YEAR_S}, immutable"
        elif request.endpoint == "static_plain":
            response.headers["Cache-Control"] = "no-cache"
        return response

    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESS_MIMETYPES)
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_BR_LEVEL", 5)
    # file downloads and other streams pass as they are
    app.config.setdefault("COMPRESS_STREAMS", False)
    Compress(app)
