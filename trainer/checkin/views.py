"""Pages: the coordinator's check-in page, the live wall, the projector, the flagged list.

Thin: every page asks trainer.checkin.services (which checks permissions) and renders. The
pages' scripts then talk to /api/v1 and to Socket.IO namespace /live.

Who sees what (the same rules as the services):
- check-in page of a site: admins, organisers, and coordinators of that site (others: 403);
- live wall and projector: organisers, and read-only for coordinators of a site in the
  session (as Socket.IO `watch` and GET .../sites allow); only organisers start a roll-call;
- flagged check-ins: organisers.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext, lazy_pgettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from trainer.checkin import live_now, liveness, services, today
from trainer.dbtypes import utcnow
from trainer.errors import Invalid, NotFound
from trainer.i18n import fmt_time
from trainer.sessions import services as session_services
from trainer.sites.levels import admin_sort_key

bp = Blueprint("checkin", __name__)

SW_SCOPE = "/sessions/"

SITE_STATUS_LABELS: dict[str, Any] = {
    "online": _l("Ready"),
    "issue": _l("Problem"),
    "offline": lazy_pgettext("site status", "Offline"),
    "unknown": _l("Not reported"),
}

FLAG_LABELS: dict[str, Any] = {
    "offline": _l("Taken offline"),
    "late_upload": _l("Late upload"),
    "clock_skew": _l("Device clock off"),
    "after_end": _l("After the end"),
    "other_site_roster": _l("Registered at another site"),
    "not_registered": _l("Not registered"),
    "conflict": _l("Already checked in at another site"),
    "closed": _l("Check-in was closed"),
    "unknown_participant": _l("Unknown participant"),
}


def _dt(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _share(part: int, whole: int) -> int:
    """A whole percentage for bar widths (0..100)."""
    if not whole or part <= 0:
        return 0
    return max(0, min(100, round(100 * part / whole)))


def _bars(row: dict[str, Any], scale: int) -> dict[str, int]:
    """Widths of the stacked bar's female / male / unspecified parts out of `scale`, never
    adding up to more than 100 %."""
    f = _share(row.get("female", 0), scale)
    m = min(_share(row.get("male", 0), scale), 100 - f)
    u = min(_share(row.get("unspecified", 0), scale), 100 - f - m)
    return {"f": f, "m": m, "u": u}


PRESENCE_LABELS: dict[str, Any] = {
    "never": _l("Not opened"),
    "lost": _l("Lost contact"),
}

MEDIA_LABELS: dict[str, Any] = {
    "connected": _l("Video room: on the call"),
    "degraded": _l("Video room: unstable"),
    "never": _l("Not in the video room yet"),
}


def tile_state(row: dict[str, Any]) -> str:
    """What a tile shows as the site's state: "never" (never opened its page), "lost" (heard
    from before, not now), else the status its coordinator reported ("online", "issue",
    "offline" for off the air). The wall's script applies the same rule to live events."""
    presence = row.get("presence") or ("live" if row.get("connected") else "never")
    if presence != "live":
        return presence
    reported = row.get("reported_status") or "online"
    return "online" if reported == "unknown" else reported


def _conference_label(conference: dict[str, Any] | None) -> str | None:
    if not conference:
        return None
    media = conference.get("media") or "never"
    if media == "lost":
        at = _dt(conference.get("since")) or _dt(conference.get("last_seen"))
        return gettext("Video room: dropped at %(time)s", time=fmt_time(at) if at else "–")
    return str(MEDIA_LABELS.get(media, media))


def _tile(row: dict[str, Any]) -> dict[str, Any]:
    registered = int(row.get("registered") or 0)
    present = int(row.get("present") or 0)
    female = int(row.get("female") or 0)
    status = row.get("status") or "unknown"
    state = tile_state(row)
    last_heard = _dt(row.get("last_heard_at"))
    last_checkin = _dt(row.get("last_checkin_at"))
    if state == "lost" and last_heard is not None:
        last_label = gettext("last heard %(time)s", time=fmt_time(last_heard))
    elif last_checkin is not None:
        last_label = gettext("last %(time)s", time=fmt_time(last_checkin))
    else:
        last_label = ""
    return {
        **row,
        "registered": registered,
        "present": present,
        "status": status,
        "state": state,
        "presence": row.get("presence") or ("live" if row.get("connected") else "never"),
        "alert": state == "issue",
        "badge_class": {"never": "unknown", "lost": "offline"}.get(state, state),
        "status_label": PRESENCE_LABELS.get(state) or SITE_STATUS_LABELS.get(state, state),
        "last_label": last_label,
        "conference": row.get("conference"),
        "conference_label": _conference_label(row.get("conference")),
        "women_share": _share(female, present) if present else None,
        "attendance_share": _share(present, registered) if registered else None,
        "bars": _bars(row, max(registered, present)),
        "last_checkin": _dt(row.get("last_checkin_at")),
        "rollcall": _dt(row.get("rollcall_at")),
    }


