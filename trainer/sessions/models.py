"""Trainings, sessions across bridge points, agendas, rosters and check-ins."""

from __future__ import annotations

from datetime import datetime, time
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Enum,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer.dbtypes import StrEnum, UTCDateTime, enum_values, utcnow
from trainer.extensions import db

if TYPE_CHECKING:
    from trainer.auth.models import User
    from trainer.people.models import Participant
    from trainer.sites.models import Site


class SessionStatus(StrEnum):
    SCHEDULED = "scheduled"
    LIVE = "live"
    ENDED = "ended"


class SiteStatus(StrEnum):
    UNKNOWN = "unknown"
    ONLINE = "online"
    OFFLINE = "offline"
    ISSUE = "issue"


class Training(db.Model):  # type: ignore[name-defined,misc]
    """A programme: a series of sessions."""

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    year: Mapped[int]
    lead_agency: Mapped[str | None] = mapped_column(String(300))
    partners: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str | None] = mapped_column(Text)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sessions: Mapped[list[TrainingSession]] = relationship(
        back_populates="training", order_by="TrainingSession.starts_at"
    )


class TrainingSession(db.Model):  # type: ignore[name-defined,misc]
    """One sitting of a training, held at a host site and several bridge points at once."""

    __tablename__ = "training_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    training_id: Mapped[int | None] = mapped_column(
        ForeignKey("training.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    host_site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="RESTRICT"))
    status: Mapped[SessionStatus] = mapped_column(
        Enum(SessionStatus, name="session_status", native_enum=False,
             values_callable=enum_values, length=16),
        default=SessionStatus.SCHEDULED,
    )
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str | None] = mapped_column(Text)
    conference_url: Mapped[str | None] = mapped_column(String(1000))
    # 'builtin' (trainer's room on Janus), 'link' (conference_url) or None.
    conference_provider: Mapped[str | None] = mapped_column(String(16))
    checkin_grace_minutes: Mapped[int] = mapped_column(default=0)
    attendance_version: Mapped[int] = mapped_column(default=0)
    ics_sequence: Mapped[int] = mapped_column(default=0)
    rollcall_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    training: Mapped[Training | None] = relationship(back_populates="sessions")
    host_site: Mapped[Site] = relationship()
    session_sites: Mapped[list[SessionSite]] = relationship(
        back_populates="session", cascade="all, delete-orphan"
    )
    agenda: Mapped[list[AgendaItem]] = relationship(
        back_populates="session", order_by="AgendaItem.position", cascade="all, delete-orphan"
    )

    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),)


# The coordinator accounts named for a site of a session (who runs the roll call there).
session_site_coordinator = Table(
    "session_site_coordinator",
    db.metadata,
    Column("session_id", Integer, primary_key=True),
    Column("site_id", Integer, primary_key=True, index=True),
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True),
    ForeignKeyConstraint(["session_id", "site_id"],
                         ["session_site.session_id", "session_site.site_id"],
                         ondelete="CASCADE"),
)


class SessionSite(db.Model):  # type: ignore[name-defined,misc]
    """A site taking part in a session, with its chair and its reported status."""

    session_id: Mapped[int] = mapped_column(
        ForeignKey("training_session.id", ondelete="CASCADE"), primary_key=True
    )
    site_id: Mapped[int] = mapped_column(
        ForeignKey("site.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    chair_name: Mapped[str | None] = mapped_column(String(200))
    chair_title: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[SiteStatus] = mapped_column(
        Enum(SiteStatus, name="site_status", native_enum=False,
             values_callable=enum_values, length=16),
        default=SiteStatus.UNKNOWN,
    )
    status_note: Mapped[str | None] = mapped_column(String(500))
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rollcall_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last time a check-in page of the site was heard from, kept when its page rows
    # expire: the wall tells a site that never opened its page from one that dropped.
    page_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    session: Mapped[TrainingSession] = relationship(back_populates="session_sites")
    site: Mapped[Site] = relationship()
    coordinators: Mapped[list[User]] = relationship(
        secondary=session_site_coordinator, order_by="User.username"
    )


class AgendaItem(db.Model):  # type: ignore[name-defined,misc]
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("training_session.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    starts_at: Mapped[time | None] = mapped_column(Time)
    title: Mapped[str] = mapped_column(String(300))
    presenter: Mapped[str | None] = mapped_column(String(200))
    presenter_org: Mapped[str | None] = mapped_column(String(300))

    session: Mapped[TrainingSession] = relationship(back_populates="agenda")


class Registration(db.Model):  # type: ignore[name-defined,misc]
    """A participant expected at a session, at their home site."""

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_session.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="RESTRICT"))
    walk_in: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    participant: Mapped[Participant] = relationship()

    __table_args__ = (
        UniqueConstraint("session_id", "participant_id"),
        Index("ix_registration_session_id_site_id", "session_id", "site_id"),
    )


class Checkin(db.Model):  # type: ignore[name-defined,misc]
    """A participant present at a site for a session: at most one per session and participant."""

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_session.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="RESTRICT"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    server_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    device_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    client_id: Mapped[str | None] = mapped_column(String(36), unique=True)
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    method: Mapped[str] = mapped_column(String(16), default="manual")
    walk_in: Mapped[bool] = mapped_column(default=False)
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)

    participant: Mapped[Participant] = relationship()
    by_user: Mapped[User | None] = relationship()

    __table_args__ = (
        UniqueConstraint("session_id", "participant_id"),
        Index("ix_checkin_session_id_site_id", "session_id", "site_id"),
        {"sqlite_autoincrement": True},  # an undone check-in's id is never reused
    )


class CheckinIssue(db.Model):  # type: ignore[name-defined,misc]
    """A check-in that was refused or needs a look (e.g. an offline scan in conflict)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("training_session.id", ondelete="CASCADE"), index=True
    )
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE")
    )
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="RESTRICT"))
    client_id: Mapped[str | None] = mapped_column(String(36))
    reason: Mapped[str] = mapped_column(String(32))
    device_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    server_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
