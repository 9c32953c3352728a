"""/api/v1/materials: files and links, their versions, topics and download counts."""

from __future__ import annotations

from typing import Any

from flask import request, url_for
from flask_babel import gettext
from flask_login import current_user
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import ValidationError, fields, validate
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict, FileStorage

from trainer.apiutil import (
    ListArgs,
    ProblemSchema,
    StrictSchema,
    Text,
    WebAddress,
    list_schema,
    page_of,
)
from trainer.auth.services import require_any, require_staff
from trainer.materials import services, storage
from trainer.materials.models import Material, MaterialVersion

MULTIPART_SLACK = 1024 * 1024  # room for the other form fields and the multipart framing


class _Parser(FlaskParser):
    """`form` reads multipart fields and files together (one request body in the
    OpenAPI document), or a JSON body when one is sent."""

    def load_form(self, req: Any, schema: Any) -> Any:
        if req.mimetype == "application/json":
            return self.load_json(req, schema)
        return self._makeproxy(CombinedMultiDict([req.form, req.files]), schema)


class MaterialsBlueprint(Blueprint):
    ARGUMENTS_PARSER = _Parser()


blp = MaterialsBlueprint(
    "api_materials", __name__, url_prefix="/api/v1/materials",
    description="Training materials: files (PDF, Word, PowerPoint, Excel, OpenDocument, "
                "images, MP4) kept by content hash with their versions, and links.",
)

UPLOAD_ENDPOINTS = {"api_materials.create_material", "api_materials.add_version"}


@blp.url_value_preprocessor
def _upload_limit(endpoint: str | None, _values: Any) -> None:
    """Uploads may be as large as MATERIALS_MAX_BYTES (plus the form around the file):
    anything larger is refused with 413 before its body is read."""
    if endpoint in UPLOAD_ENDPOINTS:
        request.max_content_length = storage.max_bytes() + MULTIPART_SLACK


@blp.before_request
def _writers_only() -> None:
    """Refuse coordinators before a large body is read (the services check again)."""
    if request.method not in ("GET", "HEAD", "OPTIONS") and current_user.is_authenticated:
        require_staff(current_user)


class FileField(Upload):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, FileStorage):
            raise ValidationError(gettext("Send a file (multipart/form-data)."))
        return value


class MaterialTopicSchema(StrictSchema):
    key = fields.String(validate=validate.Regexp(services.TOPIC_KEY_RE))
    name_vi = Text(required=True, max_length=200)
    name_en = Text(max_length=200, allow_none=True, load_default=None)
    name = fields.Method("_name", dump_only=True)

    def _name(self, topic: Any) -> str:
        return services.topic_name(topic)


class MaterialSchema(StrictSchema):
    id = fields.Integer()
    title = fields.String()
    topic = fields.String(attribute="topic_key")
    kind = fields.Method("_kind", metadata={"enum": ["file", "link"]})
    filename = fields.Method("_filename", allow_none=True)
    size = fields.Method("_size", allow_none=True, metadata={"type": "integer"})
    sha256 = fields.Method("_sha256", allow_none=True)
    content_type = fields.Method("_content_type", allow_none=True)
    url = fields.Method("_url", metadata={
        "description": "Files: the download address (GET returns the file as an "
                       "attachment; add ?inline=1 to view PDFs, images and video in the "
                       "browser). Links: the web address."})
    version = fields.Integer(attribute="current_version", allow_none=True)
    language = fields.String()
    description = fields.String(allow_none=True)
    visibility = fields.Method("_visibility", metadata={"enum": ["staff", "shared"]})
    training_id = fields.Integer(allow_none=True)
    session_id = fields.Integer(allow_none=True)
    agenda_item_id = fields.Integer(allow_none=True)
    page_url = fields.Method("_page_url")
    created_at = fields.DateTime()
    updated_at = fields.DateTime()

    def _kind(self, m: Material) -> str:
        return m.kind.value

    def _visibility(self, m: Material) -> str:
        return m.visibility.value

    def _filename(self, m: Material) -> str | None:
        return m.version.filename if m.version else None

    def _size(self, m: Material) -> int | None:
        return m.version.size if m.version else None

    def _sha256(self, m: Material) -> str | None:
        return m.version.blob_sha256 if m.version else None

    def _content_type(self, m: Material) -> str | None:
        return m.version.content_type if m.version else None

    def _url(self, m: Material) -> str | None:
        if m.is_file:
            return url_for("materials.download", material_id=m.id, _external=True)
        return m.url

    def _page_url(self, m: Material) -> str:
        return url_for("materials.show", material_id=m.id, _external=True)


