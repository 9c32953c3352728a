"""Column types and helpers shared by every feature's models."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, String, TypeDecorator

INT_MAX = 2**31 - 1  # PostgreSQL's INTEGER: every id, and every number a client sends


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps them naive on disk)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def sort_key_type(length: int = 255) -> Any:
    """A string compared byte by byte (keys from trainer.text.sort_key), on every backend."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


StrEnum = enum.StrEnum


def enum_values(e: type[enum.Enum]) -> list[str]:
    return [m.value for m in e]


def commit_keeping_objects() -> None:
    """Commit without expiring what was loaded and written: what is read after it (the answer
    built from those objects, a live push) is what this transaction stored, without reading
    it back (no extra SELECT, and on SQLite no second write lock)."""
    from trainer.extensions import db

    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True
