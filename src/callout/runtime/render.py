"""Bind and render: a plan's placeholders filled from the caller's parameters and context,
each value encoded for where it lands (templates.py says how), checked before anything is
sent. A parameter missing or of the wrong type, or a URL that leaves the API's base path,
stops the call here with an error that names it."""

import json
from collections.abc import Iterator, Mapping
from typing import Any

from callout.runtime import templates
from callout.runtime.errors import ParameterError
from callout.runtime.http import Outgoing
from callout.runtime.plan import Parameter, Plan

MAX_URL_CHARS = 8192


def bind(plan: Plan, parameters: Mapping[str, Any], context: Mapping[str, Any]) -> dict[str, Any]:
    """The scope placeholders read: the context's values and the checked parameters."""
    if not parameters.keys() <= plan.declared:
        unknown = sorted(set(parameters) - plan.declared)
        raise ParameterError(
            f"unknown parameter {', '.join(unknown)}; this request takes "
            f"{', '.join(sorted(plan.declared)) or 'none'}"
        )
    scope = dict(context)
    for parameter in plan.parameters:
        value = parameters.get(parameter.name)
        if value is None:
            value = parameter.default
            if value is None:
                if parameter.required:
                    raise ParameterError(f"parameter {parameter.name} is required")
                scope[parameter.name] = None  # left out: empty in text, null in JSON
                continue
        found = type(value)
        if (found is str and parameter.type == "string") or (
            found is int and parameter.type == "number"
        ):
            scope[parameter.name] = value  # already what it should be, the common case
        else:
            scope[parameter.name] = _typed(parameter, value)
    return scope


def _typed(parameter: Parameter, value: Any) -> Any:
    """The value in its declared type; text that spells one (as scripts send) is accepted."""
    kind, found = parameter.type, type(value)
    if kind == "string":
        if found is str:
            return value
        if found is int or (found is float and _finite(value)):
            return templates.to_text(value)
    elif kind == "number":
        if found is int or (found is float and _finite(value)):
            return value
        if found is str:
            number = _number(value)
            if number is not None:
                return number
    elif kind == "boolean":
        if found is bool:
            return value
        if found is str and value.lower() in ("true", "false"):
            return value.lower() == "true"
    elif found is dict or found is list:
        return value
    raise ParameterError(f"parameter {parameter.name} must be {templates.a_kind(kind)}")


def _finite(value: float) -> bool:
    return value == value and value not in (float("inf"), float("-inf"))


def _number(text: str) -> int | float | None:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    return number if _finite(number) else None


def secret_values(plan: Plan, scope: templates.Scope) -> Iterator[str]:
    """What the caller gave for the plan's secret parameters, as text: the redactor masks
    each in every spelling it may be sent or echoed in."""
    for name in plan.secret_parameters:
        yield templates.to_text(scope[name])


def render(plan: Plan, scope: templates.Scope) -> Outgoing:
    """The request with every placeholder filled for where it lands."""
    path = templates.path_of(plan.path, scope)
    if plan.base_path and not (path == plan.base_path or path.startswith(plan.base_path + "/")):
        raise ParameterError("the rendered URL left the API's base path")
    url = plan.origin + path
    if plan.query:
        url += "?" + "&".join(
            f"{name}={templates.query_of(value, scope)}" for name, value in plan.query
        )
    if len(url) > MAX_URL_CHARS:
        raise ParameterError(f"the rendered URL is longer than {MAX_URL_CHARS} characters")
    outgoing = Outgoing(
        plan.method,
        url,
        [
            (
                h.name,
                h.fixed if h.fixed is not None else templates.header_of(h.name, h.value, scope),
            )
            for h in plan.headers
        ],
        follow_redirects=plan.follow_redirects,
        secret_body=plan.secret_body,
    )
    if plan.content_type == "multipart":
        outgoing.form = tuple((name, templates.text_of(v, scope)) for name, v in plan.form)
    elif plan.content_type == "form":
        outgoing.body = templates.form_of(plan.form, scope)
    elif plan.body is not None:
        outgoing.body = _body(plan, scope)
    return outgoing


def _body(plan: Plan, scope: templates.Scope) -> bytes:
    try:
        if plan.content_type == "json":
            value = templates.json_of(plan.body, scope)
            return json.dumps(value, ensure_ascii=False, allow_nan=False).encode()
        assert isinstance(plan.body, tuple)
        if plan.content_type == "xml":
            return templates.xml_of(plan.body, scope).encode()
        return templates.text_of(plan.body, scope).encode()
    except ValueError:  # NaN or infinity in a value placed whole in JSON
        raise ParameterError("a value is not valid in JSON (NaN or infinity)") from None
    except UnicodeEncodeError:  # a lone surrogate inside a value placed whole
        raise ParameterError("a value holds a lone surrogate, not text") from None
