"""Pydantic's validation errors as Callout's field problems, named as every error names a
field (`headers[2].name`), for REST, the CLI and the importers alike."""

from collections.abc import Sequence
from typing import Any

from callout.apis.authorization import SCHEMES
from callout.designers.schemas import ACTION_KINDS
from callout.errors import FieldProblem, field_path

LOCATIONS = ("body", "query", "path", "header")
OBJECT_EXPECTED = ("model_attributes_type", "model_type", "dict_type")
NOT_JSON = "the body must be JSON (Content-Type: application/json)"


def field_name(loc: Sequence[str | int]) -> str:
    """A readable path: ("headers", 2, "name") -> "headers[2].name".

    The tag pydantic adds inside a discriminated union is dropped, so an OAuth 2.0 token URL
    is `authorization.token_url`, and a designer's FUNCTION CALL parameter
    `actions[0].parameters[1].name`, here as in every other error.
    """
    parts = list(loc)
    for i in range(len(parts) - 1, 0, -1):
        scheme = parts[i - 1] == "authorization" and parts[i] in SCHEMES
        action = i >= 2 and parts[i - 2] == "actions" and parts[i] in ACTION_KINDS
        if scheme or action:
            del parts[i]
    return field_path(parts)


def validation_problems(errors: Sequence[Any], *, located: bool = False) -> list[FieldProblem]:
    """Pydantic's errors as field problems; `located` errors (FastAPI's) start with where in
    the HTTP request the input was (`body`, `query`, ...), which the field name leaves out."""
    found = []
    for error in errors:
        loc = tuple(error.get("loc", ()))
        if located and loc and loc[0] in LOCATIONS:
            loc = loc[1:]
        message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
        if error.get("type") == "missing":
            message = "is required"
        elif error.get("type") == "extra_forbidden":
            message = "is not a field of this object"
        elif error.get("type") in OBJECT_EXPECTED:
            # FastAPI hands on the raw bytes of a body not sent as application/json.
            raw = isinstance(error.get("input"), bytes)
            message = NOT_JSON if raw else "must be an object"
        elif error.get("type") == "json_invalid":
            loc, message = (), f"is not valid JSON: {error.get('ctx', {}).get('error', message)}"
        found.append(FieldProblem(field_name(loc), message))
    return found
