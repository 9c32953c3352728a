"""Certificates of completion: one per session and participant, with a verification code."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, UniqueConstraint
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

    session: Mapped[TrainingSession] = relationship()
    participant: Mapped[Participant] = relationship()

    __table_args__ = (UniqueConstraint("session_id", "participant_id"),)
