"""/api/v1/auth/token and /api/v1/users."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import fields, validate

from trainer.apiutil import StrictSchema, Text
from trainer.auth import services
from trainer.security import bearer_token, public

blp = Blueprint("api_auth", __name__, url_prefix="/api/v1", description="Tokens and accounts.")


class UserSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    username = Text(required=True, max_length=64)
    password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=10, max=256),
        metadata={"description": "At least 10 characters, not containing the user name, not "
                                 "one of the 30,000 most common passwords (zxcvbn's list)."})
    role = fields.String(required=True,
                         validate=validate.OneOf(["admin", "organiser", "coordinator"]))
    site_ids = fields.List(fields.Integer(), load_default=list)
    display_name = Text(max_length=200, allow_none=True, load_default=None)
    active = fields.Boolean(dump_only=True)


class TokenRequest(StrictSchema):
    username = fields.String(required=True, validate=validate.Length(max=200))
    password = fields.String(required=True, validate=validate.Length(max=256))


class TokenSchema(StrictSchema):
    token = fields.String()
    expires_at = fields.DateTime()
    user = fields.Nested(UserSchema)


@blp.post("/auth/token")
@blp.arguments(TokenRequest)
@blp.response(201, TokenSchema)
@blp.alt_response(401, response="UNAUTHORIZED", description="Wrong user name or password.")
@blp.alt_response(429, response="TOO_MANY_REQUESTS",
                  description="Too many failed logins for this user name or from this address; "
                              "the Retry-After header gives the seconds to wait.")
@blp.doc(security=[])
@public
def create_token(data: dict[str, Any]) -> Any:
    """Log in: exchange a user name and password for a bearer token.

    Failed attempts are counted per user name and per address; successful ones are not."""
    user = services.authenticate(data["username"], data["password"], request.remote_addr or "")
    issued = services.issue_token(user)
    return {"token": issued.token, "expires_at": issued.expires_at, "user": issued.user}


@blp.delete("/auth/token")
@blp.response(204)
def revoke_token() -> None:
    """Log out: revoke the bearer token used for this call."""
    token = bearer_token()
    if token:
        services.revoke_token(token)


@blp.post("/users/<int:user_id>/logout")
@blp.response(204)
@blp.alt_response(403, response="FORBIDDEN", description="Another account, and not an admin.")
def log_out_everywhere(user_id: int) -> None:
    """Log an account out everywhere: every browser session, API token (this one too, when it
    is the caller's own) and live connection of the account ends. The account itself, or an
    admin."""
    services.log_out_everywhere(current_user, services.get_user(user_id))


@blp.get("/auth/me")
@blp.response(200, UserSchema)
def me() -> Any:
    """The account the token belongs to."""
    return services.require_any(current_user)


@blp.post("/users")
@blp.arguments(UserSchema)
@blp.response(201, UserSchema)
@blp.alt_response(409, response="CONFLICT", description="The user name is taken.")
def create_user(data: dict[str, Any]) -> Any:
    """Create an account (admins). A coordinator needs at least one site in `site_ids`."""
    return services.create_user(data["username"], data["password"], data["role"],
                                data["site_ids"], display_name=data["display_name"],
                                actor=current_user)


@blp.get("/users")
@blp.response(200, UserSchema(many=True))
def list_users() -> Any:
    """Every account, by user name (admins)."""
    return services.list_users(current_user)
