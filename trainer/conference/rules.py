"""How Janus's events become a site's media status: pure functions on a `ConferenceSite`.

`apply` records what an event says (the PeerConnection is up or gone; Janus receives a stream
or not; the link is slow); `settle` turns those facts into `media`:

- never: the site has not been on the call yet;
- connected: every stream Janus received from the site on this connection still arrives;
- degraded: one of them stopped while the other still arrives (after GRACE_S: when a tab dies
  audio and video stop about a second apart, and that is "lost", not "degraded"), or Janus
  reported a slow link in the last SLOW_S seconds;
- lost: the site was on the call and is no longer (page closed, network gone, Janus down).

Leaving the call counts a drop and adds the stretch to `connected_s`; the end of the session
(`call_ended`) adds the stretch without a drop.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from trainer.conference.models import ConferenceSite

GRACE_S = 1.5
SLOW_S = 10.0
ON_CALL = ("connected", "degraded")


def new_site(session_id: int, site_id: int) -> ConferenceSite:
    return ConferenceSite(session_id=session_id, site_id=site_id, media="never", video=False,
                          audio=False, video_seen=False, audio_seen=False, webrtc_up=False,
                          muted=False, connected_s=0, drops=0)


# --------------------------------------------------------------------------- facts


def webrtc_up(site: ConferenceSite, now: datetime) -> None:
    site.webrtc_up = True
    site.last_seen = now


def stream(site: ConferenceSite, kind: str, receiving: bool, now: datetime) -> None:
    if kind not in ("audio", "video"):
        return
    setattr(site, kind, receiving)
    if receiving:
        setattr(site, f"{kind}_seen", True)
    site.streams_at = now
    site.last_seen = now


def slow_link(site: ConferenceSite, now: datetime) -> None:
    site.slow_at = now
    site.last_seen = now


def gone(site: ConferenceSite, now: datetime) -> None:
    """The site's connection ended: hangup, handle detached, left the room, Janus down."""
    if site.webrtc_up or site.media in ON_CALL:
        site.last_seen = now
    site.webrtc_up = site.video = site.audio = False
    site.video_seen = site.audio_seen = False
    site.muted = False  # Janus mutes a publisher's streams, and a new connection has new ones
    site.hand_raised_at = None  # off the call: it asks again when it is back
    site.slow_at = None


# --------------------------------------------------------------------------- status


def target(site: ConferenceSite, now: datetime) -> tuple[str, datetime | None]:
    """The media state the facts call for, and when to look again (a pending grace or a
    slow-link mark running out), or None."""
    current = site.media or "never"
    if not site.webrtc_up:
        return ("never" if current == "never" else "lost"), None
    seen = [k for k in ("audio", "video") if getattr(site, f"{k}_seen")]
    up = [k for k in seen if getattr(site, k)]
    if not seen:
        return current, None  # the PeerConnection is up; its media has not arrived yet
    if not up:
        return ("never" if current == "never" else "lost"), None
    if len(up) < len(seen):
        pending_until = (site.streams_at or now) + timedelta(seconds=GRACE_S)
        if now < pending_until and current in ON_CALL:
            return current, pending_until
        return "degraded", None
    if site.slow_at is not None:
        slow_until = site.slow_at + timedelta(seconds=SLOW_S)
        if now < slow_until:
            return "degraded", slow_until
    return "connected", None


def settle(site: ConferenceSite, now: datetime) -> tuple[bool, datetime | None]:
    """Move `media` to what the facts call for, keeping the counts; answers whether it
    changed and when to settle again (None: only on the next event)."""
    new, again = target(site, now)
    old = site.media or "never"
    if new == old:
        return False, again
    if new in ON_CALL and old not in ON_CALL:
        site.on_since = now
        if site.first_joined_at is None:
            site.first_joined_at = now
    elif old in ON_CALL and new not in ON_CALL:
        site.connected_s = (site.connected_s or 0) + stretch_s(site, now)
        site.on_since = None
        site.drops = (site.drops or 0) + 1
    site.media = new
    site.since = now
    site.last_seen = now
    return True, again


def call_ended(site: ConferenceSite, now: datetime) -> bool:
    """The session ended and its call with it: the site is off the call ("lost": no longer on
    it) with its stretch added to `connected_s`, but no drop counted (nobody dropped out).
    Answers whether its state changed."""
    on_call = site.media in ON_CALL
    gone(site, now)
    if not on_call:
        return False
    site.connected_s = (site.connected_s or 0) + stretch_s(site, now)
    site.on_since = None
    site.media = "lost"
    site.since = now
    return True


def stretch_s(site: ConferenceSite, now: datetime) -> int:
    if site.on_since is None:
        return 0
    return max(0, int((now - site.on_since).total_seconds()))


def connected_seconds(site: ConferenceSite, now: datetime) -> int:
    """Seconds on the call so far, the running stretch included."""
    return (site.connected_s or 0) + stretch_s(site, now)
