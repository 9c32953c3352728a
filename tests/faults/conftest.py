"""Fault tests with real processes: a database per backend (SQLite in the test's folder, or a
PostgreSQL database of this module's own beside TEST_DATABASE_URL's), servers started and
always stopped."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support_servers import (
    Server,
    child_env,
    create_schema,
    postgres_database,
    sqlite_url,
)


@pytest.fixture(scope="module")
def pg_server_database(request: Any) -> Iterator[str]:
    """One PostgreSQL database per test module, dropped at its end; each test empties it."""
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("needs TEST_DATABASE_URL (PostgreSQL)")
    label = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")[:20]
    with postgres_database(f"faults_{label}") as url:
        yield url


def reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: Any, tmp_path: Path) -> str:
    """An empty schema on SQLite or PostgreSQL (the test is run once for each)."""
    if request.param == "postgres":
        url = request.getfixturevalue("pg_server_database")
        reset_postgres(url)
    else:
        url = sqlite_url(tmp_path)
    create_schema(url, tmp_path)
    return url


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """servers(name, database_url, **env) -> a started `trainer serve`; all stopped at the
    end of the test."""
    started: list[Server] = []

    def make(name: str, database_url: str, *, start: bool = True, **env: str) -> Server:
        server = Server(name, child_env(database_url, tmp_path, **env), tmp_path)
        started.append(server)
        return server.start() if start else server

    try:
        yield make
    finally:
        for server in started:
            server.stop()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
