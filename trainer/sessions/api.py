"""/api/v1/sessions and /api/v1/trainings: scheduling, agendas, per-site details, rosters."""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate
from sqlalchemy import func, select

from trainer.apiutil import ListArgs, StrictSchema, Text, list_schema, page_of
from trainer.conference import providers
from trainer.extensions import db
from trainer.sessions import rules, services
from trainer.sessions.models import TrainingSession

blp = Blueprint("api_sessions", __name__, url_prefix="/api/v1",
                description="Trainings, sessions across bridge points, agendas and rosters.")

STATUSES = ["scheduled", "live", "ended"]
TIME_RE = rules.TIME_PATTERN


# --------------------------------------------------------------------------- schemas


# the service counts different topics (a repeated one is kept once); the schema, items
TOPICS_DOC = {"maxItems": services.MAX_TOPICS,
              "description": f"At most {services.MAX_TOPICS} different topics."}


class AgendaItemIn(StrictSchema):
    time = fields.String(allow_none=True, load_default=None,
                         validate=validate.Regexp(TIME_RE, error=_l("A time such as 07:30.")),
                         metadata={"description": "Local time of day, HH:MM."})
    title = Text(required=True, max_length=300)
    presenter = Text(max_length=200, allow_none=True, allow_blank=True, load_default=None)
    presenter_org = Text(max_length=300, allow_none=True, allow_blank=True, load_default=None)


class AgendaItemPatch(AgendaItemIn):
    time = fields.String(allow_none=True,
                         validate=validate.Regexp(TIME_RE, error=_l("A time such as 07:30.")))
    title = Text(max_length=300)
    presenter = Text(max_length=200, allow_none=True, allow_blank=True)
    presenter_org = Text(max_length=300, allow_none=True, allow_blank=True)


class AgendaItemOut(Schema):
    id = fields.Integer()
    position = fields.Integer()
    time = fields.Method("_time", metadata={"description": "Local time of day, HH:MM."})
    title = fields.String()
    presenter = fields.String(allow_none=True)
    presenter_org = fields.String(allow_none=True)

    def _time(self, item: Any) -> str | None:
        return item.starts_at.strftime("%H:%M") if item.starts_at else None


class AgendaReplace(StrictSchema):
    items = fields.List(fields.Nested(AgendaItemIn), required=True)


class ConferenceLink(Text):
    """A conference link: rules.clean_conference_url reads it (http or https, a host name)."""

    web_address = {"named_host": True}


class SessionConferenceIn(StrictSchema):
    provider = fields.String(required=True, validate=validate.OneOf(["builtin", "link"]),
                             metadata={"description": "builtin: trainer's video room (when a "
                                       "video server is available); link: an external URL"})
    url = ConferenceLink(max_length=1000, allow_none=True, allow_blank=True)


class SessionConferenceOut(Schema):
    provider = fields.String(metadata={"enum": ["builtin", "link"]})
    url = fields.String(allow_none=True)


class SessionCreate(StrictSchema):
    title = Text(required=True, max_length=300)
    starts_at = fields.DateTime(required=True, metadata={
        "description": "ISO 8601 with an offset; without one, local time (Asia/Ho_Chi_Minh)."})
    ends_at = fields.DateTime(required=True)
    host_site_id = fields.Integer(required=True)
    site_ids = fields.List(fields.Integer(), load_default=list, metadata={
        "description": "The bridge points; the host site takes part too."})
    topics = fields.List(Text(max_length=services.MAX_TOPIC_LEN), load_default=list,
                         metadata=TOPICS_DOC)
    conference_url = ConferenceLink(max_length=1000, allow_none=True, allow_blank=True,
                                    load_default=None,
                          metadata={"description": "Any http(s) link; Jitsi, Zoom, Google "
                                    "Meet and Teams are recognised."})
    conference = fields.Nested(SessionConferenceIn, allow_none=True, metadata={
        "description": "The video conference; `conference_url` alone means a link."})
    description = Text(max_length=10000, multiline=True, allow_none=True, allow_blank=True)
    training_id = fields.Integer(allow_none=True)
    checkin_grace_minutes = fields.Integer(
        validate=validate.Range(min=0, max=services.MAX_GRACE_MINUTES),
        metadata={"description": "Minutes after the end during which check-ins are still "
                                 "accepted."})
    agenda = fields.List(fields.Nested(AgendaItemIn))


