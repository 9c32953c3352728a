"""Participants (trainees): names kept apart, a folded search column and a sort key."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer.dbtypes import StrEnum, UTCDateTime, enum_values, sort_key_type, utcnow
from trainer.extensions import db

if TYPE_CHECKING:
    from trainer.sites.models import Site, Unit


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    UNSPECIFIED = "unspecified"


class Participant(db.Model):  # type: ignore[name-defined,misc]
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    family_name: Mapped[str] = mapped_column(String(100), default="")
    middle_name: Mapped[str] = mapped_column(String(100), default="")
    given_name: Mapped[str] = mapped_column(String(100), default="")
    name_folded: Mapped[str] = mapped_column(String(200))
    sort_key: Mapped[str] = mapped_column(sort_key_type())
    sex: Mapped[Sex] = mapped_column(
        Enum(Sex, name="sex", native_enum=False, values_callable=enum_values, length=16),
        default=Sex.UNSPECIFIED,
    )
    birth_year: Mapped[int | None]
    position: Mapped[str | None] = mapped_column(String(200))
    unit: Mapped[str | None] = mapped_column(String(200))
    unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("unit.id", ondelete="SET NULL"), index=True
    )
    phone: Mapped[str | None] = mapped_column(String(20))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    site: Mapped[Site] = relationship()
    unit_ref: Mapped[Unit | None] = relationship()

    __table_args__ = (
        Index("ix_participant_site_id_sort_key", "site_id", "sort_key"),
        Index("ix_participant_sort_key", "sort_key"),
        Index("ix_participant_name_folded", "name_folded"),
        CheckConstraint("birth_year IS NULL OR (birth_year >= 1900 AND birth_year <= 2100)",
                        name="birth_year_range"),
    )

    def __repr__(self) -> str:
        return f"<Participant {self.code} {self.full_name}>"
