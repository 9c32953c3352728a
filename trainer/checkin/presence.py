"""Site status and presence: what coordinators report, which check-in pages are open, the wall's
board (with the video room's media), the roll-call of sites."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app
from flask_babel import gettext
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from trainer import live
from trainer.audit.services import record
from trainer.auth.models import User
from trainer.auth.services import require_site, require_staff
from trainer.checkin import liveness
from trainer.checkin.attendance import _counts, _zero
from trainer.checkin.models import SitePresence
from trainer.checkin.rules import (
    SITE_STATUSES,
    _note,
    _rowcount,
    _session_for_site,
    get_session,
    iso,
    pages_room,
    require_session_viewer,
)
from trainer.dbtypes import utcnow
from trainer.errors import Conflict, Invalid, NotFound
from trainer.extensions import db, socketio
from trainer.sessions.models import (
    SessionSite,
    SessionStatus,
    SiteStatus,
    TrainingSession,
)
from trainer.sites.models import Site, SiteKind
from trainer.state import app_state

log = logging.getLogger(__name__)


def _offline_after() -> timedelta:
    return timedelta(seconds=float(current_app.config.get("SITE_OFFLINE_AFTER_S", 30)))


def _connected_sites(session_id: int, site_ids: Iterable[int] | None = None
                     ) -> dict[int, datetime]:
    """Site -> last time one of its pages was seen, for sites with a page seen recently."""
    stmt = (select(SitePresence.site_id, func.max(SitePresence.last_seen))
            .where(SitePresence.session_id == session_id,
                   SitePresence.last_seen >= utcnow() - _offline_after())
            .group_by(SitePresence.site_id))
    if site_ids is not None:
        stmt = stmt.where(SitePresence.site_id.in_(list(site_ids)))
    return {site_id: seen for site_id, seen in db.session.execute(stmt)}


def shown_status(reported: SiteStatus | str | None, connected: bool) -> str:
    """What the wall shows: offline without a connected page, else the reported status."""
    if not connected:
        return "offline"
    value = SiteStatus(reported or SiteStatus.UNKNOWN).value
    return "online" if value == "unknown" else value


def site_status(session_id: int, site_id: int) -> dict[str, Any]:
    """The `site_status` event for one site of a session."""
    ss = db.session.get(SessionSite, (session_id, site_id))
    if ss is None:
        raise NotFound(gettext("This site does not take part in this session."))
    connected = site_id in _connected_sites(session_id, [site_id])
    return {"session_id": session_id, "site_id": site_id,
            "status": shown_status(ss.status, connected), "note": ss.status_note,
            "reported_status": ss.status.value, "at": iso(ss.status_at),
            "connected": connected, **liveness.annotate(session_id, [
                {"site_id": site_id, "connected": connected}])[0]}


def _push_site_status(session_id: int, site_id: int) -> None:
    try:
        payload = site_status(session_id, site_id)
        live.emit(session_id, "site_status", payload)
        live.emit(session_id, "site_status", payload, site_id=site_id)
    except Exception:  # noqa: BLE001
        log.exception("could not push site_status for session %s site %s", session_id, site_id)


def set_site_status(actor: User | None, session_id: int, site_id: int, status: Any,
                    note: Any = None) -> dict[str, Any]:
    """A coordinator (or an organiser) reports a site ready ("online"), with a problem
    ("issue") or off the air ("offline"), with an optional note."""
    user = require_site(actor, site_id)
    if status not in SITE_STATUSES:
        raise Invalid.field("status", gettext("Must be one of: %(values)s",
                                              values=", ".join(SITE_STATUSES)))
    note = _note(note)
    _session_for_site(session_id, site_id)
    now = utcnow()
    db.session.execute(
        update(SessionSite)
        .where(SessionSite.session_id == session_id, SessionSite.site_id == site_id)
        .values(status=SiteStatus(status), status_note=note, status_at=now)
        .execution_options(synchronize_session=False))
    record("site_status", user_id=user.id, session_id=session_id, site_id=site_id,
           status=status, note=note)
    db.session.commit()
    payload = site_status(session_id, site_id)
    _push_site_status(session_id, site_id)
    return payload


def page_connected(actor: User | None, session_id: int, site_id: int, sid: str
                   ) -> dict[str, Any]:
    """A coordinator page of a site opened (Socket.IO `watch_site`): mark the site connected
    and answer what the page needs (the roll-call, the reported status)."""
    user = require_site(actor, site_id)
    s = _session_for_site(session_id, site_id)
    was_connected = site_id in _connected_sites(session_id, [site_id])
    now = utcnow()
    _touch(sid, session_id, site_id, user.id, now)
    db.session.commit()
    if not was_connected:
        _push_site_status(session_id, site_id)
    ss = db.session.get(SessionSite, (session_id, site_id))
    started = s.rollcall_started_at
    confirmed = ss.rollcall_at if ss and started and ss.rollcall_at and \
        ss.rollcall_at >= started else None
    return {"ok": True, "session_id": session_id, "site_id": site_id,
            "session_status": s.status.value,
            "rollcall_active": started is not None, "rollcall_started_at": iso(started),
            "rollcall_confirmed_at": iso(confirmed),
            "status": shown_status(ss.status if ss else None, True),
            "reported_status": ss.status.value if ss else "unknown",
            "note": ss.status_note if ss else None,
            "heartbeat_s": 10, "offline_after_s": _offline_after().total_seconds()}


def _touch(sid: str, session_id: int, site_id: int, user_id: int | None, now: datetime) -> None:
    updated = _rowcount(db.session.execute(
        update(SitePresence)
        .where(SitePresence.sid == sid, SitePresence.session_id == session_id,
               SitePresence.site_id == site_id)
        .values(last_seen=now, gone=False)
        .execution_options(synchronize_session=False)))
    if updated:
        return
    try:
        with db.session.begin_nested():
            db.session.add(SitePresence(session_id=session_id, site_id=site_id, sid=sid,
                                        user_id=user_id, connected_at=now, last_seen=now))
    except IntegrityError:  # the same page twice at once
        pass


def page_heartbeat(sid: str, session_id: int, site_id: int) -> bool:
    """A page says it is still there. False when it is not known (expired or never watched):
    the caller then registers it again with page_connected (which checks permissions)."""
    updated = _rowcount(db.session.execute(
        update(SitePresence)
        .where(SitePresence.sid == sid, SitePresence.session_id == session_id,
               SitePresence.site_id == site_id, SitePresence.gone.is_(False),
               SitePresence.last_seen >= utcnow() - _offline_after())
        .values(last_seen=utcnow())
        .execution_options(synchronize_session=False)))
    db.session.commit()
    return bool(updated)


def page_gone(sid: str) -> None:
    """A connection closed: its pages count as present for SITE_OFFLINE_AFTER_S more (a
    reload or a short network gap does not turn the site offline)."""
    db.session.execute(
        update(SitePresence).where(SitePresence.sid == sid, SitePresence.gone.is_(False))
        .values(last_seen=utcnow(), gone=True)
        .execution_options(synchronize_session=False))
    db.session.commit()


def sweep_presence(now: datetime | None = None) -> list[tuple[int, int]]:
    """Delete expired page rows; push `site_status` for each site left without a page.
    Several processes may sweep at once: only the one whose DELETE removed a row pushes."""
    cutoff = (now or utcnow()) - _offline_after()
    removed = db.session.execute(
        delete(SitePresence).where(SitePresence.last_seen < cutoff)
        .returning(SitePresence.session_id, SitePresence.site_id, SitePresence.last_seen)
        .execution_options(synchronize_session=False)).all()
    liveness.keep_heard(removed)
    db.session.commit()
    pairs = sorted({(int(a), int(b)) for a, b, _seen in removed})
    went_offline = []
    for session_id, site_id in pairs:
        if site_id in _connected_sites(session_id, [site_id]):
            continue
        if db.session.get(SessionSite, (session_id, site_id)) is None:
            continue
        went_offline.append((session_id, site_id))
        _push_site_status(session_id, site_id)
    db.session.rollback()
    return went_offline


def start_presence_sweeper(app: Flask) -> None:
    """Once per process and app: a background task that expires site pages every few seconds
    (PRESENCE_SWEEP_S; off by default under tests, which call sweep_presence directly)."""
    interval = float(app.config.get("PRESENCE_SWEEP_S", 0 if app.testing else 5))
    if interval <= 0:
        return
    state = app_state(app)
    with state.lock:
        if state.presence_sweeper:
            return
        state.presence_sweeper = True
    socketio.start_background_task(_sweep_loop, app, interval)


def _sweep_loop(app: Flask, interval: float) -> None:
    while True:
        socketio.sleep(interval)
        try:
            with app.app_context():
                try:
                    sweep_presence()
                finally:
                    db.session.remove()
        except Exception:  # noqa: BLE001 - keep sweeping after a database hiccup
            log.exception("presence sweep failed")


def site_board(actor: User | None, session_id: int) -> list[dict[str, Any]]:
    """One row per site of the session for the wall: status, connection, roll-call, counts.
    Four queries whatever the number of sites."""
    require_session_viewer(actor, session_id)
    s = get_session(session_id)
    rows = db.session.execute(
        select(SessionSite, Site).join(Site, Site.id == SessionSite.site_id)
        .where(SessionSite.session_id == session_id)
        .order_by((Site.kind != SiteKind.HOST), Site.code)).all()
    counts, last = _counts(session_id)
    connected = _connected_sites(session_id)
    media = _conference_media(s)
    started = s.rollcall_started_at
    out = []
    for ss, site in rows:
        c = counts.get(site.id) or _zero()
        is_connected = site.id in connected
        confirmed = ss.rollcall_at if started and ss.rollcall_at and \
            ss.rollcall_at >= started else None
        out.append({
            "site_id": site.id, "code": site.code, "name": site.name, "kind": site.kind.value,
            "status": shown_status(ss.status, is_connected),
            "reported_status": ss.status.value, "status_note": ss.status_note,
            "status_at": iso(ss.status_at), "connected": is_connected,
            "last_seen": iso(connected.get(site.id)), "rollcall_at": iso(confirmed),
            **c, "last_checkin_at": iso(last.get(site.id)),
            "conference": None if media is None else media[site.id],
        })
    return liveness.annotate(session_id, out)


def _conference_media(s: TrainingSession) -> dict[int, dict[str, Any]] | None:
    """Each site's media on trainer's video room (one query; a site without a row was never
    on the call), None when the session's conference is not the built-in room."""
    if s.conference_provider != "builtin":
        return None
    from collections import defaultdict

    from trainer.conference.services import media_by_site, wall_entry

    return defaultdict(lambda: wall_entry(None),
                       {k: wall_entry(v) for k, v in media_by_site(s.id).items()})


