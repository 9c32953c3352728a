"""Certificates of completion (one per session and participant, with a verification code and
a number in the year's register) and the settings of the documents the department issues."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer.dbtypes import UTCDateTime, utcnow
from trainer.extensions import db

if TYPE_CHECKING:
    from trainer.people.models import Participant
    from trainer.sessions.models import TrainingSession


class Certificate(db.Model):  # type: ignore[name-defined,misc]
    """Issued the first time a participant's certificate is asked for; asking again gives the
    same code. `code` is random (secrets), 16 characters without look-alikes (~72 bits), so it
    cannot be guessed; the public page GET /verify/<code> confirms it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("training_session.id", ondelete="CASCADE"), index=True
    )
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    quiz_id: Mapped[int | None] = mapped_column(ForeignKey("quiz.id", ondelete="SET NULL"))
    percent: Mapped[float | None]
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # The register (sổ cấp giấy chứng nhận): numbered from 1 in each calendar year of issue.
    register_year: Mapped[int | None]
    register_number: Mapped[int | None]

    session: Mapped[TrainingSession] = relationship()
    participant: Mapped[Participant] = relationship()

    __table_args__ = (
        UniqueConstraint("session_id", "participant_id"),
        UniqueConstraint("register_year", "register_number", name="uq_certificate_register"),
    )


class DocumentSettings(db.Model):  # type: ignore[name-defined,misc]
    """Who issues the documents (certificates, reports) and who signs them. The row without a
    training is the default; a training's row overrides the fields it fills in."""

    id: Mapped[int] = mapped_column(primary_key=True)
    training_id: Mapped[int | None] = mapped_column(
        ForeignKey("training.id", ondelete="CASCADE"), unique=True
    )
    parent_agency: Mapped[str] = mapped_column(String(200), default="")
    issuing_agency: Mapped[str] = mapped_column(String(200), default="")
    place_name: Mapped[str] = mapped_column(String(100), default="")
    signer_authority: Mapped[str] = mapped_column(String(100), default="")
    signer_title: Mapped[str] = mapped_column(String(100), default="")
    signer_name: Mapped[str] = mapped_column(String(100), default="")
    signature_png: Mapped[bytes | None] = mapped_column(LargeBinary)
    seal_png: Mapped[bytes | None] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    __table_args__ = (
        CheckConstraint("signature_png IS NULL OR length(signature_png) <= 1048576",
                        name="signature_size"),
        CheckConstraint("seal_png IS NULL OR length(seal_png) <= 1048576", name="seal_size"),
    )
