"""What an application keeps in memory, in one object: `app.extensions["trainer"]`.

Nothing here is the truth (the database is): these are bounded caches and the bookkeeping of
live pushes, made with the app and gone with it. Two apps in one process (tests) never see
each other's.
"""

from __future__ import annotations

import threading
from typing import Any

from cachetools import LRUCache
from flask import Flask, current_app

KEY = "trainer"


class AppState:
    def __init__(self, app: Flask) -> None:
        sessions = int(app.config.get("LIVE_SESSIONS_MAX", 1000))
        self.lock = threading.Lock()
        # per session: the attendance this process pushed last (trainer.checkin.push)
        self.pushes: LRUCache[int, Any] = LRUCache(maxsize=sessions)
        # per session: (when read, session created_at, body) shared by joining watchers
        self.snapshots: LRUCache[int, Any] = LRUCache(maxsize=sessions)
        self.building: dict[int, threading.Event] = {}  # snapshots being read right now
        # per (session, kind): pending and last coalesced pushes (trainer.live)
        self.scheduled: set[tuple[int, str]] = set()
        self.last_push: LRUCache[tuple[int, str], float] = LRUCache(maxsize=4 * sessions)
        # quiz content and draw plans: (expires, ...) per question / quiz
        self.quiz_content: LRUCache[int, Any] = LRUCache(maxsize=50_000)
        self.quiz_plans: LRUCache[int, Any] = LRUCache(maxsize=10_000)
        # per session: the turns of its attendance changes in this process
        # (trainer.checkin.counters.turn)
        self.change_turns: LRUCache[int, threading.BoundedSemaphore] = LRUCache(
            maxsize=sessions)
        self.presence_sweeper = False


def init_app(app: Flask) -> AppState:
    state = app.extensions[KEY] = AppState(app)
    return state


def app_state(app: Flask | None = None) -> AppState:
    target: Any = app if app is not None else current_app
    state: AppState = target.extensions[KEY]
    return state
