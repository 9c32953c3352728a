"""Training materials: files (kept by content hash, with versions) and links, per topic."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer.dbtypes import StrEnum, UTCDateTime, enum_values, utcnow
from trainer.extensions import db

if TYPE_CHECKING:
    from trainer.auth.models import User


class MaterialKind(StrEnum):
    FILE = "file"
    LINK = "link"


class Visibility(StrEnum):
    STAFF = "staff"  # people with an account only
    SHARED = "shared"  # also trainees, without an account


class Topic(db.Model):  # type: ignore[name-defined,misc]
    """A subject materials are filed under; "management" and "gender" always exist."""

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=100)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (CheckConstraint("key <> ''", name="key_not_empty"),)


class Blob(db.Model):  # type: ignore[name-defined,misc]
    """File content, stored once under DATA_DIR/files/ab/cd/<sha256>."""

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("size > 0", name="size_positive"),
        CheckConstraint("length(sha256) = 64", name="sha256_length"),
    )


class Material(db.Model):  # type: ignore[name-defined,misc]
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    title_folded: Mapped[str] = mapped_column(String(300), index=True)
    topic_key: Mapped[str] = mapped_column(
        ForeignKey("topic.key", ondelete="RESTRICT"), index=True
    )
    language: Mapped[str] = mapped_column(String(8), default="vi")
    description: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[MaterialKind] = mapped_column(
        Enum(MaterialKind, name="material_kind", native_enum=False,
             values_callable=enum_values, length=8)
    )
    url: Mapped[str | None] = mapped_column(String(2000))
    visibility: Mapped[Visibility] = mapped_column(
        Enum(Visibility, name="material_visibility", native_enum=False,
             values_callable=enum_values, length=8),
        default=Visibility.STAFF,
    )
    training_id: Mapped[int | None] = mapped_column(
        ForeignKey("training.id", ondelete="SET NULL"), index=True
    )
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("training_session.id", ondelete="SET NULL"), index=True
    )
    agenda_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("agenda_item.id", ondelete="SET NULL"), index=True
    )
    # The number of the version served (files only); earlier versions stay downloadable.
    current_version: Mapped[int | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    topic: Mapped[Topic] = relationship()
    created_by: Mapped[User | None] = relationship()
    versions: Mapped[list[MaterialVersion]] = relationship(
        back_populates="material", order_by="MaterialVersion.number",
        cascade="all, delete-orphan", passive_deletes=True,
    )

    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN training_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN session_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN agenda_item_id IS NULL THEN 0 ELSE 1 END) <= 1",
            name="one_attachment",
        ),
        CheckConstraint(
            "(kind = 'link' AND url IS NOT NULL AND current_version IS NULL)"
            " OR (kind = 'file' AND url IS NULL AND current_version IS NOT NULL)",
            name="kind_fields",
        ),
        CheckConstraint("title <> ''", name="title_not_empty"),
    )

    @property
    def version(self) -> MaterialVersion | None:
        """The version served now (None for links)."""
        for v in self.versions:
            if v.number == self.current_version:
                return v
        return None

    @property
    def is_file(self) -> bool:
        return self.kind == MaterialKind.FILE

    @property
    def is_shared(self) -> bool:
        return self.visibility == Visibility.SHARED

    def __repr__(self) -> str:
        return f"<Material {self.id} {self.kind} {self.title!r}>"


class MaterialVersion(db.Model):  # type: ignore[name-defined,misc]
    """One uploaded file of a material; replacing the file adds a version."""

    __tablename__ = "material_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    material_id: Mapped[int] = mapped_column(ForeignKey("material.id", ondelete="CASCADE"))
    number: Mapped[int]
    blob_sha256: Mapped[str] = mapped_column(
        ForeignKey("blob.sha256", ondelete="RESTRICT"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(100))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    material: Mapped[Material] = relationship(back_populates="versions")
    uploaded_by: Mapped[User | None] = relationship()

    __table_args__ = (
        UniqueConstraint("material_id", "number"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("filename <> ''", name="filename_not_empty"),
    )

    @property
    def sha256(self) -> str:
        return self.blob_sha256


class MaterialDownload(db.Model):  # type: ignore[name-defined,misc]
    """One download: counted per material, per site (when known) and per local day."""

    __tablename__ = "material_download"

    id: Mapped[int] = mapped_column(primary_key=True)
    material_id: Mapped[int] = mapped_column(ForeignKey("material.id", ondelete="CASCADE"))
    version: Mapped[int | None]
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id", ondelete="SET NULL"),
                                                index=True)
    day: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    public: Mapped[bool] = mapped_column(default=False)
    # an anonymous downloader (HMAC of address and browser), to count each once a day
    visitor: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_material_download_material_id_site_id_day", "material_id", "site_id", "day"),
    )