# what library.attachment() checks: one training, session or agenda item at most
ONE_ATTACHMENT = {"not": {"anyOf": [
    {"required": pair, "properties": {name: {"type": "integer"} for name in pair}}
    for pair in (["training_id", "session_id"], ["training_id", "agenda_item_id"],
                 ["session_id", "agenda_item_id"])]}}


class MaterialForm(StrictSchema):
    """multipart/form-data: a `file`, or a `url` for a link (a JSON body works for links)."""

    file = FileField(metadata={"description": "The file (PDF, DOCX, PPTX, XLSX, ODT/ODS/ODP, "
                                              "PNG, JPEG, GIF, WebP or MP4)."})
    url = WebAddress(validate=validate.Length(max=services.URL_MAX),
                     metadata={"description": "A link's web address, instead of a file."})
    title = Text(max_length=services.TITLE_MAX, allow_blank=True,
                 metadata={"description": "Defaults to the file name."})
    topic = fields.String(required=True, metadata={
        "description": "A topic key: management, gender or one an organiser added "
                       "(GET /api/v1/materials/topics)."})
    language = fields.String(load_default="vi", validate=validate.Regexp(services.LANGUAGE_RE))
    description = Text(max_length=services.DESCRIPTION_MAX, allow_blank=True, multiline=True)
    visibility = fields.String(load_default="staff",
                               validate=validate.OneOf(["staff", "shared"]),
                               metadata={"description": "staff: accounts only; shared: "
                                                        "also trainees, from the session's "
                                                        "public page."})
    # a form has no null: an attachment not wanted is a field not sent
    training_id = fields.Integer(validate=validate.Range(min=1))
    session_id = fields.Integer(validate=validate.Range(min=1))
    agenda_item_id = fields.Integer(validate=validate.Range(min=1))

    openapi_rules = {"oneOf": [{"required": ["file"]}, {"required": ["url"]}]}


class MaterialVersionForm(StrictSchema):
    file = FileField(required=True)


class MaterialPatch(StrictSchema):
    title = Text(max_length=services.TITLE_MAX)
    topic = fields.String()
    language = fields.String(validate=validate.Regexp(services.LANGUAGE_RE))
    description = Text(max_length=services.DESCRIPTION_MAX, allow_blank=True, multiline=True,
                       allow_none=True)
    visibility = fields.String(validate=validate.OneOf(["staff", "shared"]))
    url = WebAddress(validate=validate.Length(max=services.URL_MAX))
    training_id = fields.Integer(allow_none=True, validate=validate.Range(min=1))
    session_id = fields.Integer(allow_none=True, validate=validate.Range(min=1))
    agenda_item_id = fields.Integer(allow_none=True, validate=validate.Range(min=1))

    openapi_rules = ONE_ATTACHMENT
    current_version = fields.Integer(metadata={"description": "Serve an earlier version "
                                                              "again."})


class MaterialListArgs(ListArgs):
    session_id = fields.Integer(metadata={"description": "The session, its agenda items "
                                                         "and its training."})
    training_id = fields.Integer(metadata={"description": "The training and its sessions."})
    topic = fields.String()
    q = Text(max_length=200, allow_blank=True, metadata={
        "description": "Words of the title, with or without diacritics."})
    kind = fields.String(validate=validate.OneOf(["file", "link"]))
    visibility = fields.String(validate=validate.OneOf(["staff", "shared"]))


class MaterialVersionSchema(StrictSchema):
    number = fields.Integer()
    filename = fields.String()
    size = fields.Integer()
    sha256 = fields.String(attribute="blob_sha256")
    content_type = fields.String()
    uploaded_at = fields.DateTime()
    uploaded_by_id = fields.Integer(allow_none=True)
    current = fields.Method("_current", metadata={"type": "boolean"})
    url = fields.Method("_url")

    def _current(self, v: MaterialVersion) -> bool:
        return v.number == v.material.current_version

    def _url(self, v: MaterialVersion) -> str:
        return url_for("materials.download_version", material_id=v.material_id,
                       number=v.number, _external=True)


