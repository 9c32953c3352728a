"""Shared pieces of the JSON API: text fields, list arguments, pagination, problem schema."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from marshmallow import INCLUDE, Schema, ValidationError, fields, pre_load, validate
from sqlalchemy import Select, func, select
from werkzeug.routing import IntegerConverter

from trainer import validation
from trainer.dbtypes import INT_MAX
from trainer.extensions import db

MAX_PER_PAGE = 500
MAX_PAGE = 1_000_000


class IdConverter(IntegerConverter):
    """`<int:...>` in a route: 0..INT_MAX (an id, a year). A larger number matches no route
    (404) instead of overflowing the database driver; the OpenAPI document says so."""

    def __init__(self, map: Any, fixed_digits: int = 0, min: int | None = None,  # noqa: A002
                 max: int | None = INT_MAX, signed: bool = False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def refuse_nul(value: Any) -> None:
    """PostgreSQL stores no NUL character (it refuses the whole statement)."""
    if isinstance(value, str) and "\x00" in value:
        raise ValidationError(gettext("Control characters are not allowed."))


def bound_input(field: fields.Field) -> None:
    """Every whole number a client sends fits INT_MAX; no text carries a NUL character."""
    if isinstance(field, fields.List) and field.inner is not None:
        bound_input(field.inner)
    elif isinstance(field, fields.Integer):
        if not any(isinstance(v, validate.Range) and v.max is not None
                   for v in field.validators):
            field.validators.append(validate.Range(
                min=-INT_MAX - 1, max=INT_MAX, error=_l("This number is out of range.")))
    elif (isinstance(field, fields.String) and not isinstance(field, Text)
          and refuse_nul not in field.validators):  # fields are copied shallowly per instance
        field.validators.append(refuse_nul)


class Text(fields.String):
    """A string by the rules of `trainer.validation.text`; blank is refused unless
    `allow_blank` (then it loads as "")."""

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
        try:
            text = validation.text(raw, self.max_length, multiline=self.multiline)
        except validation.Rejected as exc:
            raise ValidationError(exc.message) from None
        if text is None and not self.allow_blank:
            raise ValidationError(gettext("This field may not be empty."))
        return text or ""


class Phone(fields.String):
    """A Vietnamese phone number, read by the service (`trainer.text.normalize_phone`); the
    OpenAPI document gives the forms it accepts (`trainer.text.phone_pattern`)."""


class WebAddress(fields.String):
    """An http(s) address, read by the service; the OpenAPI document gives its form
    (`trainer.validation.web_address_pattern(**web_address)`)."""

    web_address: dict[str, bool] = {}


class StrictSchema(Schema):
    """Unknown fields are refused (marshmallow's default, stated here on purpose); numbers
    and texts are bounded (bound_input)."""

    error_messages = validation.SCHEMA_MESSAGES

    class Meta:
        ordered = True

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        if not field_obj.dump_only:
            bound_input(field_obj)
            validation.localise(field_obj)

    @pre_load
    def _whole_numbers(self, data: Any, **_: Any) -> Any:
        """marshmallow reads 1.5 as the whole number 1: a number with a fraction is refused
        where a whole one is expected (a whole-valued 2.0 stays 2)."""
        if not isinstance(data, Mapping):
            return data
        errors: dict[str, list[Any]] = {}
        for name, field in self.load_fields.items():
            key = field.data_key or name
            value = data.get(key)
            inner = field.inner if isinstance(field, fields.List) else None
            if isinstance(field, fields.Integer) or isinstance(inner, fields.Integer):
                values = value if inner is not None and isinstance(value, list) else [value]
                if any(isinstance(v, float) and not v.is_integer() for v in values):
                    errors[key] = [str(_l("Not a valid whole number."))]
        if errors:
            raise ValidationError(errors)
        return data


class ListArgs(StrictSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
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
    page = min(max(page, 1), MAX_PAGE)  # a page number from a link: past the end is empty
    per_page = min(max(per_page, 1), MAX_PER_PAGE)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = list(db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)))
    return {"items": items, "total": total or 0}


def list_schema(item: type[Schema], name: str) -> type[Schema]:
    return type(name, (Schema,), {
        "items": fields.List(fields.Nested(item)),
        "total": fields.Integer(),
    })