class SessionPatch(StrictSchema):
    title = Text(max_length=300)
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    host_site_id = fields.Integer()
    site_ids = fields.List(fields.Integer())
    topics = fields.List(Text(max_length=services.MAX_TOPIC_LEN), metadata=TOPICS_DOC)
    conference_url = ConferenceLink(max_length=1000, allow_none=True, allow_blank=True)
    conference = fields.Nested(SessionConferenceIn, allow_none=True)
    description = Text(max_length=10000, multiline=True, allow_none=True, allow_blank=True)
    training_id = fields.Integer(allow_none=True)
    checkin_grace_minutes = fields.Integer(
        validate=validate.Range(min=0, max=services.MAX_GRACE_MINUTES))


class SessionCopy(StrictSchema):
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)
    title = Text(max_length=300)
    training_id = fields.Integer(allow_none=True)
    agenda = fields.Boolean(load_default=True)
    roster = fields.Boolean(load_default=False)


class StatusIn(StrictSchema):
    status = fields.String(required=True, validate=validate.OneOf(["live", "ended"]))


class CoordinatorOut(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String(allow_none=True)


class SessionSiteOut(Schema):
    site_id = fields.Integer()
    code = fields.String()
    name = fields.String()
    is_host = fields.Boolean()
    chair_name = fields.String(allow_none=True)
    chair_title = fields.String(allow_none=True)
    coordinators = fields.List(fields.Nested(CoordinatorOut))
    status = fields.String(metadata={"description": "unknown, online, offline or issue"})
    registered = fields.Integer()
    female = fields.Integer(metadata={"description": "Expected women"})
    male = fields.Integer()
    unspecified = fields.Integer()


class SessionSitePatch(StrictSchema):
    chair_name = Text(max_length=200, allow_none=True, allow_blank=True)
    chair_title = Text(max_length=200, allow_none=True, allow_blank=True)
    coordinator_ids = fields.List(fields.Integer())


class SessionOut(Schema):
    id = fields.Integer()
    title = fields.String()
    training_id = fields.Integer(allow_none=True)
    training_title = fields.String(allow_none=True)
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    host_site_id = fields.Integer()
    site_ids = fields.List(fields.Integer())
    topics = fields.List(fields.String())
    conference = fields.Nested(SessionConferenceOut, allow_none=True)
    conference_url = fields.String(allow_none=True)
    conference_service = fields.String(allow_none=True, metadata={
        "description": "zoom, meet, teams, jitsi, webex or null"})
    join_label = fields.String()
    description = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": STATUSES})
    checkin_grace_minutes = fields.Integer()
    ics_sequence = fields.Integer()
    registered = fields.Integer(metadata={"description": "People on the expected roster"})
    sites = fields.List(fields.Nested(SessionSiteOut))
    agenda = fields.List(fields.Nested(AgendaItemOut))
    url = fields.String(metadata={"description": "The session page"})
    ics_url = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class SessionListItem(Schema):
    id = fields.Integer()
    title = fields.String()
    training_id = fields.Integer(allow_none=True)
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    host_site_id = fields.Integer()
    site_ids = fields.List(fields.Integer())
    topics = fields.List(fields.String())
    conference_url = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": STATUSES})
    registered = fields.Integer()


SessionList = list_schema(SessionListItem, "SessionList")


class SessionListArgs(ListArgs):
    start = fields.DateTime(data_key="from", metadata={
        "description": "Sessions still running at or after this time (a date or date-time)."})
    end = fields.DateTime(data_key="to", metadata={
        "description": "Sessions starting before this time."})
    status = fields.String(validate=validate.OneOf(STATUSES))
    training_id = fields.Integer()
    site_id = fields.Integer()


class RegistrationsIn(StrictSchema):
    participant_ids = fields.List(fields.Integer(), load_default=list,
                                  validate=validate.Length(max=services.IMPORT_MAX_ROWS))
    site_ids = fields.List(fields.Integer(), load_default=list, metadata={
        "description": "Add every participant whose home site is one of these."})
    unit_ids = fields.List(fields.Integer(), load_default=list, metadata={
        "description": "Add every participant of these communes / centres."})

    openapi_rules = {"anyOf": [{"required": [name], "properties": {name: {"minItems": 1}}}
                               for name in ("participant_ids", "site_ids", "unit_ids")]}


class SiteCount(Schema):
    site_id = fields.Integer()
    registered = fields.Integer()


class RosterOut(Schema):
    session_id = fields.Integer()
    added = fields.Integer(metadata={"description": "Newly added to the roster"})
    already = fields.Integer(metadata={"description": "Asked for but already on it"})
    registered = fields.Integer(metadata={"description": "On the roster now"})
    sites = fields.List(fields.Nested(SiteCount))


class RegistrationOut(Schema):
    participant_id = fields.Integer()
    site_id = fields.Integer()
    code = fields.String()
    full_name = fields.String()
    sex = fields.String()
    unit = fields.String(allow_none=True)
    position = fields.String(allow_none=True)
    walk_in = fields.Boolean()
    checked_in = fields.Boolean()


RegistrationList = list_schema(RegistrationOut, "RegistrationList")


class RegistrationListArgs(ListArgs):
    site_id = fields.Integer()
    q = Text(max_length=200, allow_blank=True)


class ImportFile(StrictSchema):
    file = Upload(required=True)


class TrainingIn(StrictSchema):
    title = Text(required=True, max_length=300)
    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))
    lead_agency = Text(max_length=300, allow_none=True, allow_blank=True)
    partners = fields.List(Text(max_length=300), metadata={
        "maxItems": services.MAX_PARTNERS,
        "description": f"At most {services.MAX_PARTNERS} different partners."})
    description = Text(max_length=10000, multiline=True, allow_none=True, allow_blank=True)
    topics = fields.List(Text(max_length=services.MAX_TOPIC_LEN), metadata=TOPICS_DOC)


