"""What other features hear of a session's life (blinker signals, as Flask's own): a side
effect of a change stays with the feature it belongs to (the video call ends with the
session), and sessions imports none of them."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

status_changed = _signals.signal("session-status-changed")
"""Sent after the commit of a status change (the watchers have been told): sender the app;
keyword arguments `session_id`, `old` and `new` (SessionStatus). The change is made: a
receiver handles its own failures."""
