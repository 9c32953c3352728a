"""Check-in's own tables: which site pages are connected, and check-ins that were undone.

Check-ins themselves (Checkin, CheckinIssue, Registration, SessionSite) live in
trainer.sessions.models.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from trainer.dbtypes import UTCDateTime, utcnow
from trainer.extensions import db


class SitePresence(db.Model):  # type: ignore[name-defined,misc]
    """One open coordinator page of a site for a session (one row per Socket.IO connection).

    Kept in the database so every server process sees every page. A site counts as connected
    while one of its rows was seen within SITE_OFFLINE_AFTER_S; a page that disconnects keeps
    its row until then, so a reload does not flash the site offline on the wall.
    """

    __tablename__ = "site_presence"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("training_session.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), index=True)
    sid: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    connected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    gone: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (
        UniqueConstraint("sid", "session_id", "site_id"),
        Index("ix_site_presence_session_id_site_id", "session_id", "site_id"),
    )


class CheckinUndo(db.Model):  # type: ignore[name-defined,misc]
    """A check-in that was undone. Lets a late retry of its `client_id` (an offline queue that
    never saw the answer) be recognised instead of checking the person in again, and makes a
    repeated DELETE answer 204 again."""

    __tablename__ = "checkin_undo"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("training_session.id", ondelete="CASCADE"), index=True)
    checkin_id: Mapped[int] = mapped_column(unique=True)
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL"))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"))
    client_id: Mapped[str | None] = mapped_column(String(36), unique=True)
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime)
    undone_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))


class SiteAttendance(db.Model):  # type: ignore[name-defined,misc]
    """Who is present at a site of a session, by sex: counters changed in the transaction of
    each check-in, walk-in and undo (trainer.checkin.counters), so a live push carries what
    the request wrote without counting check-ins again. `version` is the session's
    attendance version of the site's last change."""

    __tablename__ = "site_attendance"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("training_session.id", ondelete="CASCADE"), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"),
                                         primary_key=True)
    female: Mapped[int] = mapped_column(default=0)
    male: Mapped[int] = mapped_column(default=0)
    unspecified: Mapped[int] = mapped_column(default=0)
    last_checkin_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=0)

    __table_args__ = (
        Index("ix_site_attendance_session_id_version", "session_id", "version"),
    )
