"""Shared pieces of the JSON API: text fields, list arguments, pagination, problem schema."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from marshmallow import INCLUDE, Schema, ValidationError, fields, validate
from sqlalchemy import Select, func, select

from trainer.extensions import db
from trainer.text import has_control_chars, nfc

MAX_PER_PAGE = 500


class Text(fields.String):
    """A string stored NFC-normalised; control characters refused; length bounded."""

    def __init__(self, *args: Any, max_length: int = 200, allow_blank: bool = False,
                 multiline: bool = False, **kwargs: Any) -> None:
        metadata = {"maxLength": max_length, **({} if allow_blank else {"minLength": 1}),
                    **(kwargs.pop("metadata", None) or {})}  # for the OpenAPI document
        super().__init__(*args, metadata=metadata, **kwargs)
        self.max_length = max_length
        self.allow_blank = allow_blank
        self.multiline = multiline

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        raw = super()._deserialize(value, attr, data, **kwargs)
        if has_control_chars(raw.replace("\n", "").replace("\t", "") if self.multiline else raw):
            raise ValidationError(gettext("Control characters are not allowed."))
        text = raw.strip() if self.multiline else nfc(raw)
        if self.multiline:
            import unicodedata

            text = unicodedata.normalize("NFC", text)
        if not text and not self.allow_blank:
            raise ValidationError(gettext("This field may not be empty."))
        if len(text) > self.max_length:
            raise ValidationError(gettext("At most %(n)s characters.", n=self.max_length))
        return text


class StrictSchema(Schema):
    """Unknown fields are refused (marshmallow's default, stated here on purpose)."""

    class Meta:
        ordered = True


class ListArgs(StrictSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PER_PAGE))


class ProblemSchema(Schema):
    """An RFC 9457 problem (application/problem+json): the body of every error answer."""

    class Meta:
        unknown = INCLUDE  # RFC 9457 extension members, e.g. retry_after

    type = fields.String(metadata={"description": "The problem type, e.g. /problems/invalid."})
    title = fields.String(metadata={"description": "A short summary, in the caller's language."})
    status = fields.Integer(metadata={"description": "The HTTP status code."})
    detail = fields.String(metadata={"description": "What happened and what to do about it."})
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                         metadata={"description": "Messages by field, for invalid input."})


def page_of(stmt: Select[Any], page: int, per_page: int) -> dict[str, Any]:
    """{"items": [...], "total": N} for a select() that is already ordered."""
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = list(db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)))
    return {"items": items, "total": total or 0}


def list_schema(item: type[Schema], name: str) -> type[Schema]:
    return type(name, (Schema,), {
        "items": fields.List(fields.Nested(item)),
        "total": fields.Integer(),
    })
