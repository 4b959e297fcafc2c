"""Reading a response into the request's declared outputs: data fields and alerts.

JSONPath is RFC 9535 through `jsonpath-rfc9535`: it follows the RFC to the letter and passes
the JSONPath Compliance Test Suite, so a path means here what it means in any conforming
tool (jsonpath-ng predates the RFC; python-jsonpath, by the same author, adds extensions).
A singular path (names and indexes only, the common case) is read by plain lookups from
steps compiled into the plan. XPath runs through `elementpath` on a tree parsed by
defusedxml, which refuses entity expansion and external references.

A path that matches nothing gives the output's default, else null and a warning; a value
that cannot take the declared type gives null and a warning. Neither fails the call.
"""

import json
from dataclasses import dataclass, field
from typing import Any

import elementpath
from defusedxml import ElementTree

from callout.runtime import templates
from callout.runtime.errors import MappingError, ParameterError
from callout.runtime.http import Received
from callout.runtime.plan import Output, Plan

NOTHING: Any = object()


@dataclass(slots=True)
class Mapped:
    outputs: dict[str, Any] = field(default_factory=dict)
    alerts: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def map_response(plan: Plan, received: Received, scope: templates.Scope) -> Mapped:
    """Every output is read before any alert is written, so an alert's message can name any
    output of the same response: one declared after it, or one that fills a data field under
    another name (`${custName}` for an output `custName` that fills `customer_name`)."""
    mapped = Mapped()
    body = _Body(received)
    values: dict[str, Any] = {}
    for output in plan.outputs:
        found = _find(output, received, body)
        if not found:
            value = output.default
            if value is None:
                mapped.warnings.append(f"{output.name}: {_where(output)} matched nothing")
        else:
            value = _coerce_all(output, found, mapped.warnings)
        values[output.name] = value
        if output.field is not None:
            mapped.outputs[output.field] = value
    # A data field's name reads too, as it always has; an output's own name wins over it.
    readable = {**scope, **mapped.outputs, **values}
    for output in plan.outputs:
        # An alert is raised by a value that holds something: not 0, "", [], {}.
        if output.field is None and values[output.name]:
            mapped.alerts.append(_alert(output, readable, mapped.warnings))
    return mapped


class _Body:
    """The response body, parsed at most once per form it is read in."""

    __slots__ = ("_json", "_xml", "received")

    def __init__(self, received: Received) -> None:
        self.received = received
        self._json: Any = NOTHING
        self._xml: Any = NOTHING

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


def _find(output: Output, received: Received, body: _Body) -> list[Any]:
    if output.source == "status":
        return [received.status]
    if output.source == "header":
        return received.header(output.path)
    if output.steps is not None:
        return _walk(body.json(output), output.steps)
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


def _walk(value: Any, steps: tuple[str | int, ...]) -> list[Any]:
    """A singular JSONPath: a name reads an object's member, an index an array's element
    (negative from the end); anything else matches nothing (RFC 9535 sections 2.3.1-2.3.3)."""
    for step in steps:
        if isinstance(step, str):
            if type(value) is not dict or step not in value:
                return []
            value = value[step]
        else:
            if type(value) is not list:
                return []
            index = step if step >= 0 else len(value) + step
            if not 0 <= index < len(value):
                return []
            value = value[index]
    return [value]


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
        if type(value) is str or value is None:
            return value
        return templates.to_text(value)
    if kind == "number":
        number = _number(value)
        if number is not None:
            return number
    elif kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        if type(value) is int and value in (0, 1):
            return bool(value)
    elif isinstance(value, dict | list):
        return value
    if value is not None:
        what = templates.a_kind(kind)
        warnings.append(f"{output.name}: {_where(output)} gave a value that is not {what}")
    return None


def _number(value: Any) -> int | float | None:
    if type(value) is int or type(value) is float:
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


def _alert(output: Output, values: templates.Scope, warnings: list[str]) -> str:
    """The alert's message; a placeholder with no value is left empty and warned about,
    since the call itself went well."""
    parts = []
    for part in output.message:
        if isinstance(part, str):
            parts.append(part)
            continue
        try:
            parts.append(templates.value_of(part, values))
        except ParameterError as error:
            warnings.append(f"{output.name}: alert message: {error.message}")
    return "".join(parts)


def _where(output: Output) -> str:
    if output.source == "status":
        return "the status"
    if output.source == "header":
        return f"header {output.path}"
    return output.path or "the body"
