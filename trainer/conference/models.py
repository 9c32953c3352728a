"""The built-in conference's tables: the Janus room of a session, each site's media status and
the Janus handles trainer has seen (to know which site a media event is about).

The provider itself is `TrainingSession.conference_provider` ('builtin', 'link' or None).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from trainer.dbtypes import UTCDateTime, utcnow
from trainer.extensions import db

MEDIA_STATES = ("never", "connected", "degraded", "lost")
RECORDING_STATES = ("recording", "converting", "attached", "failed")


class ConferenceRoom(db.Model):  # type: ignore[name-defined,misc]
    """The Janus VideoRoom of a builtin session, with the secrets trainer keeps for it."""

    __tablename__ = "conference_rooms"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("training_session.id", ondelete="CASCADE"), primary_key=True)
    janus_room: Mapped[int] = mapped_column(BigInteger, unique=True)
    pin: Mapped[str] = mapped_column(String(64))
    secret: Mapped[str] = mapped_column(String(64))
    floor_site_id: Mapped[int | None] = mapped_column(
        ForeignKey("site.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recording_since: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: not recording


class ConferenceSite(db.Model):  # type: ignore[name-defined,misc]
    """A site's media on the call, from Janus's events (never from a page's word).

    `connected_s` accumulates finished stretches on the call; the running one started at
    `on_since`. `video`/`audio`: Janus receives that stream now; `*_seen`: it did during the
    current connection (a site without a camera is not "degraded" for lacking video).
    """

    __tablename__ = "conference_sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column()
    site_id: Mapped[int] = mapped_column(index=True)
    media: Mapped[str] = mapped_column(String(16), default="never")
    video: Mapped[bool] = mapped_column(default=False)
    audio: Mapped[bool] = mapped_column(default=False)
    video_seen: Mapped[bool] = mapped_column(default=False)
    audio_seen: Mapped[bool] = mapped_column(default=False)
    webrtc_up: Mapped[bool] = mapped_column(default=False)
    muted: Mapped[bool] = mapped_column(default=False)  # by the host, at Janus (moderate)
    hand_raised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # asks for the floor
    since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    on_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    streams_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    slow_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    connected_s: Mapped[int] = mapped_column(default=0)
    drops: Mapped[int] = mapped_column(default=0)
    janus_session_id: Mapped[int | None] = mapped_column(BigInteger)
    janus_handle_id: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        UniqueConstraint("session_id", "site_id"),
        ForeignKeyConstraint(["session_id", "site_id"],
                             ["session_site.session_id", "session_site.site_id"],
                             ondelete="CASCADE"),
        CheckConstraint("media IN ('never', 'connected', 'degraded', 'lost')",
                        name="media_state"),
    )


class ConferenceHandle(db.Model):  # type: ignore[name-defined,misc]
    """A Janus plugin handle opened with a token trainer issued: whose it is (a site of a
    session, or the host when `site_id` is None) and whether it publishes."""

    __tablename__ = "conference_handles"

    handle_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    janus_session_id: Mapped[int] = mapped_column(BigInteger, index=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("training_session.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int | None] = mapped_column()
    publisher: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConferenceRecording(db.Model):  # type: ignore[name-defined,misc]
    """One publisher recorded by Janus for a stretch: the host, or the site holding the floor
    (a new row when the floor moves or the publisher joins again). Janus writes
    `<basename>-audio-<n>.mjr` / `-video-<n>.mjr` in the recordings folder; after the stop they
    are converted (`janus-pp-rec`) and attached to the session as materials."""

    __tablename__ = "conference_recordings"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("training_session.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int | None] = mapped_column()  # None: the host
    janus_session_id: Mapped[int | None] = mapped_column(BigInteger)
    janus_handle_id: Mapped[int | None] = mapped_column(BigInteger)
    basename: Mapped[str] = mapped_column(String(100), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="recording")
    error: Mapped[str | None] = mapped_column(String(1000))
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    video_material_id: Mapped[int | None] = mapped_column(
        ForeignKey("material.id", ondelete="SET NULL"))
    audio_material_id: Mapped[int | None] = mapped_column(
        ForeignKey("material.id", ondelete="SET NULL"))

    __table_args__ = (
        CheckConstraint("state IN ('recording', 'converting', 'attached', 'failed')",
                        name="recording_state"),
    )
