"""Bridge points (điểm cầu) and the commune-level units (with their centres) under each.

Two pictures of a province are modelled: before 1 July 2025 a bridge point was a district-
level unit (thành phố, thị xã, huyện) with its communes under it; since then the district
level is gone and a bridge point is a commune-level unit (xã, phường, đặc khu) directly
under the province, the host being the province's own hall. A unit that was merged keeps
its row (so older reports still name it) with `ended_on` and a link to its successor.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer.dbtypes import StrEnum, UTCDateTime, enum_values, sort_key_type, utcnow
from trainer.extensions import db


class SiteKind(StrEnum):
    HOST = "host"
    BRIDGE = "bridge"


class SiteLevel(StrEnum):
    """The administrative level a bridge point stands for."""

    PROVINCE = "province"
    DISTRICT = "district"  # thành phố, thị xã, quận, huyện (until 30 June 2025)
    COMMUNE = "commune"  # xã, phường, thị trấn, đặc khu


class UnitLevel(StrEnum):
    COMMUNE = "commune"  # xã
    WARD = "ward"  # phường
    TOWN = "town"  # thị trấn (until 30 June 2025)
    SPECIAL_ZONE = "special_zone"  # đặc khu (since 1 July 2025)


def _name_sort_key(context: Any) -> str:
    from trainer.sites.levels import admin_sort_key

    return admin_sort_key(context.get_current_parameters()["name"])


def _site_level(context: Any) -> str:
    from trainer.sites.levels import site_level_of

    return site_level_of(context.get_current_parameters()["name"]).value


def _unit_level(context: Any) -> str | None:
    from trainer.sites.levels import unit_level_of

    level = unit_level_of(context.get_current_parameters()["name"])
    return level.value if level else None


def _enum(cls: type[StrEnum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, values_callable=enum_values, length=16)


class Site(db.Model):  # type: ignore[name-defined,misc]
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_folded: Mapped[str] = mapped_column(String(200), index=True)
    # Officials' order: city, towns, districts (or wards, then communes), then by name.
    # (server defaults: columns added to a table holding rows; the app always sets them)
    sort_key: Mapped[str] = mapped_column(sort_key_type(), default=_name_sort_key,
                                          server_default="9")
    kind: Mapped[SiteKind] = mapped_column(_enum(SiteKind, "site_kind"), default=SiteKind.BRIDGE)
    level: Mapped[SiteLevel] = mapped_column(_enum(SiteLevel, "site_level"),
                                             default=_site_level, server_default="district")
    address: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    units: Mapped[list[Unit]] = relationship(
        back_populates="site", order_by="Unit.sort_key", cascade="all, delete-orphan"
    )

    @property
    def current_units(self) -> list[Unit]:
        """The units as they are today (without those merged into another)."""
        return [u for u in self.units if u.ended_on is None]

    def __repr__(self) -> str:
        return f"<Site {self.code}>"


class Unit(db.Model):  # type: ignore[name-defined,misc]
    """A commune, ward, town or special zone and its community learning centre."""

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    name_folded: Mapped[str] = mapped_column(String(200))
    sort_key: Mapped[str] = mapped_column(sort_key_type(), default=_name_sort_key)
    level: Mapped[UnitLevel | None] = mapped_column(_enum(UnitLevel, "unit_level"),
                                                    default=_unit_level)
    centre_name: Mapped[str | None] = mapped_column(String(300))
    rating: Mapped[str | None] = mapped_column(String(32))
    # Merged into another unit: the day it ceased and what it became.
    ended_on: Mapped[date | None] = mapped_column(Date)
    successor_id: Mapped[int | None] = mapped_column(
        ForeignKey("unit.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    site: Mapped[Site] = relationship(back_populates="units")
    successor: Mapped[Unit | None] = relationship(remote_side=[id])

    __table_args__ = (UniqueConstraint("site_id", "name_folded"),)
