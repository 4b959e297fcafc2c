"""An operation's outputs: the top-level scalar properties of its first 2xx JSON response.

    responses: {"200": {content: {application/json: {schema: {id: integer, user-name:
    string, tags: array}}}}}  ->  outputs id <- $.id (number), user_name <- $['user-name']

Lists and objects are left to the user, who knows which part of them a script needs.
"""

import re
from dataclasses import dataclass, field
from typing import Any

from callout.interchange.openapi.document import Document, Operation, Response
from callout.interchange.openapi.names import Identifiers, text
from callout.interchange.openapi.schemas import is_object, properties, schema_of, value_type

MAX_OUTPUTS = 100
JSON = "application/json"
SHORTHAND = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class Outputs:
    outputs: list[dict[str, Any]] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)


def media_kind(media_type: str) -> str:
    """`application/json; charset=utf-8` -> `application/json`; any `+json` type is JSON."""
    kind = media_type.split(";")[0].strip().lower()
    return JSON if kind.endswith("+json") else kind


def json_path(name: str) -> str:
    """The JSONPath (RFC 9535) of a top-level member: `$.id`, or `$['user-name']`."""
    if SHORTHAND.fullmatch(name):
        return f"$.{name}"
    quoted = "".join(
        "\\\\" if c == "\\" else "\\'" if c == "'" else f"\\u{ord(c):04x}" if ord(c) < 0x20 else c
        for c in name
    )
    return f"$['{quoted}']"


def outputs_of(document: Document, operation: Operation, where: str) -> Outputs:
    """The outputs an operation's success response offers."""
    found = _success(document, operation, where)
    if found is None:
        return Outputs()
    response, at = found
    media = next(m for n, m in (response.content or {}).items() if media_kind(n) == JSON)
    schema = schema_of(document, media.media_type_schema, at)
    if not is_object(document, schema, at):
        return Outputs()
    scalars = [
        p
        for p in properties(document, schema, at)
        if not p.schema.writeOnly
        and value_type(document, p.schema, at) in ("string", "number", "boolean")
    ]
    names = Identifiers(frozenset())
    result = Outputs()
    for prop in scalars[:MAX_OUTPUTS]:
        output: dict[str, Any] = {
            "name": names.give(prop.name),
            "path": json_path(prop.name),
            "type": value_type(document, prop.schema, at),
        }
        if prop.schema.description:
            output["description"] = text(prop.schema.description)
        result.outputs.append(output)
    if len(scalars) > MAX_OUTPUTS:
        dropped = ", ".join(p.name for p in scalars[MAX_OUTPUTS:])
        result.notes.append((at, f"outputs beyond {MAX_OUTPUTS} left out: {dropped}"))
    return result


def _success(document: Document, operation: Operation, where: str) -> tuple[Response, str] | None:
    """The first 2xx response (by status, then `2XX`) with JSON content."""
    responses = operation.responses or {}
    statuses = sorted(s for s in responses if s.isdigit() and s.startswith("2"))
    statuses += [s for s in responses if s.upper() == "2XX"]
    for status in statuses:
        at = f"{where}.responses.{status}"
        response = document.follow(responses[status], document.models.response, at)
        if any(media_kind(n) == JSON for n in response.content or {}):
            return response, f"{at}.content"
    return None