def _totals(totals: dict[str, Any]) -> dict[str, Any]:
    registered = int(totals.get("registered") or 0)
    present = int(totals.get("present") or 0)
    return {
        **totals,
        "women_share": _share(int(totals.get("female") or 0), present) if present else None,
        "attendance_share": _share(present, registered) if registered else None,
        "bars": _bars(totals, max(registered, present)),
    }


def _api(session_id: int) -> str:
    """The session's address in the JSON API (API.md paths), under the app's mount point."""
    return f"{request.script_root}/api/v1/sessions/{session_id}"


def _session_for_page(session_id: int) -> Any:
    return services.get_session(session_id)


@bp.get("/sessions/checkin")
@login_required
def today_page() -> Any:
    """The coordinator's start (and the installed app's): the only live desk at once, else
    today's desks as cards, else the user's sessions."""
    found = today.desks(current_user)
    desk = today.only_live_desk(found)
    if desk is not None:
        return redirect(url_for("checkin.checkin_page", session_id=desk.session_id,
                                site_id=desk.site_id))
    if not found:
        flash(gettext("No session of your sites takes place today."), "message")
        return redirect(url_for("sessions.index" if current_user.is_staff else "sessions.mine"))
    return render_template("checkin/today.html", desks=found)


@bp.get("/sessions/checkin.webmanifest")
def manifest() -> Any:
    """The web app manifest: the check-in page installed on a phone's home screen opens on
    the start page above, so on the session that is live then."""
    def icon(name: str, size: int, purpose: str = "any") -> dict[str, str]:
        return {"src": url_for("static", filename=f"icons/{name}"), "sizes": f"{size}x{size}",
                "type": "image/png", "purpose": purpose}

    body = {
        "name": gettext("Trainer check-in"),
        "short_name": gettext("Check-in"),
        "start_url": url_for("checkin.today_page"),
        "scope": f"{request.script_root}{SW_SCOPE}",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#f5f6f8",
        "theme_color": "#0b5cab",
        "lang": str(get_locale() or "vi"),
        "icons": [icon("icon-192.png", 192), icon("icon-512.png", 512),
                  icon("icon-512-maskable.png", 512, "maskable")],
    }
    response = current_app.response_class(json.dumps(body, ensure_ascii=False),
                                          mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/sessions/<int:session_id>/checkin/<int:site_id>")
@login_required
def checkin_page(session_id: int, site_id: int) -> Any:
    try:
        rows = services.roster(current_user, session_id, site_id)  # 403 for another site
    except Invalid as exc:  # the site does not take part in the session
        raise NotFound(exc.detail) from None
    session = _session_for_page(session_id)
    session_site = session_services.get_session_site(session, site_id)
    started = session.rollcall_started_at
    rollcall_pending = bool(started) and not (
        session_site.rollcall_at is not None and session_site.rollcall_at >= started)
    view_rows = [{**r, "checked_in_at": _dt(r.get("checked_in_at")),
                  "checked_in_iso": _iso(r.get("checked_in_at"))} for r in rows]
    present = sum(1 for r in rows if r.get("present"))
    site = session_site.site
    return render_template(
        "checkin/checkin.html",
        session=session, site=site, session_site=session_site, rows=view_rows, present=present,
        units=[u.name for u in site.current_units],
        rollcall_pending=rollcall_pending,
        session_status_label=session_services.status_label(session.status),
        site_status_label=SITE_STATUS_LABELS.get(session_site.status.value,
                                                 session_site.status.value),
        roster_url=f"{_api(session_id)}/roster?site_id={site_id}",
        checkins_url=f"{_api(session_id)}/checkins",
        walkins_url=f"{_api(session_id)}/walkins",
        status_url=f"{_api(session_id)}/sites/{site_id}/status",
        rollcall_url=f"{_api(session_id)}/rollcall/{site_id}",
        sw_scope=SW_SCOPE,
    )


def _board_page(session_id: int, template: str) -> Any:
    board = services.site_board(current_user, session_id)  # organisers; coordinators read-only
    session = _session_for_page(session_id)
    snapshot = services.attendance(session_id)
    tiles = [_tile(r) for r in board]
    scale = max([t["registered"] for t in tiles] + [t["present"] for t in tiles] + [1])
    chart = [{"site_id": t["site_id"], "name": t["name"], "present": t["present"],
              "registered": t["registered"], "female": t.get("female", 0),
              "male": t.get("male", 0), "unspecified": t.get("unspecified", 0),
              "bars": _bars(t, scale), "reg_width": _share(t["registered"], scale)}
             for t in tiles]
    confirmed = sum(1 for t in tiles if t["rollcall"])
    return render_template(
        template, feed_items=liveness.latest_checkins(current_user, session_id),
        now_iso=_iso(utcnow()), alive_after_s=int(liveness.alive_after_checkin().total_seconds()),
        feed_url=url_for("checkin.wall_feed", session_id=session_id),
        session=session, tiles=tiles, chart=chart, chart_scale=scale,
        totals=_totals(snapshot["totals"]), version=snapshot["version"],
        can_rollcall=bool(current_user.is_staff),
        rollcall_started=session.rollcall_started_at, rollcall_confirmed=confirmed,
        session_status_label=session_services.status_label(session.status),
        status_labels={k: str(v) for k, v in {**SITE_STATUS_LABELS, **PRESENCE_LABELS}.items()},
        rollcall_url=f"{_api(session_id)}/rollcall",
        sites_url=f"{_api(session_id)}/sites",
    )


@bp.get("/sessions/<int:session_id>/wall")
@login_required
def wall(session_id: int) -> Any:
    return _board_page(session_id, "checkin/wall.html")


@bp.get("/sessions/<int:session_id>/projector")
@login_required
def projector(session_id: int) -> Any:
    return _board_page(session_id, "checkin/projector.html")


@bp.get("/sessions/<int:session_id>/wall/feed")
@login_required
def wall_feed(session_id: int) -> Any:
    """The wall's feed of the latest check-ins (an HTML fragment its script puts in place)."""
    services.require_session_viewer(current_user, session_id)
    items = liveness.latest_checkins(current_user, session_id)
    return render_template("checkin/_feed_items.html", feed_items=items)


@bp.get("/sessions/<int:session_id>/flagged")
@login_required
def flagged(session_id: int) -> Any:
    items = services.flagged(current_user, session_id)  # organisers only
    session = _session_for_page(session_id)
    rows = []
    for item in items:
        device_at = _dt(item.get("device_at"))
        server_at = _dt(item.get("server_at"))
        delay = None
        if device_at is not None and server_at is not None:
            delay = int((server_at - device_at).total_seconds() // 60)
        details = item.get("details") or {}
        rows.append({**item, "device_at": device_at, "server_at": server_at,
                     "delay_minutes": delay,
                     "flag_labels": [str(FLAG_LABELS.get(f, f)) for f in item.get("flags") or []],
                     "other_site_id": details.get("other_site_id"),
                     "other_at": _dt(details.get("other_at")),
                     "message": details.get("message")})
    site_names = {r["site_id"]: r["name"] for r in services.site_board(current_user, session_id)}
    conflicts = sum(1 for r in rows if r.get("reason") == "conflict")
    return render_template("checkin/flagged.html", session=session, rows=rows,
                           site_names=site_names, conflicts=conflicts)


@bp.post("/sessions/<int:session_id>/flagged/<int:issue_id>/seen")
@login_required
def issue_seen(session_id: int, issue_id: int) -> Any:
    """An organiser marks a refused upload as looked at (it stays in the list)."""
    services.resolve_issue(current_user, session_id, issue_id)
    flash(gettext("Marked as seen."), "success")
    return redirect(url_for("checkin.flagged", session_id=session_id))


@bp.get("/sessions/checkin-sw.js")
def service_worker() -> Any:
    """The check-in pages' service worker, served under /sessions/ so it may control them."""
    path = Path(current_app.static_folder or "static") / "sw.js"
    response = current_app.response_class(path.read_bytes(), mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = SW_SCOPE
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.app_template_global("checkin_panel")
def checkin_panel(session: Any) -> dict[str, Any] | None:
    """What templates/checkin/_session_panel.html shows on a session's page: links to the
    wall, projector, flagged list and the check-in page of each site the user acts for,
    with present / registered per site. None when the user may not see it."""
    if not getattr(current_user, "is_authenticated", False):
        return None
    session_id = int(session.id)
    names = {ss.site_id: ss.site.name for ss in session.session_sites}
    if current_user.is_staff:
        mine = list(names)
    else:
        allowed = set(current_user.site_ids)
        mine = [i for i in names if i in allowed]
        if not mine:
            return None
    counts = {r["site_id"]: r for r in services.attendance(session_id, mine)["sites"]}
    host = getattr(session, "host_site_id", None)
    sites = sorted(
        ({"site_id": i, "name": names[i], "is_host": i == host,
          "present": int(counts.get(i, {}).get("present", 0)),
          "registered": int(counts.get(i, {}).get("registered", 0)),
          **{sex: int(counts.get(i, {}).get(sex, 0)) for sex in ("female", "male", "unspecified")},
          "url": url_for("checkin.checkin_page", session_id=session_id, site_id=i)}
         for i in mine),
        key=lambda s: (not s["is_host"], admin_sort_key(s["name"]), s["site_id"]))
    return {
        "session_id": session_id,
        "sites": sites,
        "wall_url": url_for("checkin.wall", session_id=session_id),
        "projector_url": url_for("checkin.projector", session_id=session_id),
        "flagged_url": url_for("checkin.flagged", session_id=session_id)
        if current_user.is_staff else None,
        "present": sum(s["present"] for s in sites),
        "registered": sum(s["registered"] for s in sites),
        **{sex: sum(s[sex] for s in sites) for sex in ("female", "male", "unspecified")},
    }


@bp.app_template_global("live_sessions")
def live_sessions() -> list[dict[str, Any]]:
    """The organiser's "live now" list (templates/checkin/_live_now.html)."""
    return live_now.live_sessions(current_user)


@bp.app_template_global("session_screens")
def session_screens(session: Any) -> dict[str, Any] | None:
    """A session's screens for the top of its page; None for coordinators."""
    return live_now.session_screens(current_user, session)
