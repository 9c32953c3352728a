"""/api/v1/sites: bridge points and their units."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import fields, validate

from trainer.apiutil import ListArgs, StrictSchema, Text, list_schema, page_of
from trainer.sites import services

blp = Blueprint("api_sites", __name__, url_prefix="/api/v1/sites",
                description="Bridge points (điểm cầu) and their communes / centres.")


class SiteSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    code = Text(required=True, max_length=32, metadata={"pattern": services.CODE_PATTERN})
    name = Text(required=True, max_length=200)
    kind = fields.String(load_default="bridge", validate=validate.OneOf(["host", "bridge"]))
    address = Text(max_length=300, allow_blank=True, load_default=None, allow_none=True)
    level = fields.String(dump_only=True, metadata={
        "description": "province, district (until 30 June 2025) or commune; read from the name"})
    unit_count = fields.Method("_unit_count", dump_only=True)

    def _unit_count(self, site: Any) -> int:
        return len(site.current_units)


class SiteUpdateSchema(StrictSchema):
    code = Text(max_length=32, metadata={"pattern": services.CODE_PATTERN})
    name = Text(max_length=200)
    kind = fields.String(validate=validate.OneOf(["host", "bridge"]))
    address = Text(max_length=300, allow_blank=True)


class SiteListArgs(ListArgs):
    q = Text(max_length=100, allow_blank=True)
    kind = fields.String(validate=validate.OneOf(["host", "bridge"]))


class UnitSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    site_id = fields.Integer(dump_only=True)
    name = Text(required=True, max_length=200)
    centre_name = Text(max_length=300, allow_blank=True, allow_none=True, load_default=None)
    rating = Text(max_length=32, allow_blank=True, allow_none=True, load_default=None)
    level = fields.String(dump_only=True, allow_none=True,
                          metadata={"description": "commune, ward, town or special_zone"})


SiteList = list_schema(SiteSchema, "SiteList")


@blp.get("")
@blp.arguments(SiteListArgs, location="query")
@blp.response(200, SiteList)
def list_sites(args: dict[str, Any]) -> Any:
    """The sites the caller may see (a coordinator: its own), by id; `q` matches the name
    with or without diacritics, or the code."""
    stmt = services.list_sites(current_user, q=args.get("q"), kind=args.get("kind"))
    return page_of(stmt, args["page"], args["per_page"])


@blp.post("")
@blp.arguments(SiteSchema)
@blp.response(201, SiteSchema)
@blp.alt_response(409, response="CONFLICT", description="The code is taken.")
def create_site(data: dict[str, Any]) -> Any:
    """Add a site (admins, organisers). The code is stored in capitals."""
    return services.create_site(current_user, **data)


@blp.get("/<int:site_id>")
@blp.response(200, SiteSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_site(site_id: int) -> Any:
    """One site."""
    from trainer.auth.services import require_site

    require_site(current_user, site_id)
    return services.get_site(site_id)


@blp.patch("/<int:site_id>")
@blp.arguments(SiteUpdateSchema)
@blp.response(200, SiteSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT", description="The code is taken.")
def update_site(data: dict[str, Any], site_id: int) -> Any:
    """Change some fields of a site (admins, organisers)."""
    return services.update_site(current_user, services.get_site(site_id), **data)


@blp.get("/<int:site_id>/units")
@blp.response(200, UnitSchema(many=True))
@blp.alt_response(404, response="NOT_FOUND")
def list_units(site_id: int) -> Any:
    """The communes / centres of a site as they are today, in officials' order."""
    from trainer.auth.services import require_site

    require_site(current_user, site_id)
    return services.get_site(site_id).current_units


@blp.post("/<int:site_id>/units")
@blp.arguments(UnitSchema)
@blp.response(201, UnitSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT",
                  description="The site already lists this name (ignoring accents and case).")
def create_unit(data: dict[str, Any], site_id: int) -> Any:
    """Add a commune / centre to a site (admins, organisers)."""
    return services.add_unit(current_user, services.get_site(site_id), **data)
