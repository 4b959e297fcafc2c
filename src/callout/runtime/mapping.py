"""Reading a response into the request's declared outputs: data fields and alerts.

JSONPath is RFC 9535 through `jsonpath-rfc9535`: it follows the RFC to the letter and passes
the JSONPath Compliance Test Suite, so a path means here what it means in any conforming
tool (jsonpath-ng predates the RFC; python-jsonpath, by the same author, adds extensions).
XPath runs through `elementpath` on a tree parsed by defusedxml, which refuses entity
expansion and external references.

A path that matches nothing gives the output's default, else null and a warning; a value
that cannot take the declared type gives null and a warning. Neither fails the call.
"""

import json
from dataclasses import dataclass, field
from typing import Any

import elementpath
from defusedxml import ElementTree

from callout.runtime import templates
from callout.runtime.errors import MappingError
from callout.runtime.http import Received
from callout.runtime.plan import Output, Plan

NOTHING = object()


@dataclass
class Mapped:
    outputs: dict[str, Any] = field(default_factory=dict)
    alerts: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Body:
    """The response body, parsed at most once per form it is read in."""

    received: Received
    _json: Any = NOTHING
    _xml: Any = NOTHING

    def text(self) -> str:
        charset = "utf-8"
        for value in self.received.header("content-type"):
            for param in value.split(";")[1:]:
                key, _, found = param.strip().partition("=")
                if key.lower() == "charset" and found:
                    charset = found.strip('"')
        try:
            return self.received.body.decode(charset, "replace")
        except LookupError:
            return self.received.body.decode("utf-8", "replace")

    def json(self, output: Output) -> Any:
        if self._json is NOTHING:
            try:
                self._json = json.loads(self.received.body)
            except ValueError:
                raise MappingError(f"{output.name}: the response body is not JSON") from None
        return self._json

    def xml(self, output: Output) -> Any:
        if self._xml is NOTHING:
            try:
                self._xml = ElementTree.fromstring(self.received.body)
            except Exception:  # defusedxml raises several unrelated types
                raise MappingError(f"{output.name}: the response body is not safe XML") from None
        return self._xml


def map_response(plan: Plan, received: Received, scope: templates.Scope) -> Mapped:
    mapped = Mapped()
    body = _Body(received)
    for output in plan.outputs:
        found = _find(output, received, body)
        if not found:
            if output.default is not None:
                value = output.default
            else:
                value = None
                mapped.warnings.append(f"{output.name}: {_where(output)} matched nothing")
        else:
            value = _coerce_all(output, found, mapped.warnings)
        if output.field is not None:
            mapped.outputs[output.field] = value
        elif _raised(value):
            alert_scope = {**scope, **mapped.outputs, output.name: value}
            mapped.alerts.append(templates.text_of(output.message, alert_scope))
    return mapped


def _find(output: Output, received: Received, body: _Body) -> list[Any]:
    if output.source == "status":
        return [received.status]
    if output.source == "header":
        return list(received.header(output.path))
    if output.jsonpath is not None:
        return list(output.jsonpath.find(body.json(output)).values())
    if output.path.startswith("/"):
        try:
            result = elementpath.select(body.xml(output), output.path)
        except elementpath.ElementPathError as error:
            raise MappingError(f"{output.name}: XPath {output.path} failed: {error}") from None
        items = result if isinstance(result, list) else [result]
        return [_xml_value(item) for item in items]
    return [body.text()]


def _xml_value(item: Any) -> Any:
    if hasattr(item, "itertext"):
        return "".join(item.itertext())
    return item


def _coerce_all(output: Output, found: list[Any], warnings: list[str]) -> Any:
    if not output.array:
        if len(found) > 1:
            warnings.append(f"{output.name}: {_where(output)} matched {len(found)}; took the first")
        return _coerce(output, found[0], warnings)
    # One match that is itself a list is the list; several matches are gathered.
    items = found[0] if len(found) == 1 and isinstance(found[0], list) else found
    return [_coerce(output, item, warnings) for item in items]


def _coerce(output: Output, value: Any, warnings: list[str]) -> Any:
    kind = output.type
    if kind == "string":
        return templates.to_text(value) if value is not None else None
    if kind == "number":
        number = _number(value)
        if number is not None:
            return number
    elif kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
    elif isinstance(value, dict | list):
        return value
    if value is not None:
        warnings.append(f"{output.name}: {_where(output)} gave a value that is not a {kind}")
    return None


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
        try:
            number = float(value)
        except ValueError:
            return None
        return number if number == number and abs(number) != float("inf") else None
    return None


def _raised(value: Any) -> bool:
    """An alert output raises its alert when it holds something: not null, false or empty."""
    return value is not None and value is not False and value != "" and value != []


def _where(output: Output) -> str:
    if output.source == "status":
        return "the status"
    if output.source == "header":
        return f"header {output.path}"
    return output.path or "the body"
