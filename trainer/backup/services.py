"""Consistent online backups of the embedded SQLite database, and restoring them.

PostgreSQL deployments use pg_dump / pg_restore (see README, "Backups"); `trainer backup`
runs pg_dump for them when it is installed.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app
from sqlalchemy.engine import make_url

from trainer.extensions import db


class BackupError(Exception):
    pass


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    tables: int


def _sqlite_path() -> Path | None:
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory database cannot be backed up")
    return Path(url.database)


def default_target() -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    folder = Path(current_app.config["DATA_DIR"]) / "backups"
    folder.mkdir(parents=True, exist_ok=True)
    suffix = "sqlite3" if _sqlite_path() else "dump"
    return folder / f"trainer-{stamp}.{suffix}"


def check_sqlite_file(path: Path) -> int:
    """Open a backup read-only, run integrity and foreign-key checks; return the table count."""
    if not path.is_file():
        raise BackupError(f"no such file: {path}")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"not a database: {exc}") from exc
    try:
        try:
            (result,) = conn.execute("PRAGMA integrity_check").fetchone()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"not a trainer database: {exc}") from exc
        if result != "ok":
            raise BackupError(f"integrity check failed: {result}")
        if conn.execute("PRAGMA foreign_key_check").fetchone() is not None:
            raise BackupError("foreign key check failed")
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not {"site", "participant", "user"} <= names:
            raise BackupError("not a trainer database (tables missing)")
        return len(names)
    finally:
        conn.close()


def backup(target: Path | None = None) -> BackupResult:
    target = Path(target) if target else default_target()
    target.parent.mkdir(parents=True, exist_ok=True)
    source = _sqlite_path()
    if source is None:
        return _pg_dump(target)
    partial = target.with_name(target.name + ".partial")
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(partial)
    try:
        # SQLite's online backup API: a consistent snapshot even while the server writes.
        src.backup(dst, pages=4096, sleep=0.005)
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()
    tables = check_sqlite_file(partial)
    partial.replace(target)
    return BackupResult(target, target.stat().st_size, tables)


def restore(source_file: Path) -> BackupResult:
    source_file = Path(source_file)
    target = _sqlite_path()
    if target is None:
        raise BackupError("restore PostgreSQL dumps with pg_restore (see README, Backups)")
    tables = check_sqlite_file(source_file)
    db.session.remove()
    db.engine.dispose()
    src = sqlite3.connect(f"file:{source_file}?mode=ro", uri=True)
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst)  # page-by-page copy under SQLite's locks: safe with other readers
    finally:
        dst.close()
        src.close()
    return BackupResult(target, target.stat().st_size, tables)


def _pg_dump(target: Path) -> BackupResult:
    exe = shutil.which("pg_dump")
    if exe is None:
        raise BackupError("pg_dump is not installed: install the PostgreSQL client tools")
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).set(drivername="postgresql")
    result = subprocess.run(  # noqa: S603 - fixed executable, arguments from our own config
        [exe, "--format=custom", "--file", str(target),
         url.render_as_string(hide_password=False)],
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise BackupError(result.stderr.strip() or "pg_dump failed")
    return BackupResult(target, target.stat().st_size, 0)