class MaterialSiteCountSchema(StrictSchema):
    site_id = fields.Integer(allow_none=True)
    name = fields.String()
    count = fields.Integer()


class MaterialDownloadsSchema(StrictSchema):
    material_id = fields.Integer()
    total = fields.Integer()
    sites = fields.List(fields.Nested(MaterialSiteCountSchema))


MaterialList = list_schema(MaterialSchema, "MaterialList")
MaterialTopicList = list_schema(MaterialTopicSchema, "MaterialTopicList")
PROBLEM_413 = {"schema": ProblemSchema, "content_type": "application/problem+json",
               "description": "The file is over the size limit; nothing was kept."}
PROBLEM_422 = {"schema": ProblemSchema, "content_type": "application/problem+json",
               "description": "An empty file, a type that is not accepted, content that "
                              "does not match the extension, a bad name."}


@blp.get("")
@blp.arguments(MaterialListArgs, location="query")
@blp.response(200, MaterialList)
def list_materials(args: dict[str, Any]) -> Any:
    """Materials, by id; coordinators read them all."""
    stmt = services.list_materials(
        current_user, session_id=args.get("session_id"), training_id=args.get("training_id"),
        topic=args.get("topic"), q=args.get("q"), kind=args.get("kind"),
        visibility=args.get("visibility"))
    return page_of(stmt, args["page"], args["per_page"])


@blp.post("")
@blp.arguments(MaterialForm, location="form", content_type="multipart/form-data")
@blp.response(201, MaterialSchema)
@blp.alt_response(413, **PROBLEM_413)
@blp.alt_response(422, **PROBLEM_422)
def create_material(data: dict[str, Any]) -> Any:
    """Upload a file (organisers), or add a link with `url` instead of `file`."""
    upload = data.pop("file", None)
    if upload is not None:
        return services.create(current_user, data, stream=upload.stream,
                               filename=upload.filename)
    return services.create(current_user, data)


@blp.get("/<int:material_id>")
@blp.response(200, MaterialSchema)
def get_material(material_id: int) -> Any:
    require_any(current_user)
    return services.get_material(material_id)


@blp.patch("/<int:material_id>")
@blp.arguments(MaterialPatch)
@blp.response(200, MaterialSchema)
def update_material(data: dict[str, Any], material_id: int) -> Any:
    """Change the title, topic, language, description, visibility, attachment or link."""
    return services.update(current_user, services.get_material(material_id), data)


@blp.delete("/<int:material_id>")
@blp.response(204)
def delete_material(material_id: int) -> Any:
    """Delete a material with its versions (organisers)."""
    require_staff(current_user)
    services.delete_material(current_user, services.get_material(material_id))
    return None


@blp.get("/<int:material_id>/versions")
@blp.response(200, MaterialVersionSchema(many=True))
def list_versions(material_id: int) -> Any:
    """Every file a material has had, newest first."""
    require_any(current_user)
    return services.versions(services.get_material(material_id))


@blp.post("/<int:material_id>/versions")
@blp.arguments(MaterialVersionForm, location="form", content_type="multipart/form-data")
@blp.response(201, MaterialSchema)
@blp.alt_response(413, **PROBLEM_413)
@blp.alt_response(422, **PROBLEM_422)
def add_version(data: dict[str, Any], material_id: int) -> Any:
    """Replace the file; earlier versions are kept and stay downloadable."""
    material = services.get_material(material_id)
    upload = data["file"]
    services.add_version(current_user, material, upload.stream, upload.filename)
    return material


@blp.get("/<int:material_id>/downloads")
@blp.response(200, MaterialDownloadsSchema)
def downloads(material_id: int) -> Any:
    """Download counts per site (coordinators: their own sites)."""
    material = services.get_material(material_id)
    sites = services.downloads_by_site(current_user, material)
    return {"material_id": material.id, "total": services.download_total(material.id),
            "sites": sites}


@blp.get("/topics")
@blp.response(200, MaterialTopicList)
def list_topics() -> Any:
    require_any(current_user)
    topics = services.list_topics()
    return {"items": topics, "total": len(topics)}


@blp.post("/topics")
@blp.arguments(MaterialTopicSchema)
@blp.response(201, MaterialTopicSchema)
def create_topic(data: dict[str, Any]) -> Any:
    """Add a topic (organisers); the key is made from the name when not given."""
    return services.create_topic(current_user, **data)
