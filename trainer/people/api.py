"""/api/v1/participants."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from trainer.apiutil import ListArgs, Phone, ProblemSchema, StrictSchema, Text, list_schema, page_of
from trainer.people import importer, services

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
    phone = Phone(allow_none=True, validate=validate.Length(max=30))
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


class ImportFileSchema(StrictSchema):
    file = Upload(required=True, metadata={"description": "The roster: CSV or XLSX."})


class ImportFormSchema(StrictSchema):
    site_id = fields.Integer(metadata={
        "description": "The site of rows that name none (no Mã điểm cầu / site_code)."})
    dry_run = fields.Boolean(load_default=False, metadata={
        "description": "Check only: report what would be created and updated, write nothing."})


class ImportRequestSchema(Schema):
    """The multipart body as a whole (documentation only)."""

    file = Upload(required=True, metadata={"description": "The roster: CSV or XLSX."})
    site_id = fields.Integer(metadata={
        "description": "The site of rows that name none (no Mã điểm cầu / site_code)."})
    dry_run = fields.Boolean(metadata={
        "description": "Check only: report what would be created and updated, write nothing."})


class ImportErrorSchema(Schema):
    row = fields.Integer(metadata={"description": "Row number as the spreadsheet shows it."})
    message = fields.String()


class ImportPreviewSchema(Schema):
    row = fields.Integer()
    action = fields.String(metadata={"description": "create, update, same or error"})
    message = fields.String(allow_none=True)
    id = fields.Integer(allow_none=True)
    code = fields.String(allow_none=True)
    full_name = fields.String(allow_none=True)
    sex = fields.String(allow_none=True)
    birth_year = fields.Integer(allow_none=True)
    position = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    site_code = fields.String(allow_none=True)


class ImportResultSchema(Schema):
    created = fields.Integer(metadata={"description": "Participants created."})
    updated = fields.Integer(metadata={
        "description": "Rows matched to a stored participant (by code, or by name, site and "
                       "birth year or phone), changed or not."})
    unchanged = fields.Integer(metadata={
        "description": "Of the updated rows, those that changed nothing."})
    rows = fields.Integer(metadata={"description": "Data rows read (blank rows skipped)."})
    dry_run = fields.Boolean()
    header_row = fields.Integer()
    columns = fields.List(fields.String(), metadata={"description": "Columns recognised."})
    ignored_columns = fields.List(fields.String())
    errors = fields.List(fields.Nested(ImportErrorSchema), metadata={
        "description": "Rows not imported, with the reason; the other rows are imported."})
    preview = fields.List(fields.Nested(ImportPreviewSchema), metadata={
        "description": "The first 50 rows and what happens to each (dry run only)."})


@blp.post("/import")
@blp.arguments(ImportFileSchema, location="files")
@blp.arguments(ImportFormSchema, location="form", content_type="multipart/form-data")
# One multipart body holds the file and the form fields: document it as one schema.
@blp.doc(parameters=[], requestBody={
    "required": True, "content": {"multipart/form-data": {"schema": ImportRequestSchema}}})
@blp.response(200, ImportResultSchema)
@blp.alt_response(413, schema=ProblemSchema, description="The file is larger than the server "
                  "accepts (IMPORT_MAX_BYTES) or has too many rows.")
@blp.alt_response(403, schema=ProblemSchema, description="A coordinator naming another site.")
def import_participants(files: dict[str, Any], form: dict[str, Any]) -> Any:
    """Import a roster (CSV or XLSX)

    Columns by header, in English or Vietnamese:
    full_name / Họ và tên, sex / Giới tính, site_code / Mã điểm cầu, unit / Đơn vị,
    position / Chức vụ, phone / Điện thoại, birth_year / Năm sinh, code / Mã học viên.
    A row whose code names a stored participant updates it; so does a row with the same
    name, site and birth year or phone. Bad rows are listed in `errors`; the others are
    imported, each row whole or not at all. Coordinators import rows of their sites only."""
    upload = files["file"]
    report = importer.import_roster(current_user, upload, upload.filename or "",
                                    dry_run=form.get("dry_run", False),
                                    site_id=form.get("site_id"))
    if not report["dry_run"]:
        report.pop("preview")
    return report


@blp.get("/<int:participant_id>")
@blp.response(200, ParticipantSchema)
def get_participant(participant_id: int) -> Any:
    return services.get(current_user, participant_id)


@blp.patch("/<int:participant_id>")
@blp.arguments(ParticipantUpdateSchema)
@blp.response(200, ParticipantSchema)
def update_participant(data: dict[str, Any], participant_id: int) -> Any:
    return services.update(current_user, services.get(current_user, participant_id), data)
