"""/api/v1/sessions/<id>/conference: the built-in video room's state, joining it, the floor."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from trainer.apiutil import StrictSchema
from trainer.conference import services

blp = Blueprint("api_conference", __name__, url_prefix="/api/v1",
                description="The session's video conference (built-in room on Janus, or a "
                            "link).")

MEDIA = ["never", "connected", "degraded", "lost"]


class SiteMediaOut(Schema):
    site_id = fields.Integer()
    media = fields.String(metadata={"enum": MEDIA, "description": "From the video server's "
                                    "own events, never from a page's word."})
    video = fields.Boolean(metadata={"description": "The server receives the site's video"})
    audio = fields.Boolean()
    since = fields.String(allow_none=True, metadata={"description": "When `media` last changed"})
    last_seen = fields.String(allow_none=True)
    connected_s = fields.Integer(metadata={"description": "Seconds on the call so far"})
    drops = fields.Integer(metadata={"description": "Times the site fell off the call"})
    first_joined_at = fields.String(allow_none=True)
    muted = fields.Boolean(metadata={"description": "Muted by the host (at the video server)"})


class ConferenceOut(Schema):
    session_id = fields.Integer()
    provider = fields.String(allow_none=True, metadata={"enum": ["builtin", "link", None]})
    url = fields.String(metadata={"description": "The link (provider `link` only)"})
    available = fields.Boolean(metadata={"description": "A video server is configured or "
                                         "started (`builtin` can be chosen)"})
    floor_site_id = fields.Integer(allow_none=True)
    sites = fields.List(fields.Nested(SiteMediaOut))


class JoinIn(StrictSchema):
    site_id = fields.Integer(allow_none=True, load_default=None)
    role = fields.String(load_default="site", validate=validate.OneOf(["site", "host"]))

    openapi_rules = {"anyOf": [  # a site joins as itself: site_id; the host room needs none
        {"required": ["role"], "properties": {"role": {"enum": ["host"]}}},
        {"required": ["site_id"], "properties": {"site_id": {"type": "integer"}}}]}


class JoinOut(Schema):
    server = fields.String(metadata={"description": "The Janus API URL for janus.js"})
    room = fields.Integer()
    token = fields.String(metadata={"description": "For this site (or the host) only"})
    display = fields.String(metadata={"description": "`site-<id>` or `host`"})
    expires_at = fields.String()
    pin = fields.String(metadata={"description": "The room's pin, for the join request"})
    publisher_id = fields.Integer(metadata={"description": "The id to publish under: any "
                                            "other is kicked from the room"})
    session_id = fields.Integer()
    site_id = fields.Integer(allow_none=True)
    role = fields.String()
    floor_site_id = fields.Integer(allow_none=True)


class FloorIn(StrictSchema):
    site_id = fields.Integer(required=True, allow_none=True)


class MuteIn(StrictSchema):
    site_id = fields.Integer(required=True)
    muted = fields.Boolean(required=True)
    mid = fields.String(load_default=None, validate=validate.Length(min=1, max=16),
                        metadata={"description": "The site's audio stream (its `mid` in the "
                                                 "room's list of publishers); found by trainer "
                                                 "when absent."})


class MuteOut(Schema):
    session_id = fields.Integer()
    site_id = fields.Integer()
    muted = fields.Boolean()


class FloorOut(Schema):
    session_id = fields.Integer()
    site_id = fields.Integer(allow_none=True)


@blp.get("/sessions/<int:session_id>/conference")
@blp.response(200, ConferenceOut)
@blp.alt_response(404, response="NOT_FOUND")
def get_conference(session_id: int) -> Any:
    """The provider, the floor and each site's media on the call (organisers; coordinators
    of the session's sites)."""
    return services.conference_state(current_user, session_id)


@blp.post("/sessions/<int:session_id>/conference/join")
@blp.arguments(JoinIn)
@blp.response(201, JoinOut)
@blp.alt_response(403, response="FORBIDDEN", description="Not a coordinator of that site, "
                  "or `host` asked by a coordinator.")
@blp.alt_response(409, response="CONFLICT", description="The provider is not `builtin`, or "
                  "the session has ended.")
@blp.alt_response(503, description="The video server is not set up or not answering.")
def join(data: dict[str, Any], session_id: int) -> Any:
    """What one browser needs to join the room as one site (or as the host): a short-lived
    token that the video server accepts for this room only."""
    return services.join(current_user, session_id, data["site_id"], data["role"])


@blp.post("/sessions/<int:session_id>/conference/floor")
@blp.arguments(FloorIn)
@blp.response(200, FloorOut)
@blp.alt_response(409, response="CONFLICT")
def floor(data: dict[str, Any], session_id: int) -> Any:
    """Give a site the floor, or take it back with `null` (organisers)."""
    return services.set_floor(current_user, session_id, data["site_id"])


@blp.post("/sessions/<int:session_id>/conference/mute")
@blp.arguments(MuteIn)
@blp.response(200, MuteOut)
@blp.alt_response(409, response="CONFLICT", description="The site is not on the call, or "
                  "the session's conference is not `builtin` or has ended.")
def mute(data: dict[str, Any], session_id: int) -> Any:
    """Mute or unmute a site's microphone at the video server (organisers); pushed as
    `conference_status` with `muted`."""
    return services.mute(current_user, session_id, data["site_id"], data["muted"],
                         data["mid"])
