"""/api/v1/sessions/<id>/conference: the built-in video room's state, joining it, the floor,
the sites asking for it."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from trainer.apiutil import StrictSchema
from trainer.conference import recording, services

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
    hand_raised_at = fields.String(allow_none=True, metadata={
        "description": "Since when the site asks for the floor (null: it does not)"})


class ConferenceOut(Schema):
    session_id = fields.Integer()
    provider = fields.String(allow_none=True, metadata={"enum": ["builtin", "link", None]})
    url = fields.String(metadata={"description": "The link (provider `link` only)"})
    available = fields.Boolean(metadata={"description": "A video server is configured or "
                                         "started (`builtin` can be chosen)"})
    floor_site_id = fields.Integer(allow_none=True)
    recording = fields.Boolean(metadata={"description": "The room is being recorded now"})
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


class RecordingIn(StrictSchema):
    recording = fields.Boolean(required=True, metadata={
        "description": "true: record the host and the site holding the floor from now on; "
                       "false: stop, then convert and attach what was recorded"})


class RecordingPartOut(Schema):
    id = fields.Integer()
    site_id = fields.Integer(allow_none=True, metadata={"description": "null: the host"})
    state = fields.String(metadata={"enum": ["recording", "converting", "attached", "failed"]})
    started_at = fields.String()
    stopped_at = fields.String(allow_none=True)
    error = fields.String(allow_none=True, metadata={"description": "Why it failed (the raw "
                                                     "files are then kept)"})
    material_ids = fields.List(fields.Integer(), metadata={
        "description": "The session's materials made from it: one WebM (picture and sound), "
                       "or a WebM picture and an Opus sound when ffmpeg is not installed"})
    video_material_id = fields.Integer(allow_none=True, metadata={
        "description": "The WebM (with the sound too when merged)"})
    audio_material_id = fields.Integer(allow_none=True, metadata={
        "description": "The Opus sound, when not merged into the WebM"})


class RecordingOut(Schema):
    session_id = fields.Integer()
    recording = fields.Boolean(metadata={"description": "The room is being recorded now"})
    since = fields.String(allow_none=True)
    possible = fields.Boolean(metadata={"description": "A video server with a recordings "
                                        "folder is available"})
    converter = fields.Boolean(metadata={"description": "janus-pp-rec is installed "
                                         "(without it recordings stay raw)"})
    parts = fields.List(fields.Nested(RecordingPartOut), metadata={
        "description": "Each recorded stretch of one publisher (the host, or the floor site "
                       "while it held the floor)"})


class FloorOut(Schema):
    session_id = fields.Integer()
    site_id = fields.Integer(allow_none=True)


class HandIn(StrictSchema):
    site_id = fields.Integer(required=True)
    raised = fields.Boolean(required=True, metadata={
        "description": "true: the site asks for the floor; false: it withdraws (or the host "
                       "lowers it)"})


class HandOut(Schema):
    session_id = fields.Integer()
    site_id = fields.Integer()
    raised = fields.Boolean()
    at = fields.String(allow_none=True, metadata={"description": "Since when it asks"})


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


@blp.post("/sessions/<int:session_id>/conference/hand")
@blp.arguments(HandIn)
@blp.response(200, HandOut)
@blp.alt_response(403, response="FORBIDDEN", description="Not a coordinator of that site")
@blp.alt_response(409, response="CONFLICT", description="The site is not on the call "
                  "(not-on-call), or the provider is not `builtin` or the session has ended")
def hand(data: dict[str, Any], session_id: int) -> Any:
    """A site asks for the floor ("Xin phát biểu") or withdraws (its coordinators; organisers
    may lower it). Pushed to the session's watchers as `conference_hand`; giving the site the
    floor lowers it."""
    return services.raise_hand(current_user, session_id, data["site_id"], data["raised"])


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


@blp.get("/sessions/<int:session_id>/conference/recording")
@blp.response(200, RecordingOut)
@blp.alt_response(404, response="NOT_FOUND")
def get_recording(session_id: int) -> Any:
    """Whether the room is being recorded, and each recorded stretch: recording, converting,
    attached (with its materials) or failed with the reason (organisers; coordinators of the
    session's sites)."""
    return recording.recording_state(current_user, session_id)


@blp.post("/sessions/<int:session_id>/conference/recording")
@blp.arguments(RecordingIn)
@blp.response(200, RecordingOut)
@blp.alt_response(409, response="CONFLICT", description="The provider is not `builtin`, the "
                  "session has ended, or (stopping) the room is not being recorded.")
@blp.alt_response(503, description="The video server is not set up, has no recordings "
                  "folder, or is not answering.")
def set_recording(data: dict[str, Any], session_id: int) -> Any:
    """Start or stop recording the host and the site holding the floor (organisers). Every
    site's page shows that the room is recorded (`conference_recording`). After the stop the
    recording is converted with janus-pp-rec and attached to the session as materials."""
    return recording.set_recording(current_user, session_id, data["recording"])