class TrainingPatch(TrainingIn):
    title = Text(max_length=300)
    year = fields.Integer(validate=validate.Range(min=2000, max=2100))


class TrainingOut(Schema):
    id = fields.Integer()
    title = fields.String()
    year = fields.Integer()
    lead_agency = fields.String(allow_none=True)
    partners = fields.List(fields.String())
    description = fields.String(allow_none=True)
    topics = fields.List(fields.String())
    session_ids = fields.Method("_session_ids")

    def _session_ids(self, training: Any) -> list[int]:
        return [s.id for s in training.sessions]


TrainingList = list_schema(TrainingOut, "TrainingList")


# --------------------------------------------------------------------------- bodies


def session_body(session: TrainingSession) -> dict[str, Any]:
    rows = services.site_rows(session)
    return {
        "id": session.id, "title": session.title, "training_id": session.training_id,
        "training_title": session.training.title if session.training else None,
        "starts_at": session.starts_at, "ends_at": session.ends_at,
        "host_site_id": session.host_site_id, "site_ids": [r.site_id for r in rows],
        "topics": list(session.topics or []), "conference_url": session.conference_url,
        "conference": providers.body(session),
        "conference_service": services.conference_service(session.conference_url),
        "join_label": services.join_label(session.conference_url),
        "description": session.description, "status": session.status.value,
        "checkin_grace_minutes": session.checkin_grace_minutes,
        "ics_sequence": session.ics_sequence,
        "registered": sum(r.registered for r in rows),
        "sites": [site_body(r) for r in rows],
        "agenda": list(session.agenda),
        "url": url_for("sessions.show", session_id=session.id),
        "ics_url": url_for("sessions.ics", session_id=session.id),
        "created_at": session.created_at, "updated_at": session.updated_at,
    }


def site_body(row: services.SiteRow) -> dict[str, Any]:
    return {
        "site_id": row.site_id, "code": row.site.code, "name": row.site.name,
        "is_host": row.is_host, "chair_name": row.chair_name, "chair_title": row.chair_title,
        "coordinators": row.coordinators, "status": row.session_site.status.value,
        "registered": row.registered, "female": row.female, "male": row.male,
        "unspecified": row.unspecified,
    }


def roster_body(session: TrainingSession, result: services.RosterResult) -> dict[str, Any]:
    return {"session_id": session.id, "added": result.added, "already": result.already,
            "registered": result.registered, "sites": result.sites}


# --------------------------------------------------------------------------- sessions


