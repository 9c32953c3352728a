"""The API reference: how the OpenAPI document describes errors and access. The browsable page
at /api/v1/docs is flask-smorest's ReDoc (OPENAPI_REDOC_PATH), with the ReDoc script vendored
under static/vendor (OPENAPI_REDOC_URL; no CDN).

`init_api(app, api)` replaces the bare `api.init_app(app)` in the factory:
- documented error responses (flask-smorest's per-status components, the 422 that every
  `@blp.arguments` adds, DEFAULT_ERROR) are RFC 9457 `application/problem+json` bodies with the
  Problem schema (trainer.apiutil.ProblemSchema), as the handlers in trainer.errors answer;
- an operation whose view is `@public` is documented with `security: []`; every other one
  answers 401 without credentials and 403 when the role or the site does not allow it;
- every field states the rules of `trainer.validation` it applies (`field_rules`): texts their
  pattern (no control characters, not blank), phone numbers their forms, other strings no NUL,
  a nullable nested object nothing but null or that object; a schema its rules over several
  fields (`SchemaRules`, from its `openapi_rules` attribute), e.g. "one of a or b";
- the ReDoc page, and only it, may start web workers from blob: URLs (ReDoc searches and
  renders in one); the rest of the app's Content-Security-Policy holds there too.
"""

from __future__ import annotations

from typing import Any

from apispec import BasePlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from flask import Flask, Response, request
from flask_smorest import Api
from marshmallow import fields

from trainer import text, validation
from trainer.apiutil import Phone, ProblemSchema, Text, refuse_nul

PROBLEM_JSON = "application/problem+json"
METHODS = ("get", "post", "put", "patch", "delete")

class AccessResponses(BasePlugin):  # type: ignore[misc]
    """Adds `security: []` to public operations, 401 and 403 to the others. Every error answer
    is a problem (trainer.errors), so error responses a blueprint documents as JSON or without
    a body (`alt_response(409, description=...)`) are documented as problem+json."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def operation_helper(self, path: str | None = None, operations: dict[str, Any] | None = None,
                         **kwargs: Any) -> None:
        rule = kwargs.get("rule")
        view = self.app.view_functions.get(rule.endpoint) if rule is not None else None
        for method, operation in (operations or {}).items():
            if method not in METHODS:
                continue
            if method == "patch":  # a change names at least one field (else 422)
                for media in operation.get("requestBody", {}).get("content", {}).values():
                    if "schema" in media:
                        media["schema"] = {"allOf": [media["schema"]], "minProperties": 1}
            for status, response in operation.get("responses", {}).items():
                if not isinstance(response, dict) or "$ref" in response or not (
                        str(status) == "default" or str(status)[0] in "45"):
                    continue
                content = response.setdefault("content", {})
                if "application/json" in content:
                    content[PROBLEM_JSON] = content.pop("application/json")
                elif not content:
                    content[PROBLEM_JSON] = {"schema": "Problem"}
            if getattr(view, "_public", False):
                operation.setdefault("security", [])
                continue
            responses = operation.setdefault("responses", {})
            for status, name in ((401, "UNAUTHORIZED"), (403, "FORBIDDEN")):
                if status not in responses and str(status) not in responses:
                    responses[status] = name


def field_rules(converter: Any, field: fields.Field, **kwargs: Any) -> dict[str, Any]:
    """The JSON Schema keywords for the input rules a field applies (an apispec attribute
    function, called for every field after apispec's own)."""
    ret = kwargs.get("ret") or {}
    if "pattern" in ret:  # a Regexp validator or a pattern in the metadata says more
        return {}
    web_address = getattr(field, "web_address", None)  # apiutil.WebAddress, or a Text so marked
    if web_address is not None:
        blank = getattr(field, "allow_blank", False)
        return {"pattern": validation.web_address_pattern(blank=blank, **web_address)}
    if isinstance(field, Text):
        return {"pattern": validation.text_pattern(blank=field.allow_blank)}
    if isinstance(field, Phone):
        return {"pattern": text.phone_pattern()}
    if refuse_nul in field.validators and "enum" not in ret:
        return {"pattern": validation.NO_NUL_PATTERN}
    if isinstance(field, fields.Nested) and field.allow_none and "anyOf" in ret:
        # apispec's null branch {"type": "object", "nullable": true} admits any object
        return {"anyOf": [{**branch, "enum": [None]} if branch.get("nullable") else branch
                          for branch in ret["anyOf"]]}
    return {}


class SchemaRules(BasePlugin):  # type: ignore[misc]
    """A schema's rules over several of its fields, from its `openapi_rules` attribute (JSON
    Schema keywords, e.g. `{"oneOf": [{"required": ["a"]}, {"required": ["b"]}]}`)."""

    def schema_helper(self, name: str, definition: dict[str, Any], **kwargs: Any) -> Any:
        schema = kwargs.get("schema")
        return getattr(resolve_schema_cls(schema), "openapi_rules", None) if schema else None


def init_api(app: Flask, api: Api) -> None:
    """Bind the API to the app with problem+json error documentation; add the docs page."""
    api.ERROR_SCHEMA = ProblemSchema  # flask-smorest documents error responses with it
    api.init_app(app, spec_kwargs={"extra_plugins": [AccessResponses(app), SchemaRules()]})
    api.ma_plugin.converter.add_attribute_function(field_rules)
    for response in api.spec.components.responses_lazy.values():
        content = response.get("content") or {}
        if "application/json" in content:
            response["content"] = {PROBLEM_JSON: content["application/json"]}
    app.after_request(_redoc_workers)


REDOC_ENDPOINT = "api-docs.openapi_redoc"


def _redoc_workers(response: Response) -> Response:
    if request.endpoint == REDOC_ENDPOINT:
        csp = response.headers.get("Content-Security-Policy")
        if csp and "worker-src" not in csp:
            response.headers["Content-Security-Policy"] = csp + "; worker-src 'self' blob:"
    return response