def start_rollcall(actor: User | None, session_id: int) -> dict[str, Any]:
    """The organiser calls the sites in turn: every site page shows a prompt to confirm."""
    user = require_staff(actor)
    s = get_session(session_id)
    if s.status == SessionStatus.ENDED:
        raise Conflict(gettext("The session has ended."))
    now = utcnow()
    db.session.execute(
        update(TrainingSession).where(TrainingSession.id == session_id)
        .values(rollcall_started_at=now, updated_at=TrainingSession.updated_at)
        .execution_options(synchronize_session=False))
    db.session.execute(
        update(SessionSite).where(SessionSite.session_id == session_id).values(rollcall_at=None)
        .execution_options(synchronize_session=False))
    record("rollcall_started", user_id=user.id, session_id=session_id)
    db.session.commit()
    payload = {"session_id": session_id, "started_at": iso(now)}
    _emit_rollcall("rollcall", session_id, payload)
    return payload


def end_rollcall(actor: User | None, session_id: int) -> None:
    user = require_staff(actor)
    get_session(session_id)
    db.session.execute(
        update(TrainingSession).where(TrainingSession.id == session_id)
        .values(rollcall_started_at=None, updated_at=TrainingSession.updated_at)
        .execution_options(synchronize_session=False))
    record("rollcall_ended", user_id=user.id, session_id=session_id)
    db.session.commit()
    _emit_rollcall("rollcall", session_id, {"session_id": session_id, "started_at": None})


