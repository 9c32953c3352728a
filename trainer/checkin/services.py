"""Check-in: the rules, the attendance counts, site status and presence, the roll-call of sites.

Every entry point (pages, JSON API, Socket.IO) calls these functions; they check permissions,
own the commit, and push live updates after it.

Decisions (see also docs in the API schemas):
- Idempotency: a check-in is unique per (session, participant) and per `client_id`, both
  enforced by the database. A retry (same `client_id`) or a second scan at the same site
  answers the stored check-in (created=False); a race between two requests is settled by the
  unique constraints inside a SAVEPOINT, so nothing is ever counted twice.
- Device time (`at`, offline capture): kept in Checkin.device_at beside Checkin.server_at;
  Checkin.at is the device time when given, else the server time. Flags (pretix style):
  "offline" (device time given), "late_upload" (uploaded more than 2 minutes after capture),
  "clock_skew" (device time more than 2 minutes ahead of the server, or before the session's
  check-in window opened), "after_end" (taken in the grace period after the session ended),
  "other_site_roster" (registered for this session at another site), "not_registered" (not on
  this session's roster at all). A flagged check-in counts like any other; organisers review
  them in `flagged()`.
- Attendance counts a person at the site where they checked in.
- Window: a scheduled session opens for check-in CHECKIN_OPENS_BEFORE_MIN (60) minutes before
  it starts; a live one is open; an ended one is closed, except during the session's
  `checkin_grace_minutes` after it ended, and except offline captures whose device time lies
  within the session (accepted, flagged late_upload). Refusals are 409 "checkin-closed".
- Site status shown on the wall: "offline" while no coordinator page of the site is connected
  (pages expire SITE_OFFLINE_AFTER_S after their last heartbeat or disconnect), else the
  status the coordinator reported ("online" until they report otherwise)."""

from trainer.checkin.attendance import (  # noqa: F401
    attendance,
    roster,
    watch,
)
from trainer.checkin.commands import (  # noqa: F401
    CheckinResult,
    check_in,
    checkin_body,
    flagged,
    resolve_issue,
    undo,
    walk_in,
)
from trainer.checkin.presence import (  # noqa: F401
    confirm_rollcall,
    end_rollcall,
    page_connected,
    page_gone,
    page_heartbeat,
    set_site_status,
    shown_status,
    site_board,
    site_status,
    start_presence_sweeper,
    start_rollcall,
    sweep_presence,
)
from trainer.checkin.rules import (  # noqa: F401
    AFTER_END,
    CLOCK_SKEW,
    CLOCK_TOLERANCE,
    FLAGS,
    LATE_UPLOAD,
    LATE_UPLOAD_AFTER,
    METHODS,
    NOT_REGISTERED,
    NOTE_MAX,
    OFFLINE,
    OTHER_SITE_ROSTER,
    SEXES,
    SITE_STATUSES,
    CheckedInElsewhere,
    CheckinClosed,
    CheckinUndone,
    checkin_window,
    get_session,
    iso,
    pages_room,
    require_session_viewer,
    session_for_site,
    session_site_ids,
    socket_user,
)

__all__ = [
    "AFTER_END",
    "CLOCK_SKEW",
    "CLOCK_TOLERANCE",
    "CheckedInElsewhere",
    "CheckinClosed",
    "CheckinResult",
    "CheckinUndone",
    "FLAGS",
    "LATE_UPLOAD",
    "LATE_UPLOAD_AFTER",
    "METHODS",
    "NOTE_MAX",
    "NOT_REGISTERED",
    "OFFLINE",
    "OTHER_SITE_ROSTER",
    "SEXES",
    "SITE_STATUSES",
    "attendance",
    "check_in",
    "checkin_body",
    "checkin_window",
    "confirm_rollcall",
    "end_rollcall",
    "flagged",
    "get_session",
    "iso",
    "page_connected",
    "page_gone",
    "page_heartbeat",
    "pages_room",
    "require_session_viewer",
    "resolve_issue",
    "roster",
    "session_for_site",
    "session_site_ids",
    "set_site_status",
    "shown_status",
    "site_board",
    "site_status",
    "socket_user",
    "start_presence_sweeper",
    "start_rollcall",
    "sweep_presence",
    "undo",
    "walk_in",
    "watch",
]
