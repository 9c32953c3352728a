"""Pages of the built-in video room: the bridge point's room computer and the host's control
room, plus the conference panel at the top of a session's page.

Thin: each page checks who may open it (the same rules as the join service), then renders;
the page's script asks the API for a join token and talks to Janus with janus.js. Only these
pages may use the microphone and reach the video server (security.media_page).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from trainer.auth.services import require_site, require_staff
from trainer.conference import services
from trainer.conference.runtime import runtime
from trainer.security import media_page
from trainer.sessions import services as session_services
from trainer.sites.levels import admin_sort_key
from trainer.text import sort_key

bp = Blueprint("conference", __name__)

MEDIA_LABELS: dict[str, Any] = {
    "never": _l("Not in the room yet"),
    "connected": _l("Connected"),
    "degraded": _l("Unstable"),
    "lost": _l("Connection lost"),
}

#: Tiles on one page of the host's control room (4 x 3 fits 1366x768).
TILES_PER_PAGE = 12


def _video_server_urls() -> list[str]:
    """Where the browser reaches Janus, for the CSP: the configured public URL, or the URL
    trainer drives it at; a child Janus listens on trainer's own address, which the browser
    may know by another name (the host it reached this page on)."""
    state = runtime()
    url = state.public_url or (state.client.url if state.client else None)
    if not url:
        return []
    parts = urlsplit(url)
    here = urlsplit(request.host_url).hostname
    urls = [url]
    if here and parts.port and parts.hostname in ("127.0.0.1", "localhost"):
        host = f"[{here}]" if ":" in here else here
        urls.append(urlunsplit((parts.scheme, f"{host}:{parts.port}", parts.path, "", "")))
    return urls


def _api(session_id: int) -> str:
    return f"/api/v1/sessions/{session_id}"


def _common(session: Any) -> dict[str, Any]:
    api = _api(session.id)
    return {
        "session": session,
        "provider": session.conference_provider,
        "janus_available": services.janus_available(),
        "join_url": f"{api}/conference/join",
        "state_url": f"{api}/conference",
        "floor_url": f"{api}/conference/floor",
        "mute_url": f"{api}/conference/mute",
        "hand_url": f"{api}/conference/hand",
        "recording_url": f"{api}/conference/recording",
        "materials_url": "/materials",
        "session_url": url_for("sessions.show", session_id=session.id),
        "host_site": session.host_site,
    }


def _site_names(session: Any) -> dict[int, str]:
    return {ss.site_id: ss.site.name for ss in session.session_sites}


@bp.get("/sessions/<int:session_id>/conference/site/<int:site_id>")
@login_required
@media_page(_video_server_urls)
def site_room(session_id: int, site_id: int) -> Any:
    session = session_services.get_session(current_user, session_id)
    require_site(current_user, site_id)  # a coordinator of another site: 403
    session_site = session_services.get_session_site(session, site_id)  # not in it: 404
    return render_template(
        "conference/site.html", site=session_site.site, site_names=_site_names(session),
        **_common(session))


@bp.get("/sessions/<int:session_id>/conference/host")
@login_required
@media_page(_video_server_urls)
def host_room(session_id: int) -> Any:
    require_staff(current_user)
    session = session_services.get_session(current_user, session_id)
    bridges = sorted((ss.site for ss in session.session_sites
                      if ss.site_id != session.host_site_id),
                     key=lambda site: (sort_key(site.code), site.id))
    sites = [{"id": site.id, "code": site.code, "name": site.name} for site in bridges]
    return render_template(
        "conference/host.html", sites=sites, per_page=TILES_PER_PAGE,
        rollcall_url=f"{_api(session_id)}/rollcall",
        wall_url=url_for("checkin.wall", session_id=session_id)
        if "checkin.wall" in current_app.view_functions else None,
        **_common(session))


@bp.app_template_global("conference_panel")
def conference_panel(session: Any) -> dict[str, Any] | None:
    """What templates/conference/_session_panel.html shows at the top of a session's page: the
    host's control room (organisers), the room computer of each site the user acts for, each
    with its media state; or how to enable video when no Janus server is available."""
    if not getattr(current_user, "is_authenticated", False):
        return None
    if session.conference_provider != "builtin":
        return None
    names = _site_names(session)
    mine = list(names) if current_user.is_staff else [i for i in names
                                                      if i in set(current_user.site_ids)]
    if not mine:
        return None
    media = services.media_by_site(session.id)
    sites = sorted(
        ({"site_id": i, "name": names[i], "is_host": i == session.host_site_id,
          "media": (media.get(i) or {}).get("media", "never"),
          "url": url_for("conference.site_room", session_id=session.id, site_id=i)}
         for i in mine if i != session.host_site_id),
        key=lambda s: (admin_sort_key(s["name"]), s["site_id"]))  # as the site table below
    return {
        "available": services.janus_available(),
        "ended": session.status.value == "ended",
        "host_url": url_for("conference.host_room", session_id=session.id)
        if current_user.is_staff else None,
        "sites": sites,
        "media_labels": MEDIA_LABELS,
    }
