"""/api/v1/sessions/<id>/checkins, attendance, walk-ins, roster, site status, roll-call."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from trainer.apiutil import MAX_PER_PAGE, ListArgs, Phone, StrictSchema, Text, list_schema
from trainer.checkin import services

blp = Blueprint("api_checkin", __name__, url_prefix="/api/v1/sessions",
                description="Check-in at every site, live attendance, site status and the "
                            "roll-call of sites.")

SEXES = ["female", "male", "unspecified"]
DATE_TIME = {"type": "string", "format": "date-time"}


def _actor() -> Any:
    return current_user._get_current_object()  # type: ignore[attr-defined]


def _when(description: str, **kw: Any) -> fields.String:
    """An ISO 8601 time with offset, already formatted by the service (or null)."""
    return fields.String(allow_none=True, metadata={"format": "date-time",
                                                     "description": description}, **kw)


# --- schemas --------------------------------------------------------------------------------

class CheckinRequest(StrictSchema):
    site_id = fields.Integer(required=True, metadata={"description": "Where the person is."})
    participant_id = fields.Integer(allow_none=True)
    participant_code = Text(max_length=32, allow_none=True,
                            metadata={"description": "The printed or scanned code."})
    client_id = fields.UUID(allow_none=True, metadata={
        "description": "Idempotency key made by the device: sending it again never counts "
                       "twice."})
    at = fields.DateTime(allow_none=True, metadata={
        "description": "Device time of an offline capture, with its offset. The server keeps "
                       "it beside its own time and flags late or skewed uploads."})
    method = fields.String(load_default="manual", validate=validate.OneOf(services.METHODS),
                           metadata={"description": "How the person was found."})

    openapi_rules = {"anyOf": [  # what _one_of checks
        {"required": ["participant_id"], "properties": {"participant_id": {"type": "integer"}}},
        {"required": ["participant_code"],
         "properties": {"participant_code": {"type": "string"}}}]}

    @validates_schema
    def _one_of(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("participant_id") is None and not data.get("participant_code"):
            raise ValidationError(gettext("Give a participant_id or a participant_code."),
                                  "participant_id")


class CheckinParticipant(StrictSchema):
    id = fields.Integer()
    code = fields.String()
    full_name = fields.String()
    sex = fields.Function(lambda p: p.sex.value, metadata={"enum": SEXES})
    unit = fields.String(allow_none=True)
    position = fields.String(allow_none=True)
    site_id = fields.Integer()


class CheckinSchema(StrictSchema):
    id = fields.Integer(metadata={"description": "The check-in's id (for undo)."})
    participant_id = fields.Integer()
    site_id = fields.Integer()
    at = fields.DateTime(metadata={"description": "The check-in's time: the device's when "
                                                  "given, else the server's."})
    server_at = fields.DateTime(metadata={"description": "When the server stored it."})
    device_at = fields.DateTime(allow_none=True)
    flags = fields.List(fields.String(validate=validate.OneOf(services.FLAGS)), metadata={
        "description": "offline, late_upload, clock_skew, after_end, other_site_roster, "
                       "not_registered"})
    walk_in = fields.Boolean()
    method = fields.String()
    created = fields.Boolean(metadata={"description": "False: it was already stored (200)."})
    version = fields.Integer(allow_none=True, metadata={
        "description": "An attendance version of the session that includes this check-in: "
                       "a watcher holding an `attendance` of this version or newer counts it."})
    participant = fields.Nested(CheckinParticipant)


class WalkinRequest(StrictSchema):
    site_id = fields.Integer(required=True)
    full_name = Text(required=True, max_length=200)
    sex = fields.String(required=True, validate=validate.OneOf(SEXES))
    unit = Text(max_length=200, allow_none=True, allow_blank=True)
    position = Text(max_length=200, allow_none=True, allow_blank=True)
    phone = Phone(allow_none=True, validate=validate.Length(max=30))
    birth_year = fields.Integer(allow_none=True, validate=validate.Range(min=1900, max=2100))
    client_id = fields.UUID(allow_none=True)
    at = fields.DateTime(allow_none=True)


class WalkinParticipant(CheckinParticipant):
    phone = fields.String(allow_none=True)
    birth_year = fields.Integer(allow_none=True)


class WalkinSchema(StrictSchema):
    participant = fields.Nested(WalkinParticipant)
    checkin = fields.Nested(CheckinSchema)
    created = fields.Boolean()


class AttendanceCounts(StrictSchema):
    registered = fields.Integer()
    present = fields.Integer()
    female = fields.Integer(metadata={"description": "Present women."})
    male = fields.Integer(metadata={"description": "Present men."})
    unspecified = fields.Integer(metadata={"description": "Present, sex not given."})


class AttendanceSite(AttendanceCounts):
    site_id = fields.Integer()
    last_checkin_at = _when("The latest check-in at this site.")


class AttendanceSchema(StrictSchema):
    session_id = fields.Integer()
    version = fields.Integer(metadata={"description": "Strictly increases with every check-in "
                                                      "and undo of the session."})
    sites = fields.List(fields.Nested(AttendanceSite))
    totals = fields.Nested(AttendanceCounts)


class RosterArgs(ListArgs):
    site_id = fields.Integer(required=True)
    per_page = fields.Integer(load_default=MAX_PER_PAGE,
                              validate=validate.Range(min=1, max=MAX_PER_PAGE))


class BoardArgs(ListArgs):
    per_page = fields.Integer(load_default=MAX_PER_PAGE,
                              validate=validate.Range(min=1, max=MAX_PER_PAGE))


class RosterRow(StrictSchema):
    participant_id = fields.Integer()
    code = fields.String()
    full_name = fields.String()
    sex = fields.String(metadata={"enum": SEXES})
    unit = fields.String(allow_none=True)
    position = fields.String(allow_none=True)
    birth_year = fields.Integer(allow_none=True)
    site_id = fields.Integer(metadata={"description": "The site the person is expected at."})
    registered = fields.Boolean()
    walk_in = fields.Boolean()
    checkin_id = fields.Integer(allow_none=True)
    checked_in_at = _when("When the person checked in (here or elsewhere).")
    checkin_site_id = fields.Integer(allow_none=True)
    present = fields.Boolean(metadata={"description": "Checked in at this site."})
    flags = fields.List(fields.String())


class SiteBoardRow(AttendanceCounts):
    site_id = fields.Integer()
    code = fields.String()
    name = fields.String()
    kind = fields.String(metadata={"enum": ["host", "bridge"]})
    status = fields.String(metadata={"enum": ["online", "offline", "issue"],
                                     "description": "As shown: offline without a connected "
                                                    "page, else the reported status."})
    reported_status = fields.String(metadata={"enum": ["unknown", "online", "offline",
                                                       "issue"]})
    status_note = fields.String(allow_none=True)
    status_at = _when("When the status was last reported.")
    connected = fields.Boolean()
    last_seen = _when("When a page of the site was last heard from.")
    rollcall_at = _when("When the site answered the running roll-call.")
    last_checkin_at = _when("The latest check-in at this site.")
    presence = fields.String(metadata={
        "enum": ["live", "never", "lost"],
        "description": "live: a check-in page is open or a check-in arrived in the last "
                       "5 minutes; never: no page was ever opened and nothing checked in; "
                       "lost: heard from before, not now."})
    last_heard_at = _when("The latest sign of life: a page heartbeat or a check-in.")
    conference = fields.Nested(
        "SiteConferenceMedia", allow_none=True,
        metadata={"description": "The site's media on trainer's video room (null when the "
                                 "session's conference is not `builtin`)."})


class SiteConferenceMedia(Schema):
    media = fields.String(metadata={"enum": ["never", "connected", "degraded", "lost"]})
    since = fields.String(allow_none=True)
    last_seen = fields.String(allow_none=True)
    drops = fields.Integer()


class SiteStatusReport(StrictSchema):
    status = fields.String(required=True, validate=validate.OneOf(services.SITE_STATUSES))
    note = Text(max_length=services.NOTE_MAX, allow_none=True, allow_blank=True)


class SiteStatusEvent(StrictSchema):
    session_id = fields.Integer()
    site_id = fields.Integer()
    status = fields.String(metadata={"enum": ["online", "offline", "issue"]})
    note = fields.String(allow_none=True)
    reported_status = fields.String()
    at = _when("When it was reported.")
    connected = fields.Boolean()
    presence = fields.String(metadata={"enum": ["live", "never", "lost"]})
    last_heard_at = _when("The latest sign of life: a page heartbeat or a check-in.")


class RollcallSchema(StrictSchema):
    session_id = fields.Integer()
    started_at = _when("When the roll-call started.")


class RollcallConfirmSchema(StrictSchema):
    session_id = fields.Integer()
    site_id = fields.Integer()
    at = _when("When the site answered.")


class FlaggedRow(StrictSchema):
    kind = fields.String(metadata={"enum": ["checkin", "issue"]})
    id = fields.Integer()
    checkin_id = fields.Integer(allow_none=True)
    participant_id = fields.Integer(allow_none=True)
    full_name = fields.String(allow_none=True)
    code = fields.String(allow_none=True)
    site_id = fields.Integer()
    site_name = fields.String()
    flags = fields.List(fields.String())
    reason = fields.String(allow_none=True, metadata={
        "description": "For refused uploads: conflict, closed, unknown_participant."})
    at = _when("The check-in's time.")
    device_at = _when("The device's time.")
    server_at = _when("The server's time.")
    client_id = fields.String(allow_none=True)
    by_user_id = fields.Integer(allow_none=True)
    details = fields.Dict()
    resolved_at = _when("When an organiser marked it seen.")


RosterList = list_schema(RosterRow, "RosterList")
BoardList = list_schema(SiteBoardRow, "SiteBoardList")
FlaggedList = list_schema(FlaggedRow, "FlaggedList")


def _checkin_out(result: services.CheckinResult) -> dict[str, Any]:
    return {**services.checkin_body(result.checkin), "created": result.created,
            "version": result.version, "participant": result.checkin.participant}


def _paged(items: list[Any], page: int, per_page: int) -> dict[str, Any]:
    return {"items": items[(page - 1) * per_page: page * per_page], "total": len(items)}


# --- check-in -------------------------------------------------------------------------------

@blp.post("/<int:session_id>/checkins")
@blp.arguments(CheckinRequest())  # an instance: webargs would build one per request
@blp.response(201, CheckinSchema, description="Checked in now.")
@blp.alt_response(200, schema=CheckinSchema, description="Already checked in for this "
                  "session at this site, or the same client_id again: nothing counted twice.")
@blp.alt_response(404, response="NOT_FOUND", description="Unknown session or participant.")
@blp.alt_response(409, response="CONFLICT", description="Already checked in at another site "
                  "(checked-in-elsewhere, naming it in site_id / site_name / checkin_at), "
                  "check-in closed (checkin-closed), or undone (checkin-undone).")
def post_checkin(data: dict[str, Any], session_id: int) -> Any:
    """Check a participant in at a site. Retrying is always safe."""
    result = services.check_in(
        _actor(), session_id, site_id=data["site_id"],
        participant_id=data.get("participant_id"),
        participant_code=data.get("participant_code"), client_id=data.get("client_id"),
        at=data.get("at"), method=data.get("method"))
    return _checkin_out(result), 201 if result.created else 200


@blp.delete("/<int:session_id>/checkins/<int:checkin_id>")
@blp.response(204, description="Undone (kept in the audit log); again: 204.")
@blp.alt_response(404, response="NOT_FOUND")
def delete_checkin(session_id: int, checkin_id: int) -> Any:
    """Undo a check-in."""
    services.undo(_actor(), session_id, checkin_id)
    return None


@blp.post("/<int:session_id>/walkins")
@blp.arguments(WalkinRequest)
@blp.response(201, WalkinSchema, description="Registered at the site and checked in.")
@blp.alt_response(200, schema=WalkinSchema, description="The same client_id again.")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def post_walkin(data: dict[str, Any], session_id: int) -> Any:
    """A person not on any list: create them at the site, register and check them in."""
    result = services.walk_in(_actor(), session_id, **data)
    return {"participant": result.checkin.participant, "checkin": _checkin_out(result),
            "created": result.created}, 201 if result.created else 200


@blp.get("/<int:session_id>/attendance")
@blp.response(200, AttendanceSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_attendance(session_id: int) -> Any:
    """Registered and present per site and in total, present by sex, with a version."""
    return services.watch(_actor(), session_id)


@blp.get("/<int:session_id>/roster")
@blp.arguments(RosterArgs, location="query")
@blp.response(200, RosterList)
@blp.alt_response(404, response="NOT_FOUND")
def get_roster(args: dict[str, Any], session_id: int) -> Any:
    """A site's people for this session: expected there or checked in there, sorted by given
    name the Vietnamese way."""
    rows = services.roster(_actor(), session_id, args["site_id"])
    return _paged(rows, args["page"], args["per_page"])


# --- sites: status, board, roll-call --------------------------------------------------------

@blp.get("/<int:session_id>/sites")
@blp.arguments(BoardArgs, location="query")
@blp.response(200, BoardList)
@blp.alt_response(404, response="NOT_FOUND")
def get_board(args: dict[str, Any], session_id: int) -> Any:
    """Every site of the session: status, connection, roll-call, counts (the wall)."""
    rows = services.site_board(_actor(), session_id)
    return _paged(rows, args["page"], args["per_page"])


@blp.post("/<int:session_id>/sites/<int:site_id>/status")
@blp.arguments(SiteStatusReport)
@blp.response(200, SiteStatusEvent)
@blp.alt_response(404, response="NOT_FOUND")
def post_site_status(data: dict[str, Any], session_id: int, site_id: int) -> Any:
    """A coordinator reports its site ready (online), with a problem (issue) or off air."""
    return services.set_site_status(_actor(), session_id, site_id, data["status"],
                                    data.get("note"))


@blp.post("/<int:session_id>/rollcall")
@blp.response(200, RollcallSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def post_rollcall(session_id: int) -> Any:
    """Start a roll-call of the sites (organisers): every site page is asked to confirm."""
    return services.start_rollcall(_actor(), session_id)


@blp.delete("/<int:session_id>/rollcall")
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
def delete_rollcall(session_id: int) -> Any:
    """End the roll-call."""
    services.end_rollcall(_actor(), session_id)
    return None


@blp.post("/<int:session_id>/rollcall/<int:site_id>")
@blp.response(200, RollcallConfirmSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT", description="No roll-call is running.")
def post_rollcall_confirm(session_id: int, site_id: int) -> Any:
    """A site answers the roll-call."""
    return services.confirm_rollcall(_actor(), session_id, site_id)


@blp.get("/<int:session_id>/flagged")
@blp.arguments(ListArgs, location="query")
@blp.response(200, FlaggedList)
@blp.alt_response(404, response="NOT_FOUND")
def get_flagged(args: dict[str, Any], session_id: int) -> Any:
    """Flagged check-ins and refused offline uploads, newest first (organisers)."""
    return _paged(services.flagged(_actor(), session_id), args["page"], args["per_page"])


@blp.post("/<int:session_id>/issues/<int:issue_id>/resolve")
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
def post_resolve_issue(session_id: int, issue_id: int) -> Any:
    """Mark a refused upload as seen."""
    services.resolve_issue(_actor(), session_id, issue_id)
    return None
