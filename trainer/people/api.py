"""/api/v1/participants."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import fields, validate

from trainer.apiutil import ListArgs, StrictSchema, Text, list_schema, page_of
from trainer.people import services

blp = Blueprint("api_participants", __name__, url_prefix="/api/v1/participants",
                description="Participants (trainees), their codes, search and import.")

SEXES = ["female", "male", "unspecified"]


class ParticipantSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    code = Text(max_length=16)
    full_name = Text(required=True, max_length=200)
    family_name = Text(max_length=100, allow_blank=True)
    middle_name = Text(max_length=100, allow_blank=True)
    given_name = Text(max_length=100, allow_blank=True)
    sex = fields.String(required=True, validate=validate.OneOf(SEXES))
    site_id = fields.Integer(required=True)
    unit = Text(max_length=200, allow_none=True, allow_blank=True)
    unit_id = fields.Integer(dump_only=True, allow_none=True)
    position = Text(max_length=200, allow_none=True, allow_blank=True)
    phone = fields.String(allow_none=True, validate=validate.Length(max=30))
    birth_year = fields.Integer(allow_none=True, validate=validate.Range(min=1900, max=2100))
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class ParticipantUpdateSchema(ParticipantSchema):
    full_name = Text(max_length=200)
    sex = fields.String(validate=validate.OneOf(SEXES))
    site_id = fields.Integer()


class ParticipantListArgs(ListArgs):
    q = Text(max_length=200, allow_blank=True)
    site_id = fields.Integer()
    unit_id = fields.Integer()
    sex = fields.String(validate=validate.OneOf(SEXES))


ParticipantList = list_schema(ParticipantSchema, "ParticipantList")


@blp.get("")
@blp.arguments(ParticipantListArgs, location="query")
@blp.response(200, ParticipantList)
def list_participants(args: dict[str, Any]) -> Any:
    """Participants the caller may see, sorted by given name the Vietnamese way; `q` matches
    names with or without diacritics, or a participant code."""
    stmt = services.search(current_user, q=args.get("q"), site_id=args.get("site_id"),
                           unit_id=args.get("unit_id"), sex=args.get("sex"))
    return page_of(stmt, args["page"], args["per_page"])


@blp.post("")
@blp.arguments(ParticipantSchema)
@blp.response(201, ParticipantSchema)
def create_participant(data: dict[str, Any]) -> Any:
    return services.create(current_user, data)


@blp.get("/<int:participant_id>")
@blp.response(200, ParticipantSchema)
def get_participant(participant_id: int) -> Any:
    return services.get(current_user, participant_id)


@blp.patch("/<int:participant_id>")
@blp.arguments(ParticipantUpdateSchema)
@blp.response(200, ParticipantSchema)
def update_participant(data: dict[str, Any], participant_id: int) -> Any:
    return services.update(current_user, services.get(current_user, participant_id), data)
