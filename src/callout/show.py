"""Printing in the terminal (rich) what `callout send` and `callout fire` show, and the
library's APIs and requests.

Every value from a call, a designer or an upstream is escaped before it is printed: rich
reads `[...]` as markup, so an alert saying `[/x]` would otherwise end the command.
"""

import json
from urllib.parse import urlsplit

from rich.console import Console
from rich.markup import escape
from rich.syntax import Syntax
from rich.table import Column, Table
from rich.text import Text

from callout.apis.authorization import Authorization
from callout.apis.fields import Header, NameValue
from callout.apis.schemas import ApiRead, ApiSummary, RequestRead
from callout.designers.effects import Effect, FireResult
from callout.runtime.executor import Outcome

COLOURS = {
    "success": "green",
    "failure": "red",
    "timeout": "yellow",
    "completed": "green",
    "stopped": "red",
    "deadline": "yellow",
}


def show_outcome(console: Console, outcome: Outcome, *, verbose: bool = False) -> None:
    """The outcome, its outputs, alerts and warnings, and the response's body; `verbose`
    adds the request as sent, the response's status and headers, and each step's timing."""
    head = f"[bold {COLOURS[outcome.outcome]}]{outcome.outcome}[/]"
    if outcome.status is not None:
        head += f"  status {outcome.status}"
    head += f"  {outcome.duration_ms:.1f} ms"
    if outcome.reason:
        head += escape(f"  ({outcome.reason}: {outcome.message})")
    console.print(head, highlight=False)
    if outcome.request is not None:
        console.print(escape(f"{outcome.request.method} {outcome.request.url}"), highlight=False)
    if verbose:
        _show_exchange(console, outcome)
    if outcome.outputs:
        table = _table("output", "value")
        for name, value in outcome.outputs.items():
            table.add_row(escape(name), escape(json.dumps(value, ensure_ascii=False)))
        console.print(table)
    for alert in outcome.alerts:
        console.print(f"[bold magenta]alert:[/] {escape(alert)}", highlight=False)
    for warning in outcome.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
    if outcome.response is not None and outcome.response.body:
        console.print(_pretty(outcome.response.body))


def _show_exchange(console: Console, outcome: Outcome) -> None:
    """What went out (`>`) and came back (`<`), as curl -v shows it, then the steps. The
    trace masked every secret already."""
    lines: list[str] = []
    if outcome.request is not None:
        lines += [f"> {name}: {value}" for name, value in outcome.request.headers]
        if outcome.request.body:
            lines += [">", *(f"> {line}" for line in outcome.request.body.splitlines())]
    if outcome.response is not None:
        lines.append(f"< {outcome.response.status}")
        lines += [f"< {name}: {value}" for name, value in outcome.response.headers]
        if outcome.response.truncated:
            lines.append("< (the body below is its first 4 KiB)")
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    if outcome.steps:
        steps = _table("step", "ms", "detail")
        for step in outcome.steps:
            steps.add_row(escape(step.name), f"{step.duration_ms:.1f}", escape(step.detail))
        console.print(steps)


def _pretty(body: str) -> Syntax | Text:
    try:
        return Syntax(json.dumps(json.loads(body), indent=2, ensure_ascii=False), "json")
    except ValueError:
        return Text(body)


def show_fire(console: Console, result: FireResult) -> None:
    """The effects the desktop must apply, in order, then how each action went."""
    console.print(
        f"{escape(result.event)}: [bold {COLOURS[result.outcome]}]{result.outcome}[/]  "
        f"{result.duration_ms:.1f} ms",
        highlight=False,
    )
    effects = _table("#", "effect", "detail")
    for number, effect in enumerate(result.effects, start=1):
        effects.add_row(str(number), effect.kind, escape(_detail(effect)))
    console.print(effects)
    actions = _table("condition", "action", "kind", "outcome", "ms", "reason")
    for action in result.actions:
        why = escape(f"{action.reason}: {action.message}") if action.reason else ""
        outcome = f"[{COLOURS[action.outcome]}]{action.outcome}[/]"
        actions.add_row(
            str(action.condition),
            str(action.action),
            action.kind,
            outcome,
            f"{action.duration_ms:.1f}",
            why,
        )
    console.print(actions)


def _detail(effect: Effect) -> str:
    if effect.kind == "set_field":
        return f"{effect.field} = {json.dumps(effect.value, ensure_ascii=False)}"
    if effect.kind == "alert":
        return effect.message
    if effect.kind == "pop_url":
        return effect.url
    if effect.kind == "show_page":
        return effect.page
    return f"{effect.page} / {effect.component}"


def show_apis(console: Console, apis: list[ApiSummary]) -> None:
    """One line per API."""
    if not apis:
        console.print("No APIs.")
        return
    table = _table("id", "name", "type", "authorization", "base URL", "system")
    for api in apis:
        table.add_row(
            str(api.id),
            escape(api.name),
            api.type,
            api.authorization_type,
            escape(api.base_url),
            "yes" if api.system else "",
        )
    console.print(table)


