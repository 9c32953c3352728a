"""Bridge points (điểm cầu) and the communes / centres under each."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer.dbtypes import StrEnum, UTCDateTime, enum_values, sort_key_type, utcnow
from trainer.extensions import db


class SiteKind(StrEnum):
    HOST = "host"
    BRIDGE = "bridge"


class Site(db.Model):  # type: ignore[name-defined,misc]
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_folded: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[SiteKind] = mapped_column(
        Enum(SiteKind, name="site_kind", native_enum=False, values_callable=enum_values, length=16),
        default=SiteKind.BRIDGE,
    )
    address: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    units: Mapped[list[Unit]] = relationship(
        back_populates="site", order_by="Unit.sort_key", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Site {self.code}>"


class Unit(db.Model):  # type: ignore[name-defined,misc]
    """A commune, ward or town and its community learning centre."""

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    name_folded: Mapped[str] = mapped_column(String(200))
    sort_key: Mapped[str] = mapped_column(sort_key_type())
    centre_name: Mapped[str | None] = mapped_column(String(300))
    rating: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    site: Mapped[Site] = relationship(back_populates="units")

    __table_args__ = (UniqueConstraint("site_id", "name_folded"),)
