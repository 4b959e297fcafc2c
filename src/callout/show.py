"""Printing in the terminal (rich) what `callout send` and `callout fire` show.

Every value from a call, a designer or an upstream is escaped before it is printed: rich
reads `[...]` as markup, so an alert saying `[/x]` would otherwise end the command.
"""

import json

from rich.console import Console
from rich.markup import escape
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

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


def show_outcome(console: Console, outcome: Outcome) -> None:
    head = f"[bold {COLOURS[outcome.outcome]}]{outcome.outcome}[/]"
    if outcome.status is not None:
        head += f"  status {outcome.status}"
    head += f"  {outcome.duration_ms:.1f} ms"
    if outcome.reason:
        head += escape(f"  ({outcome.reason}: {outcome.message})")
    console.print(head, highlight=False)
    if outcome.request is not None:
        console.print(escape(f"{outcome.request.method} {outcome.request.url}"), highlight=False)
    if outcome.outputs:
        table = Table("output", "value", box=None, show_header=True)
        for name, value in outcome.outputs.items():
            table.add_row(escape(name), escape(json.dumps(value, ensure_ascii=False)))
        console.print(table)
    for alert in outcome.alerts:
        console.print(f"[bold magenta]alert:[/] {escape(alert)}", highlight=False)
    for warning in outcome.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
    if outcome.response is not None and outcome.response.body:
        console.print(_pretty(outcome.response.body))


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
    effects = Table("#", "effect", "detail", box=None)
    for number, effect in enumerate(result.effects, start=1):
        effects.add_row(str(number), effect.kind, escape(_detail(effect)))
    console.print(effects)
    actions = Table("condition", "action", "kind", "outcome", "ms", "reason", box=None)
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