@blp.get("/sessions")
@blp.arguments(SessionListArgs, location="query")
@blp.response(200, SessionList)
def list_sessions(args: dict[str, Any]) -> Any:
    """Sessions the caller may see (a coordinator: those of its sites), by start time."""
    stmt = services.sessions_stmt(current_user, start=args.get("start"), end=args.get("end"),
                                  status=args.get("status"), training_id=args.get("training_id"),
                                  site_id=args.get("site_id"))
    page = page_of(stmt, args["page"], args["per_page"])
    sessions = page["items"]
    totals = services.registered_totals([s.id for s in sessions])
    page["items"] = [{
        "id": s.id, "title": s.title, "training_id": s.training_id, "starts_at": s.starts_at,
        "ends_at": s.ends_at, "host_site_id": s.host_site_id,
        "site_ids": sorted(ss.site_id for ss in s.session_sites),
        "topics": list(s.topics or []), "conference_url": s.conference_url,
        "status": s.status.value, "registered": totals.get(s.id, 0),
    } for s in sessions]
    return page


@blp.post("/sessions")
@blp.arguments(SessionCreate)
@blp.response(201, SessionOut)
def create_session(data: dict[str, Any]) -> Any:
    """Schedule a session (organisers). `site_ids` lists the bridge points; the host takes
    part too. Answers with the session, its status "scheduled"."""
    agenda = data.pop("agenda", None)
    return session_body(services.create_session(current_user, providers.from_api(data),
                                                agenda=agenda))


@blp.get("/sessions/<int:session_id>")
@blp.response(200, SessionOut)
def get_session(session_id: int) -> Any:
    return session_body(services.get_session(current_user, session_id))


@blp.patch("/sessions/<int:session_id>")
@blp.arguments(SessionPatch)
@blp.response(200, SessionOut)
def update_session(data: dict[str, Any], session_id: int) -> Any:
    """Change some fields. 409 when a site to remove still has people on its roster."""
    session = services.get_session(current_user, session_id)
    return session_body(services.update_session(current_user, session, providers.from_api(data)))


@blp.delete("/sessions/<int:session_id>")
@blp.response(204)
def delete_session(session_id: int) -> None:
    """Delete a session that never went live (409 otherwise)."""
    services.delete_session(current_user, services.get_session(current_user, session_id))


@blp.post("/sessions/<int:session_id>/status")
@blp.arguments(StatusIn)
@blp.response(200, SessionOut)
@blp.alt_response(409, description="A change of status that is not allowed "
                                   "(scheduled -> live -> ended only)")
def set_status(data: dict[str, Any], session_id: int) -> Any:
    """scheduled -> live -> ended. Asking for the current status again changes nothing."""
    session = services.get_session(current_user, session_id)
    services.set_status(current_user, session, data["status"])
    return session_body(session)


@blp.post("/sessions/<int:session_id>/copy")
@blp.arguments(SessionCopy)
@blp.response(201, SessionOut)
def copy_session(data: dict[str, Any], session_id: int) -> Any:
    """A new scheduled session like this one at new times: same sites, chairs and link; the
    agenda (default) and the roster (on request) too."""
    source = services.get_session(current_user, session_id)
    agenda, roster = data.pop("agenda"), data.pop("roster")
    result = services.copy_session(current_user, source, data, agenda=agenda, roster=roster)
    return session_body(result.session)


@blp.get("/sessions/<int:session_id>/agenda")
@blp.response(200, AgendaItemOut(many=True))
def get_agenda(session_id: int) -> Any:
    return services.get_session(current_user, session_id).agenda


@blp.put("/sessions/<int:session_id>/agenda")
@blp.arguments(AgendaReplace)
@blp.response(200, AgendaItemOut(many=True))
def replace_agenda(data: dict[str, Any], session_id: int) -> Any:
    """Replace the whole agenda, in the order given."""
    session = services.get_session(current_user, session_id)
    return services.replace_agenda(current_user, session, data["items"])


@blp.post("/sessions/<int:session_id>/agenda")
@blp.arguments(AgendaItemIn)
@blp.response(201, AgendaItemOut)
def add_agenda_item(data: dict[str, Any], session_id: int) -> Any:
    """Add an item; with a time it takes its place in time order."""
    session = services.get_session(current_user, session_id)
    return services.add_agenda_item(current_user, session, data)


@blp.patch("/sessions/<int:session_id>/agenda/<int:item_id>")
@blp.arguments(AgendaItemPatch)
@blp.response(200, AgendaItemOut)
def update_agenda_item(data: dict[str, Any], session_id: int, item_id: int) -> Any:
    session = services.get_session(current_user, session_id)
    return services.update_agenda_item(current_user, services.get_agenda_item(session, item_id),
                                       data)


