"""`trainer backup` / `trainer restore`: a consistent copy taken while the server writes."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from trainer import create_app
from trainer.backup import services
from trainer.extensions import db

from .conftest import base_config  # type: ignore[import-not-found]


@pytest.fixture
def sqlite_app(tmp_path: Path) -> Any:
    app = create_app(base_config(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'live.db'}",
                                 DATA_DIR=str(tmp_path)))
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()


def _writer(app: Any, stop: threading.Event, written: list[int]) -> None:
    from trainer.people.services import create
    from trainer.sites.services import create_site

    with app.app_context():
        site = create_site(None, code="BK", name="Huyện Sao Lưu")
        i = 0
        while not stop.is_set() and i < 2000:
            create(None, {"full_name": f"Nguyễn Văn Sao {i}", "sex": "male", "site_id": site.id})
            written.append(i)
            i += 1
        db.session.remove()


def test_backup_during_writes_is_consistent_and_restores(sqlite_app: Any, tmp_path: Path) -> None:
    from trainer.people.models import Participant

    stop, written = threading.Event(), []
    writer = threading.Thread(target=_writer, args=(sqlite_app, stop, written))
    writer.start()
    try:
        while len(written) < 50:
            threading.Event().wait(0.01)
        result = services.backup(tmp_path / "copy.sqlite3")
    finally:
        stop.set()
        writer.join(timeout=60)
    assert result.path.exists()
    total_at_end = len(written)

    conn = sqlite3.connect(result.path)
    (integrity,) = conn.execute("PRAGMA integrity_check").fetchone()
    in_copy = conn.execute("SELECT count(*) FROM participant").fetchone()[0]
    orphans = conn.execute(
        "SELECT count(*) FROM participant p LEFT JOIN site s ON s.id = p.site_id "
        "WHERE s.id IS NULL").fetchone()[0]
    conn.close()
    assert integrity == "ok"
    assert orphans == 0
    assert 50 <= in_copy <= total_at_end  # a snapshot taken mid-way, never a torn one

    services.restore(result.path)
    restored = db.session.scalar(select(func.count()).select_from(Participant))
    assert restored == in_copy


def test_restore_refuses_a_file_that_is_not_a_trainer_database(sqlite_app: Any,
                                                                tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.sqlite3"
    bogus.write_bytes(b"this is not sqlite")
    with pytest.raises(services.BackupError):
        services.restore(bogus)
    other = tmp_path / "other.sqlite3"
    sqlite3.connect(other).execute("CREATE TABLE x (id INTEGER)").connection.close()
    with pytest.raises(services.BackupError, match="not a trainer database"):
        services.restore(other)


def test_backup_and_restore_commands(sqlite_app: Any, tmp_path: Path) -> None:
    runner = sqlite_app.test_cli_runner()
    target = tmp_path / "cli.sqlite3"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert "Backup written" in result.output and target.exists()
    result = runner.invoke(args=["restore", "--yes", str(target)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["restore", "--yes", str(tmp_path / "missing.sqlite3")])
    assert result.exit_code != 0
