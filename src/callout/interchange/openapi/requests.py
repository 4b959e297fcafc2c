"""One OpenAPI operation as a Callout request.

    GET /users/{user-id}/repos                  name           operationId, or the method and path
    parameters: user-id (path), sort (query) -> endpoint_path  /users/${user_id}/repos
    responses: 200 application/json {id, ...}   query          sort = ${sort}
                                                parameters     user_id (required), sort
                                                outputs        id <- $.id

Every placeholder names a parameter, and a parameter's name is an identifier, so `user-id`
becomes `user_id` (and `fields`, a context value, becomes `fields_`), with a note. An
optional query, header or form parameter without a default is imported disabled: sent
empty it would say something else than left out, so the row is enabled when it is wanted.
A JSON body is a template with a placeholder per top-level property; a form body, a form
field per property. Outputs are the top-level scalar properties of the first 2xx JSON
response.
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from callout.apis.fields import RESERVED_HEADERS, TOKEN
from callout.apis.schemas import ValueType
from callout.interchange.openapi.document import (
    REFERENCES,
    Document,
    MediaType,
    Operation,
    Parameter,
    PathItem,
    Unusable,
)
from callout.interchange.openapi.names import Identifiers, describe, text
from callout.interchange.openapi.responses import JSON, media_kind, outputs_of
from callout.interchange.openapi.schemas import (
    fits,
    is_object,
    properties,
    schema_of,
    value_type,
)
from callout.schemas import name_key

MAX_PARAMETERS = 100
TEMPLATED = re.compile(r"\{([^{}]*)\}")
# OpenAPI 3 section 4.8.12.1: a header parameter by these names "SHALL be ignored"; the
# content type and the authorization are described elsewhere.
IGNORED_HEADERS = frozenset({"accept", "content-type", "authorization"})
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


@dataclass
class Input:
    """A parameter to declare and the rows that place it: ("query", row) and so on."""

    parameter: dict[str, Any]
    rows: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    body_key: str | None = None  # the property of a JSON body it fills
    whole_body: bool = False  # it is the JSON body
    in_path: bool = False


@dataclass
class Built:
    """A request as RequestDocument takes it, and what it could not carry."""

    request: dict[str, Any]
    notes: list[tuple[str, str]]


class Builder:
    """Builds one request; raises Unusable when the operation cannot be carried."""

    def __init__(
        self, document: Document, path: str, method: str, item: PathItem, operation: Operation
    ) -> None:
        self.document = document
        self.path = path
        self.method = method
        self.item = item
        self.operation = operation
        self.where = f"paths.{path}.{method}"
        self.inputs: list[Input] = []
        self.names = Identifiers()
        self.structured: list[str] = []
        self.notes: list[tuple[str, str]] = []
        self.content_type = "none"

    def build(self, name: str) -> Built:
        op = self.operation
        path_names = self._parameters()
        endpoint = self._endpoint_path(path_names)
        self._body()
        outputs = outputs_of(self.document, self.operation, self.where)
        self.notes += outputs.notes
        self._note_unsent()
        inputs = self._within_limit()
        request: dict[str, Any] = {
            "name": name,
            "description": describe(op.summary, op.description),
            "method": self.method.upper(),
            "endpoint_path": endpoint,
            "content_type": self.content_type,
            "parameters": [i.parameter for i in inputs],
            "outputs": outputs.outputs,
        }
        for place in ("query", "headers", "form"):
            rows = [row for i in inputs for where, row in i.rows if where == place]
            if rows:
                request[place] = rows
        if self.content_type == "json":
            whole = [i for i in inputs if i.whole_body]
            body = [i for i in inputs if i.body_key is not None]
            if whole:
                request["body"] = json.dumps("${" + whole[0].parameter["name"] + "}")
            else:
                request["body"] = json.dumps(
                    {_literal(i.body_key or ""): "${" + i.parameter["name"] + "}" for i in body},
                    indent=2,
                    ensure_ascii=False,
                )
        if self.names.renamed:
            self.notes.append(
                (
                    self.where,
                    "parameters renamed, as a placeholder is letters, digits and _ and not a "
                    "context value: " + ", ".join(self.names.renamed),
                )
            )
        if self.structured:
            self.notes.append(
                (
                    self.where,
                    "lists and objects are sent as one value, in JSON, where OpenAPI's styles "
                    "would repeat or join them: " + ", ".join(self.structured),
                )
            )
        return Built(request, self.notes)

    # Parameters

    def _parameters(self) -> dict[str, str]:
        """Path, query and header parameters, the operation's over its path's; returns each
        path parameter's placeholder name."""
        merged: dict[tuple[str, str], tuple[Parameter, str]] = {}
        for owner, where in ((self.item, f"paths.{self.path}"), (self.operation, self.where)):
            for index, item in enumerate(owner.parameters or []):
                at = f"{where}.parameters[{index}]"
                parameter = self.document.follow(item, self.document.models.parameter, at)
                merged[(parameter.name, parameter.param_in.value)] = (parameter, at)
        path_names: dict[str, str] = {}
        templated = set(TEMPLATED.findall(self.path))
        for (name, place), (parameter, at) in merged.items():
            if place == "cookie":
                self.notes.append(
                    (at, f"cookie parameter {name} is not sent: Callout sends no cookies")
                )
            elif place == "header" and name.lower() in IGNORED_HEADERS:
                continue
            elif place == "header" and (
                not TOKEN.match(name) or name_key(name) in RESERVED_HEADERS
            ):
                self.notes.append(
                    (at, f"header parameter {name} is not sent: not a header Callout may set")
                )
            elif place == "path" and name not in templated:
                self.notes.append(
                    (at, f"path parameter {name} is not in the path {self.path}; left out")
                )
            else:
                self._parameter(parameter, place, at, path_names)
        for name in sorted(templated - path_names.keys()):
            self.notes.append(
                (
                    self.where,
                    f"{{{name}}} in the path is not declared; imported as a required string",
                )
            )
            placeholder = self.names.give(name, "path")
            path_names[name] = placeholder
            self.inputs.append(
                Input({"name": placeholder, "type": "string", "required": True}, in_path=True)
            )
        return path_names

    def _parameter(
        self, parameter: Parameter, place: str, at: str, path_names: dict[str, str]
    ) -> None:
        schema_item = parameter.param_schema
        if schema_item is None and parameter.content:
            schema_item = _first(parameter.content).media_type_schema
        schema = schema_of(self.document, schema_item, at)
        kind = value_type(self.document, schema, at)
        required = parameter.required or place == "path"
        placeholder = self.names.give(parameter.name, place)
        declared = self._declared(
            placeholder, kind, required, schema.default, parameter.description
        )
        value = "${" + placeholder + "}"
        enabled = required or declared.get("default") is not None
        if kind == "object" and place != "path":
            self.structured.append(f"{place} {parameter.name}")
        if place == "path":
            path_names[parameter.name] = placeholder
            self.inputs.append(Input(declared, in_path=True))
        elif place == "query":
            row = {"name": parameter.name, "value": value, "enabled": enabled}
            self.inputs.append(Input(declared, [("query", row)]))
        else:
            row = {"name": parameter.name, "value": value, "enabled": enabled}
            self.inputs.append(Input(declared, [("headers", row)]))

    @staticmethod
    def _declared(
        name: str, kind: ValueType, required: bool, default: Any, description: str | None
    ) -> dict[str, Any]:
        declared: dict[str, Any] = {"name": name, "type": kind, "required": required}
        if default is not None and fits(default, kind):
            declared["default"] = default
        if description:
            declared["description"] = text(description)
        return declared

    def _endpoint_path(self, path_names: dict[str, str]) -> str:
        """`/users/{user-id}` -> `/users/${user_id}`; a literal `$` just before a parameter
        is written `%24`, the same byte on the wire, as `$${` would be a literal `${`."""
        parts, position = [], 0
        for found in TEMPLATED.finditer(self.path):
            literal = _literal(self.path[position : found.start()])
            if literal.endswith("$"):
                literal = literal[:-1] + "%24"
            parts += [literal, "${" + path_names[found.group(1)] + "}"]
            position = found.end()
        parts.append(_literal(self.path[position:]))
        return "".join(parts)

    # Body

    def _body(self) -> None:
        item = self.operation.requestBody
        if item is None:
            return
        at = f"{self.where}.requestBody"
        body = self.document.follow(item, self.document.models.request_body, at)
        kinds = {media_kind(name): media for name, media in body.content.items()}
        for kind in (JSON, FORM, MULTIPART):
            if kind in kinds:
                self._body_of(kind, kinds[kind], body.required, f"{at}.content.{kind}")
                return
        if body.content:
            self.notes.append(
                (at, f"a body of {', '.join(body.content)} is not carried (JSON and forms are)")
            )

    def _body_of(self, kind: str, media: MediaType, required: bool, at: str) -> None:
        schema = schema_of(self.document, media.media_type_schema, at)
        props = (
            [p for p in properties(self.document, schema, at) if not p.schema.readOnly]
            if is_object(self.document, schema, at)
            else []
        )
        if kind == JSON:
            self.content_type = "json"
            if not props:
                placeholder = self.names.give("body", "body")
                kind_of = value_type(self.document, schema, at)
                declared = self._declared(
                    placeholder, kind_of, required, schema.default, schema.description
                )
                self.inputs.append(Input(declared, whole_body=True))
                return
            for prop in props:
                placeholder = self.names.give(prop.name, "body")
                prop_kind = value_type(self.document, prop.schema, at)
                declared = self._declared(
                    placeholder,
                    prop_kind,
                    prop.required,
                    prop.schema.default,
                    prop.schema.description,
                )
                self.inputs.append(Input(declared, body_key=prop.name))
            return
        self.content_type = "form" if kind == FORM else "multipart"
        if not props:
            self.notes.append((at, "a form body without properties is not carried"))
            return
        for prop in props:
            if _is_file(prop.schema):
                self.notes.append(
                    (at, f"file field {prop.name} is not sent: Callout sends text fields")
                )
                continue
            placeholder = self.names.give(prop.name, "form")
            prop_kind = value_type(self.document, prop.schema, at)
            declared = self._declared(
                placeholder, prop_kind, prop.required, prop.schema.default, prop.schema.description
            )
            enabled = prop.required or declared.get("default") is not None
            row = {"name": prop.name, "value": "${" + placeholder + "}", "enabled": enabled}
            self.inputs.append(Input(declared, [("form", row)]))

    # What is not carried

    def _note_unsent(self) -> None:
        op = self.operation
        if op.callbacks:
            self.notes.append(
                (
                    f"{self.where}.callbacks",
                    f"callbacks ({', '.join(op.callbacks)}) are calls the API makes; not carried",
                )
            )
        for status, item in (op.responses or {}).items():
            if isinstance(item, REFERENCES):
                continue
            if item.links:
                self.notes.append(
                    (
                        f"{self.where}.responses.{status}.links",
                        f"links ({', '.join(item.links)}) are not carried",
                    )
                )
        if op.servers or self.item.servers:
            self.notes.append(
                (self.where, "servers of its own are not carried: the API's base URL is used")
            )

    def _within_limit(self) -> list[Input]:
        """At most MAX_PARAMETERS inputs: path and required ones first, then the others
        in order; what is left out is noted."""
        if len(self.inputs) <= MAX_PARAMETERS:
            return self.inputs
        first = [i for i in self.inputs if i.in_path or i.parameter["required"]]
        room = MAX_PARAMETERS - len(first)
        if room < 0:
            raise Unusable(self.where, f"needs more than {MAX_PARAMETERS} parameters")
        optional = [i for i in self.inputs if not (i.in_path or i.parameter["required"])]
        kept = {id(i) for i in first + optional[:room]}
        dropped = [i.parameter["name"] for i in self.inputs if id(i) not in kept]
        self.notes.append(
            (self.where, f"parameters beyond {MAX_PARAMETERS} left out: {', '.join(dropped)}")
        )
        return [i for i in self.inputs if id(i) in kept]


def _first(content: Mapping[str, MediaType]) -> MediaType:
    """A parameter's one media type (`content` holds exactly one)."""
    return next(iter(content.values()))


def _literal(value: str) -> str:
    """Text kept as it is in a template: `${` written `$${`."""
    return value.replace("${", "$${")


def _is_file(schema: Any) -> bool:
    return (
        schema.schema_format in ("binary", "base64")
        or getattr(schema, "contentMediaType", None) is not None
        or getattr(schema, "contentEncoding", None) is not None
    )