@blp.delete("/sessions/<int:session_id>/agenda/<int:item_id>")
@blp.response(204)
def delete_agenda_item(session_id: int, item_id: int) -> None:
    session = services.get_session(current_user, session_id)
    services.delete_agenda_item(current_user, services.get_agenda_item(session, item_id))


@blp.patch("/sessions/<int:session_id>/sites/<int:site_id>")
@blp.arguments(SessionSitePatch)
@blp.response(200, SessionSiteOut)
def update_session_site(data: dict[str, Any], session_id: int, site_id: int) -> Any:
    """The local chair and the coordinator accounts of one site of the session."""
    session = services.get_session(current_user, session_id)
    services.update_session_site(current_user, session, site_id, data)
    return next(site_body(r) for r in services.site_rows(session) if r.site_id == site_id)


# --------------------------------------------------------------------------- rosters


@blp.get("/sessions/<int:session_id>/registrations")
@blp.arguments(RegistrationListArgs, location="query")
@blp.response(200, RegistrationList)
def list_registrations(args: dict[str, Any], session_id: int) -> Any:
    """The expected roster, sorted by given name the Vietnamese way. A coordinator sees the
    people of its own sites only."""
    session = services.get_session(current_user, session_id)
    stmt = services.roster_stmt(current_user, session, args.get("site_id"), args.get("q"))
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.execute(stmt.limit(args["per_page"])
                              .offset((args["page"] - 1) * args["per_page"])).all()
    present = services.checked_in_ids(session, [p.id for _, p in rows])
    items = [{"participant_id": p.id, "site_id": r.site_id, "code": p.code,
              "full_name": p.full_name, "sex": p.sex.value, "unit": p.unit,
              "position": p.position, "walk_in": r.walk_in, "checked_in": p.id in present}
             for r, p in rows]
    return {"items": items, "total": total or 0}


@blp.post("/sessions/<int:session_id>/registrations")
@blp.arguments(RegistrationsIn)
@blp.response(200, RosterOut)
def add_registrations(data: dict[str, Any], session_id: int) -> Any:
    """Add people to the expected roster, each at their home site (organisers). By
    `participant_ids`, or everyone of `site_ids` / `unit_ids`. All or nothing: 422 naming
    the people whose home site does not take part in the session."""
    session = services.get_session(current_user, session_id)
    result = services.register_participants(current_user, session, **data)
    return roster_body(session, result)


@blp.post("/sessions/<int:session_id>/registrations/import")
@blp.arguments(ImportFile, location="files")
@blp.response(200, RosterOut)
def import_registrations(files: dict[str, Any], session_id: int) -> Any:
    """A CSV or XLSX list of people (column Mã học viên / code, or Họ và tên with Mã điểm cầu
    and Năm sinh or Điện thoại). All or nothing: 422 with a message per bad row."""
    session = services.get_session(current_user, session_id)
    upload = files["file"]
    data = upload.read(current_app.config["IMPORT_MAX_BYTES"] + 1)
    result = services.import_roster(current_user, session, upload.filename or "", data,
                                    max_bytes=current_app.config["IMPORT_MAX_BYTES"])
    return roster_body(session, result)


@blp.delete("/sessions/<int:session_id>/registrations/<int:participant_id>")
@blp.response(204)
def delete_registration(session_id: int, participant_id: int) -> None:
    session = services.get_session(current_user, session_id)
    services.unregister(current_user, session, participant_id)


# --------------------------------------------------------------------------- trainings


@blp.get("/trainings")
@blp.arguments(ListArgs, location="query")
@blp.response(200, TrainingList)
def list_trainings(args: dict[str, Any]) -> Any:
    return page_of(services.list_trainings(current_user), args["page"], args["per_page"])


@blp.post("/trainings")
@blp.arguments(TrainingIn)
@blp.response(201, TrainingOut)
def create_training(data: dict[str, Any]) -> Any:
    return services.create_training(current_user, data)


@blp.get("/trainings/<int:training_id>")
@blp.response(200, TrainingOut)
def get_training(training_id: int) -> Any:
    return services.get_training(current_user, training_id)


@blp.patch("/trainings/<int:training_id>")
@blp.arguments(TrainingPatch)
@blp.response(200, TrainingOut)
def update_training(data: dict[str, Any], training_id: int) -> Any:
    training = services.get_training(current_user, training_id)
    return services.update_training(current_user, training, data)