def confirm_rollcall(actor: User | None, session_id: int, site_id: int) -> dict[str, Any]:
    """A site answers the roll-call (once; confirming again answers the first time)."""
    user = require_site(actor, site_id)
    s = _session_for_site(session_id, site_id)
    started = s.rollcall_started_at
    if started is None:
        raise Conflict(gettext("No roll-call is running for this session."))
    ss = db.session.get(SessionSite, (session_id, site_id))
    assert ss is not None
    if ss.rollcall_at is not None and ss.rollcall_at >= started:
        return {"session_id": session_id, "site_id": site_id, "at": iso(ss.rollcall_at)}
    now = utcnow()
    ss.rollcall_at = now
    record("rollcall_confirmed", user_id=user.id, session_id=session_id, site_id=site_id)
    db.session.commit()
    payload = {"session_id": session_id, "site_id": site_id, "at": iso(now)}
    try:
        live.emit(session_id, "rollcall_confirmed", payload)
        live.emit(session_id, "rollcall_confirmed", payload, site_id=site_id)
    except Exception:  # noqa: BLE001
        log.exception("could not push rollcall_confirmed")
    return payload


def _emit_rollcall(event: str, session_id: int, payload: dict[str, Any]) -> None:
    try:
        live.emit(session_id, event, payload)
        socketio.emit(event, payload, to=pages_room(session_id), namespace=live.NAMESPACE)
    except Exception:  # noqa: BLE001
        log.exception("could not push %s", event)
