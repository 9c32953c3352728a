"""The API reference: how the OpenAPI document describes errors and access, and the browsable
page at /api/v1/docs, rendered on the server from that same document (no script, no CDN).

`init_api(app, api)` replaces the bare `api.init_app(app)` in the factory:
- documented error responses (flask-smorest's per-status components, the 422 that every
  `@blp.arguments` adds, DEFAULT_ERROR) are RFC 9457 `application/problem+json` bodies with the
  Problem schema (trainer.apiutil.ProblemSchema), as the handlers in trainer.errors answer;
- an operation whose view is `@public` is documented with `security: []`; every other one
  answers 401 without credentials and 403 when the role or the site does not allow it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from apispec import BasePlugin
from flask import Blueprint, Flask, render_template, url_for
from flask_smorest import Api

from trainer.apiutil import ProblemSchema

PROBLEM_JSON = "application/problem+json"
METHODS = ("get", "post", "put", "patch", "delete")

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")


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


def init_api(app: Flask, api: Api) -> None:
    """Bind the API to the app with problem+json error documentation; add the docs page."""
    api.ERROR_SCHEMA = ProblemSchema  # flask-smorest documents error responses with it
    api.init_app(app, spec_kwargs={"extra_plugins": [AccessResponses(app)]})
    for response in api.spec.components.responses_lazy.values():
        content = response.get("content") or {}
        if "application/json" in content:
            response["content"] = {PROBLEM_JSON: content["application/json"]}
    if "api_docs" not in app.blueprints:
        app.register_blueprint(bp)


# --- the page -------------------------------------------------------------------------------

@dataclass
class Field:
    name: str
    type: str
    required: bool = False
    notes: list[str] = field(default_factory=list)
    description: str = ""
    where: str = ""
    ref: str | None = None


@dataclass
class Body:
    content_type: str
    schema: str | None
    fields: list[Field]


@dataclass
class Reply:
    status: str
    description: str
    content_type: str | None
    schema: str | None


@dataclass
class Operation:
    method: str
    path: str
    summary: str
    description: str
    access: list[str]  # the security schemes it takes; empty: open to anyone
    anchor: str
    parameters: list[Field]
    body: Body | None
    responses: list[Reply]


@dataclass
class Tag:
    name: str
    description: str
    operations: list[Operation] = field(default_factory=list)


class Reader:
    """Turns the OpenAPI dict into what the template shows."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.components = spec.get("components", {})

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        seen = 0
        while isinstance(node, dict) and "$ref" in node and seen < 10:
            section, name = node["$ref"].split("/")[-2:]
            node = self.components.get(section, {}).get(name, {})
            seen += 1
        return node

    @staticmethod
    def ref_name(node: dict[str, Any] | None) -> str | None:
        if isinstance(node, dict) and "$ref" in node:
            return str(node["$ref"].rsplit("/", 1)[-1])
        if isinstance(node, dict) and node.get("type") == "array":
            inner = Reader.ref_name(node.get("items"))
            return f"{inner}[]" if inner else None
        return None

    @staticmethod
    def schema_name(node: dict[str, Any] | None) -> str | None:
        """The component schema a field or body refers to, for a link."""
        name = Reader.ref_name(node)
        return name.removesuffix("[]") if name else None

    def type_of(self, schema: dict[str, Any]) -> str:
        if "$ref" in schema:
            return str(self.ref_name(schema))
        kind = str(schema.get("type", "any"))
        if kind == "array":
            return f"array of {self.type_of(schema.get('items', {}))}"
        if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
            return f"object of {self.type_of(schema['additionalProperties'])}"
        if schema.get("format"):
            kind += f" ({schema['format']})"
        return kind

    @staticmethod
    def notes(schema: dict[str, Any]) -> list[str]:
        out = []
        if "enum" in schema:
            out.append("one of: " + ", ".join(str(v) for v in schema["enum"]))
        for key, label in (("minLength", "min length"), ("maxLength", "max length"),
                           ("minimum", "min"), ("maximum", "max"), ("minItems", "min items"),
                           ("maxItems", "max items")):
            if key in schema:
                out.append(f"{label} {schema[key]}")
        if schema.get("default") is not None:
            out.append(f"default {schema['default']}")
        if schema.get("nullable"):
            out.append("may be null")
        if schema.get("readOnly"):
            out.append("read-only")
        if schema.get("writeOnly"):
            out.append("write-only")
        return out

    def fields_of(self, schema: dict[str, Any], *, writing: bool) -> list[Field]:
        schema = self.resolve(schema)
        required = set(schema.get("required", []))
        out = []
        for name, prop in (schema.get("properties") or {}).items():
            if writing and prop.get("readOnly"):
                continue
            notes = [n for n in self.notes(prop) if not (writing and n == "write-only")]
            out.append(Field(name=name, type=self.type_of(prop), required=name in required,
                             notes=notes, description=str(prop.get("description", "")),
                             ref=self.schema_name(prop)))
        return out

    def operation(self, path: str, method: str, op: dict[str, Any],
                  shared: list[dict[str, Any]]) -> Operation:
        params = []
        for raw in [*shared, *op.get("parameters", [])]:
            param = self.resolve(raw)
            schema = param.get("schema", {})
            params.append(Field(name=param.get("name", ""), type=self.type_of(schema),
                                required=bool(param.get("required")), notes=self.notes(schema),
                                description=str(param.get("description", "")),
                                where=str(param.get("in", ""))))
        body = None
        if "requestBody" in op:
            request_body = self.resolve(op["requestBody"])
            for content_type, media in (request_body.get("content") or {}).items():
                schema = media.get("schema", {})
                body = Body(content_type, self.schema_name(schema),
                            self.fields_of(schema, writing=True))
                break
        replies = []
        for status, raw in op.get("responses", {}).items():
            response = self.resolve(raw)
            content = response.get("content") or {}
            content_type = next(iter(content), None)
            schema = content[content_type].get("schema") if content_type else None
            replies.append(Reply(str(status), str(response.get("description", "")),
                                 content_type, self.schema_name(schema)))
        replies.sort(key=lambda r: (r.status == "default", r.status))
        return Operation(
            method=method.upper(), path=path, summary=str(op.get("summary", "")),
            description=str(op.get("description", "")),
            access=sorted({name for requirement in op.get("security", self.spec.get("security"))
                           or [] for name in requirement}),
            anchor=f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", ""),
            parameters=params, body=body, responses=replies,
        )

    def tags(self) -> list[Tag]:
        tags = {t["name"]: Tag(t["name"], str(t.get("description", "")))
                for t in self.spec.get("tags", [])}
        for path, item in self.spec.get("paths", {}).items():
            shared = item.get("parameters", [])
            for method in METHODS:
                if method not in item:
                    continue
                op = item[method]
                for name in op.get("tags") or ["other"]:
                    tags.setdefault(name, Tag(name, "")).operations.append(
                        self.operation(path, method, op, shared))
        return [t for t in tags.values() if t.operations]

    def schemas(self) -> list[tuple[str, list[Field]]]:
        return [(name, self.fields_of(schema, writing=False))
                for name, schema in sorted(self.components.get("schemas", {}).items())]


@bp.get("/docs")
def page() -> Any:
    from trainer.extensions import api

    spec = api.spec.to_dict()
    reader = Reader(spec)
    return render_template(
        "docs/index.html", info=spec.get("info", {}), openapi=spec.get("openapi"),
        tags=reader.tags(), schemas=reader.schemas(),
        spec_url=url_for("api-docs.openapi_json"),
    )
