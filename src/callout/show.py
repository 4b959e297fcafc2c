"""Printing an outcome in the terminal (rich): what `callout send` shows."""

import json

from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table

from callout.runtime.executor import Outcome

COLOURS = {"success": "green", "failure": "red", "timeout": "yellow"}


def show_outcome(console: Console, outcome: Outcome) -> None:
    head = f"[bold {COLOURS[outcome.outcome]}]{outcome.outcome}[/]"
    if outcome.status is not None:
        head += f"  status {outcome.status}"
    head += f"  {outcome.duration_ms:.1f} ms"
    if outcome.reason:
        head += f"  ({outcome.reason}: {outcome.message})"
    console.print(head, highlight=False)
    if outcome.request is not None:
        console.print(f"{outcome.request.method} {outcome.request.url}", highlight=False)
    if outcome.outputs:
        table = Table("output", "value", box=None, show_header=True)
        for name, value in outcome.outputs.items():
            table.add_row(name, json.dumps(value, ensure_ascii=False))
        console.print(table)
    for alert in outcome.alerts:
        console.print(f"[bold magenta]alert:[/] {alert}", highlight=False)
    for warning in outcome.warnings:
        console.print(f"[yellow]warning:[/] {warning}", highlight=False)
    if outcome.response is not None and outcome.response.body:
        console.print(_pretty(outcome.response.body))


def _pretty(body: str) -> Syntax | str:
    try:
        return Syntax(json.dumps(json.loads(body), indent=2, ensure_ascii=False), "json")
    except ValueError:
        return body
