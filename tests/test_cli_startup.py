"""`callout` answers help at once: `import callout.cli` and `callout --help` load none of the
web framework, the ORM, the migrations, the outbound client, Redis or Callout's services, as
each command imports what it uses when it runs (`cli/common.py`). Checked by the modules a
process loaded, not by a timing: timings flake on a loaded machine."""

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli import callout, environment

# What a command loads when it runs, and help must not: the frameworks and what reaches them.
HEAVY = (
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "alembic",
    "aiohttp",
    "redis",
    "authlib",
    "yaml",
    "pydantic_settings",
    "callout.settings",
    "callout.db.engine",
    "callout.db.models",
    "callout.db.migrations",
    "callout.apis.catalog",
    "callout.apis.schemas",
    "callout.apis.service",
    "callout.clients.service",
    "callout.designers.engine",
    "callout.invocations.service",
    "callout.interchange.service",
    "callout.runtime",
    "callout.show",
    "callout.validation",
    "callout.web",
)


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def imported(importtime: str) -> set[str]:
    """The modules a process loaded, from what `-X importtime` wrote on its stderr:
    `import time: <self us> | <cumulative us> | <indented name>`."""
    return {
        line.split("|")[2].strip()
        for line in importtime.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    } - {"imported package"}


def test_importing_the_command_loads_no_service(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import callout.cli"],
        env=environment(tmp_path),
        capture_output=True,
        text=True,
        check=True,
    )
    modules = imported(done.stderr)

    assert {"callout.cli.library", "callout.cli.backup", "typer"} <= modules
    assert heavy(modules) == []


@pytest.mark.parametrize(
    "args",
    [("--help",), ("apis", "--help"), ("apis", "create", "--help"), ("import", "--help")],
)
def test_help_loads_no_service(tmp_path: Path, args: tuple[str, ...]) -> None:
    done = callout(tmp_path, *args, PYTHONPROFILEIMPORTTIME="1")

    assert done.returncode == 0, done.stderr
    assert "Usage: callout" in done.stdout
    modules = imported(done.stderr)
    assert "callout.cli.common" in modules
    assert heavy(modules) == []


def test_the_check_finds_a_command_that_loads_its_services(tmp_path: Path) -> None:
    done = callout(tmp_path, "apis", "list", "demo", PYTHONPROFILEIMPORTTIME="1")

    assert done.returncode == 1  # no installation here: it says to run `callout init`
    assert {"sqlalchemy", "callout.settings", "callout.db.migrations"} <= set(
        heavy(imported(done.stderr))
    )


def test_every_group_sums_up_each_command_on_one_line() -> None:
    from typer.core import TyperGroup
    from typer.main import get_group

    from callout.cli import app

    def summaries(group: TyperGroup, path: str) -> Iterator[tuple[str, str]]:
        for name, command in group.commands.items():
            # What rich help lists a command by: its docstring, line breaks kept, if no summary.
            yield f"{path} {name}", command.short_help or command.help or ""
            if isinstance(command, TyperGroup):
                yield from summaries(command, f"{path} {name}")

    found = dict(summaries(get_group(app), "callout"))
    assert found["callout apis create"] == (
        "Create an API with no headers and no authorization (`callout import` reads a whole one "
        "from a file)."
    )
    assert [path for path, summary in found.items() if "\n" in summary] == []
