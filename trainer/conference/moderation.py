"""The host mutes a site for everyone, or lets it be heard again.

Janus does it (VideoRoom `moderate` with the room's secret, which only trainer knows): the site's
sound stops at the server for every participant, whatever the site's own page does. The site's
page is told (`conference_mute` on /live) so that its people know why nobody hears them.
"""

from __future__ import annotations

import logging
from typing import Any

from flask_babel import gettext

from trainer import live
from trainer.auth.models import User
from trainer.auth.services import require_staff
from trainer.conference import services
from trainer.conference.janus import JanusError
from trainer.errors import Conflict, Unavailable
from trainer.extensions import db

log = logging.getLogger(__name__)


def set_muted(actor: User | None, session_id: int, site_id: Any, muted: bool,
              mid: str) -> dict[str, Any]:
    """Mute (or unmute) the audio stream `mid` that `site_id` publishes (organisers)."""
    require_staff(actor)
    session = services._builtin_session(session_id)
    site_id = services._check_site(session_id, site_id)
    client = services._client()
    room = services.ensure_room(client, session)
    try:
        client.videoroom("moderate", room=room.janus_room, secret=room.secret,
                         id=services.publisher_id(site_id), mid=mid, mute=muted)
    except JanusError as exc:
        db.session.rollback()
        if exc.code in (428, 429, 432):  # no such publisher, or not publishing that stream
            raise Conflict(gettext("This site is not sending sound on the call now."),
                           reason="not-publishing") from exc
        log.warning("video server refused to moderate: %s", exc)
        raise Unavailable(gettext("The video server is not answering; try again in a moment."),
                          reason="video-unavailable") from exc
    db.session.commit()
    payload = {"session_id": session_id, "site_id": site_id, "muted": muted}
    live.emit(session_id, "conference_mute", payload)
    return payload
