"""The Alembic migrations build exactly the schema the models describe.

On a fresh SQLite file always; on PostgreSQL too when TEST_DATABASE_URL is set, in a schema
of its own that the test creates and drops. Nothing is ignored in the comparison.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from trainer import create_app
from trainer.extensions import db


def _app(url: str) -> Any:
    return create_app({"TESTING": True, "SECRET_KEY": "migrations",
                       "SQLALCHEMY_DATABASE_URI": url})


def _upgrade_and_compare(url: str) -> list[Any]:
    app = _app(url)
    with app.app_context():
        try:
            flask_migrate.upgrade()
            with db.engine.connect() as conn:
                context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                                 "compare_server_default": True})
                diff = compare_metadata(context, db.metadata)
                tables = set(inspect(conn).get_table_names())
            assert "alembic_version" in tables
            return list(diff)
        finally:
            db.session.remove()
            db.engine.dispose()


def test_migrations_match_the_models_on_sqlite(tmp_path: Path) -> None:
    diff = _upgrade_and_compare(f"sqlite:///{tmp_path / 'migrated.db'}")
    assert diff == [], "\n".join(map(str, diff))


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    """A URL whose connections work in a fresh schema of the test database (dropped after);
    a schema is quicker to drop than a database, which waits for a checkpoint."""
    url = make_url(os.environ["TEST_DATABASE_URL"]).set(drivername="postgresql+psycopg")
    name = f"trainer_migrations_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    try:
        scoped = url.update_query_dict({"options": f"-csearch_path={name}"})
        yield scoped.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        admin.dispose()


@pytest.mark.postgres
def test_migrations_match_the_models_on_postgresql(postgres_schema: str) -> None:
    diff = _upgrade_and_compare(postgres_schema)
    assert diff == [], "\n".join(map(str, diff))
