"""Live `attendance` pushes: only the sites that changed, built from what the requests wrote.

API.md lets a push carry "all sites or only the sites that changed". With 1,000 sites a full
body is about 130 kB: four pushes a second to 1,000 watchers would be more than a server
process can send. So each process pushes, per session, the sites changed since its own
previous push, with totals kept from its last full body plus those changes.

- A check-in, walk-in or undo changes its site's counters and the session's attendance
  version in its own transaction (trainer.checkin.counters) and, after the commit, hands the
  site's row and that version to `changed()`. The next push (coalesced by trainer.live) sends
  those rows as they are: nothing is counted again.
- A version this process did not hand over (another server process took the check-in) shows
  as a gap between the versions it knows and the session's version; the push then reads the
  counters of the sites changed since its previous push (SiteAttendance.version), so it still
  covers every change a watcher has not seen, whichever process made it.
- `registered` (registrations change without a version) is read when the push is built, for
  the sites it carries and for the total.
- The first push of a process carries every site, unless the process serves alone (no
  REDIS_URL): then its state starts from the first watcher's snapshot (`watch_snapshot`), so
  that 5,000 screens are not sent 1,000 sites each. LIVE_FULL_EVERY_S > 0 also sends every
  site that often.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext
from sqlalchemy import func, select

from trainer import live
from trainer.checkin.models import SiteAttendance
from trainer.errors import NotFound
from trainer.extensions import db
from trainer.sessions.models import Registration, TrainingSession
from trainer.state import app_state

COUNTS = ("registered", "present", "female", "male", "unspecified")


@dataclass
class SessionPush:
    created_at: datetime | None  # tells a session apart from an earlier one with its id
    version: int  # the version of this process's last push (or of the snapshot it began from)
    sites: dict[int, dict[str, Any]]  # every site's row as last sent
    full_at: float
    pending: dict[int, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    versions: set[int] = field(default_factory=set)  # versions handed over since the push
    lock: threading.Lock = field(default_factory=threading.Lock)


def _state(session_id: int) -> SessionPush | None:
    state = app_state()
    with state.lock:
        push: SessionPush | None = state.pushes.get(session_id)
    return push


def _seed(session_id: int, created_at: datetime | None, body: dict[str, Any]) -> None:
    state = app_state()
    with state.lock:
        state.pushes[session_id] = SessionPush(
            created_at, body["version"], {r["site_id"]: dict(r) for r in body["sites"]},
            time.monotonic())


def changed(session_id: int, version: int, row: dict[str, Any]) -> None:
    """After the commit of a change of `row["site_id"]`'s attendance (its counters as that
    transaction left them, at `version`): schedule the push that carries it."""
    push = _state(session_id)
    if push is not None:
        with push.lock:
            if version > push.version:
                known = push.pending.get(row["site_id"])
                if known is None or known[0] < version:
                    push.pending[row["site_id"]] = (version, row)
                push.versions.add(version)
    live.schedule(session_id, "attendance", lambda: _message(session_id))


def _message(session_id: int) -> tuple[str, dict[str, Any]] | None:
    body = next_push(session_id)
    return None if body is None else ("attendance", body)


def _head(session_id: int) -> tuple[int, datetime | None]:
    head = db.session.execute(select(TrainingSession.attendance_version,
                                     TrainingSession.created_at)
                              .where(TrainingSession.id == session_id)).first()
    if head is None:
        raise NotFound(gettext("Unknown session."))
    return int(head[0]), head[1]


def next_push(session_id: int) -> dict[str, Any] | None:
    """This process's next `attendance` push for a session: the full body the first time and
    every LIVE_FULL_EVERY_S seconds, else the sites changed since its previous push (None when
    nothing changed since)."""
    from trainer.checkin.services import attendance

    every = float(current_app.config.get("LIVE_FULL_EVERY_S", 0))
    version, created_at = _head(session_id)
    push = _state(session_id)
    if (push is None or (every > 0 and time.monotonic() - push.full_at > every)
            or push.created_at != created_at or version < push.version):
        body = attendance(session_id)
        _seed(session_id, created_at, body)
        return body
    with push.lock:
        if version <= push.version:
            return None  # this process's previous push already carried it
        rows = {site: row for site, (v, row) in push.pending.items() if v <= version}
        push.pending = {s: p for s, p in push.pending.items() if p[0] > version}
        handed = {v for v in push.versions if v <= version}
        push.versions -= handed
        if not set(range(push.version + 1, version + 1)) <= handed:
            rows.update(_changed_since(session_id, push.version, version))
        registered = _registered(session_id, list(rows))
        sites = []
        for site_id in sorted(rows):
            row = {"site_id": site_id, "registered": registered.get(site_id, 0),
                   **{k: v for k, v in rows[site_id].items() if k != "site_id"}}
            push.sites[site_id] = row
            sites.append(row)
        totals = dict.fromkeys(COUNTS, 0)
        for row in push.sites.values():
            for name in COUNTS:
                totals[name] += row[name]
        totals["registered"] = registered[None]  # also registrations made meanwhile
        push.version = version
        return {"session_id": session_id, "version": version, "sites": sites,
                "totals": totals}


def _changed_since(session_id: int, after: int, upto: int) -> dict[int, dict[str, Any]]:
    """The counters of the sites changed by versions after..upto (whoever made them)."""
    from trainer.checkin.counters import site_row

    t = SiteAttendance
    result = db.session.execute(
        select(t.site_id, t.female, t.male, t.unspecified, t.last_checkin_at)
        .where(t.session_id == session_id, t.version > after))
    return {site_id: site_row(site_id, rest) for site_id, *rest in result}


def _registered(session_id: int, site_ids: list[int]) -> dict[int | None, int]:
    """Registrations per site of `site_ids`, and in all under None."""
    out: dict[int | None, int] = {None: int(db.session.scalar(
        select(func.count()).select_from(Registration)
        .where(Registration.session_id == session_id)) or 0)}
    if site_ids:
        for site_id, n in db.session.execute(
                select(Registration.site_id, func.count())
                .where(Registration.session_id == session_id,
                       Registration.site_id.in_(site_ids))
                .group_by(Registration.site_id)):
            out[site_id] = n
    return out


def _shared_snapshot(session_id: int, head: tuple[int, datetime | None],
                     ttl: float) -> dict[str, Any] | None:
    """A body another watcher read that includes everything up to `head` (read after this
    watcher joined the room): the cached one, or the one being read right now (waited for,
    without holding a database connection: 1,000 screens joining at once read it once)."""
    state = app_state()
    for _ in range(2):
        with state.lock:
            hit = state.snapshots.get(session_id)
            building = state.building.get(session_id)
        if hit is not None and time.monotonic() - hit[0] < ttl and hit[1] == head[1] \
                and hit[2]["version"] >= head[0]:
            body: dict[str, Any] = hit[2]
            return body
        if building is None:
            return None
        db.session.commit()  # give the connection back while waiting
        building.wait(timeout=10)
    return None


def watch_snapshot(session_id: int) -> dict[str, Any]:
    """The attendance body for a watcher that has just joined. Watchers that join while the
    version stays the same share one read for LIVE_SNAPSHOT_CACHE_S seconds (default 1; 0
    under tests): 5,000 screens reconnecting at once read the counts once, not 5,000 times."""
    from trainer.checkin.services import attendance

    app = current_app
    state = app_state()
    head = _head(session_id)
    ttl = float(app.config.get("LIVE_SNAPSHOT_CACHE_S", 0 if app.testing else 1.0))
    body = _shared_snapshot(session_id, head, ttl) if ttl > 0 else None
    if body is not None:
        return body
    push = _state(session_id)
    seed = not app.config.get("REDIS_URL") and (
        push is None or push.created_at != head[1] or push.version > head[0])
    building = threading.Event()
    with state.lock:
        state.building[session_id] = building
    try:
        body = attendance(session_id)
        with state.lock:
            state.snapshots[session_id] = (time.monotonic(), head[1], body)
    finally:
        with state.lock:
            state.building.pop(session_id, None)
        building.set()
    if seed:  # alone: this process's pushes continue from this snapshot
        _seed(session_id, head[1], body)
    return body