def show_api(console: Console, api: ApiRead, service: str | None) -> None:
    """An API's settings, headers and authorization (secrets as read: masked), and its
    requests."""
    kind = "system API, read-only" if api.system else "client API"
    console.print(
        f"[bold]{escape(api.name)}[/]  id {api.id}, version {api.version}, {kind}",
        highlight=False,
    )
    _settings(
        console,
        [
            ("description", api.description),
            ("base URL", api.base_url),
            ("type", api.type),
            ("service", service or ""),
            ("authorization", _authorization(api.authorization)),
        ],
    )
    _headers(console, api.headers)
    console.print()
    show_requests(console, api.requests)


def _authorization(scheme: Authorization) -> str:
    """The scheme's type, then each setting given, secrets as the mask, and the secrets
    it requires that are not stored (after an import without them)."""
    given = scheme.model_dump(mode="json", exclude=set(type(scheme).model_computed_fields))
    settings = [
        f"{name}={value if isinstance(value, str) else json.dumps(value)}"
        for name, value in given.items()
        if name != "type" and value not in (None, "", [], {})
    ]
    unset = [f"{name}=(not set)" for name in scheme.required_secrets() if given[name] is None]
    return " ".join([scheme.type, *settings, *unset])


def show_requests(console: Console, requests: list[RequestRead]) -> None:
    """One line per request: its method, name and path (after the host)."""
    if not requests:
        console.print("No requests.")
        return
    table = _table("id", "method", "name", "path")
    for request in requests:
        path = urlsplit(request.url).path
        table.add_row(str(request.id), request.method, escape(request.name), escape(path))
    console.print(table)


def show_request(console: Console, request: RequestRead) -> None:
    """A request's URL template, settings, query, headers (secrets masked), form fields,
    parameters, outputs, samples and body."""
    console.print(
        f"[bold]{escape(request.name)}[/]  id {request.id}, version {request.version}",
        highlight=False,
    )
    console.print(escape(f"{request.method} {request.url}"), highlight=False)
    timeout = f"{request.timeout:g} s" if request.timeout is not None else ""
    success = ", ".join(str(s) for s in request.success_statuses)
    _settings(
        console,
        [
            ("description", request.description),
            ("content type", request.content_type),
            ("timeout", timeout),
            ("success statuses", success),
            ("samples", ", ".join(sample.name for sample in request.samples)),
        ],
    )
    _name_values(console, "query", request.query)
    _headers(console, request.headers)
    _name_values(console, "form field", request.form)
    if request.parameters:
        console.print()
        table = _table("parameter", "type", "required", "default", "secret", "description")
        for parameter in request.parameters:
            default = "" if parameter.default is None else json.dumps(parameter.default)
            table.add_row(
                escape(parameter.name),
                parameter.type,
                "yes" if parameter.required else "",
                escape(default),
                "yes" if parameter.secret else "",
                escape(parameter.description),
            )
        console.print(table)
    if request.outputs:
        console.print()
        table = _table("output", "source", "path", "type", "to")
        for output in request.outputs:
            kind = f"list of {output.type}" if output.array else output.type
            to = f"alert: {output.message}" if output.target == "alert" else output.field
            table.add_row(
                escape(output.name),
                output.source,
                escape(output.path),
                kind,
                escape(to or output.name),
            )
        console.print(table)
    if request.body:
        console.print()
        console.print(
            _pretty(request.body) if request.content_type == "json" else request.body,
            markup=False,
            highlight=False,
        )


def _settings(console: Console, rows: list[tuple[str, str]]) -> None:
    """Label and value, one per line, leaving out those not set."""
    table = _table("", "", show_header=False)
    table.columns[0].style = "bold"
    for label, value in rows:
        if value:
            table.add_row(label, escape(value))
    console.print(table)


def _headers(console: Console, headers: list[Header]) -> None:
    """Secret values as their serializer writes them: the mask, whatever the read held, or
    "(not set)" when none is stored."""
    if not headers:
        return
    console.print()
    table = _table("header", "value", "enabled")
    for header in headers:
        shown = header.model_dump()
        value = "(not set)" if header.secret and not shown["value"] else escape(shown["value"])
        table.add_row(escape(shown["name"]), value, _yes_no(header.enabled))
    console.print(table)


def _name_values(console: Console, what: str, entries: list[NameValue]) -> None:
    if not entries:
        return
    console.print()
    table = _table(what, "value", "enabled")
    for entry in entries:
        table.add_row(escape(entry.name), escape(entry.value), _yes_no(entry.enabled))
    console.print(table)


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def _table(*headers: str, show_header: bool = True) -> Table:
    """A table whose cells fold a long word (a request's name, a URL) onto the next line
    rather than cutting it with an ellipsis: whatever is shown can be typed back."""
    columns = [Column(header, overflow="fold") for header in headers]
    return Table(*columns, box=None, show_header=show_header)
