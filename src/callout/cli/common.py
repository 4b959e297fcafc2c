"""What every `callout` command shares: the command groups, the consoles, failing with one
clear line, and opening the installation's database.

A console script pays for all it imports before it does anything, and every command runs in
a fresh process: `callout --help` or a mistyped option should answer as HTTPie does, at once,
not after the web framework, the ORM, the migrations, the catalogue and the runtime have
loaded (1.5 s of imports when the modules here imported them at their top). So every module
of `cli/` imports at its top only the standard library, Typer, Rich, this module and the
plain word lists its options are typed with (`apis.api_types`, `interchange.options`: Typer
reads the annotations to build `--help`); each command, and each helper here, imports the
services, schemas and database it uses in its body, when it runs. tests/test_cli_startup.py
checks that `import callout.cli` and `callout --help` load none of them.
"""

import inspect
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperCommand, TyperGroup

from callout.errors import CalloutError, FieldProblem, Invalid, problem_body

if TYPE_CHECKING:
    from callout.db.crypto import Keyring
    from callout.db.engine import Database

# How `callout --help` lists the commands: by panel, setting up first, each panel in this
# order. A command not named here is listed last, under "Other".
HELP_ORDER = {
    "Installation": ("init", "serve", "openapi", "db", "keys", "apikey", "backup", "restore"),
    "Library": ("apis", "requests", "import", "import-curl", "export", "schema"),
    "Calls": ("send", "fire", "authorize"),
}
OTHER = "Other"


class Summed(TyperGroup):
    """Sums up each command by its docstring's first paragraph on one line, and gives each
    paragraph of its help as one line for the terminal to wrap (rich help keeps the
    docstring's line breaks, which cut sentences mid-way); indented lines (examples) stay."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for command in self.commands.values():
            if command.help:
                paragraphs = [_joined(p) for p in inspect.cleandoc(command.help).split("\n\n")]
                command.help = "\n\n".join(paragraphs)
                if command.short_help is None:
                    command.short_help = paragraphs[0]


def _joined(paragraph: str) -> str:
    """A paragraph of help on one line, unless it holds indented lines (examples)."""
    lines = paragraph.splitlines()
    if any(line[:1].isspace() for line in lines[1:]):
        return paragraph
    return " ".join(" ".join(lines).split())


class InPanels(Summed):
    """Lists the commands as HELP_ORDER says, not in the order their modules happened to
    be imported."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        panels = {name: panel for panel, names in HELP_ORDER.items() for name in names}
        order = list(panels)
        ranked = sorted(self.commands, key=lambda n: order.index(n) if n in panels else len(order))
        self.commands = {name: self.commands[name] for name in ranked}
        for name, command in self.commands.items():
            if isinstance(command, TyperCommand | TyperGroup):
                command.rich_help_panel = panels.get(name, OTHER)


# Locals stay out of tracebacks: a frame may hold a secret on its way to being sealed.
app = typer.Typer(
    cls=InPanels,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    help="Callout: the function library for agent scripts.",
)
db_app = typer.Typer(cls=Summed, no_args_is_help=True, help="The database.")
keys_app = typer.Typer(
    cls=Summed, no_args_is_help=True, help="The keys that encrypt stored secrets."
)
apikey_app = typer.Typer(cls=Summed, no_args_is_help=True, help="API keys for the REST API.")
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(apikey_app, name="apikey")

out = Console()
if not out.is_terminal:  # into a pipe or a file: every line whole, whatever COLUMNS says
    out = Console(width=10_000)
err = Console(stderr=True)
# Whether the running command was given --json: its failures are printed on stdout too.
_errors_as_json = False


def report(message: str) -> None:
    """One line on stderr, however long (a terminal wraps it; a log or a pipe keeps it
    whole); the message escaped, as it may quote a name that looks like markup (`[/x]` would
    otherwise end the command with a traceback)."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)


def fail(message: str) -> NoReturn:
    """Ends the command with one line on stderr; within `errors_as_json`, a problem body on
    stdout too (a refused command line: 400)."""
    if _errors_as_json:
        out.print_json(data=problem_body(400, "bad-request", "Bad request", message))
    report(message)
    raise typer.Exit(1)


@contextmanager
def errors_as_json(enabled: bool) -> Iterator[None]:
    """For a command given --json: an expected failure inside is printed on stdout as the
    REST API's problem+json body would be (`status`, `title`, `detail`, `errors`), so that a
    script reading stdout gets the error too; stderr has its line, as ever, and the command
    exits with 1."""
    global _errors_as_json
    _errors_as_json = enabled
    try:
        yield
    except Exception as error:
        found = expected(error) if enabled else None
        if found is not None:
            out.print_json(data=found.body())
        raise
    finally:
        _errors_as_json = False


def expected(error: BaseException) -> CalloutError | None:
    """An expected failure as the service error it stands for, or None for a bug: what the
    command prints as one line and, with --json, as a problem body. Its kinds are imported
    only once a command has failed, not on every start."""
    from pydantic import ValidationError

    from callout.db.crypto import KeyMaterialError
    from callout.validation import validation_problems

    if isinstance(error, CalloutError):
        return error
    if isinstance(error, ValidationError):
        found = validation_problems(error.errors())
        if error.title == "Settings":  # the environment: each setting as it is set
            found = [
                FieldProblem(_setting(e["loc"]), p.message)
                for e, p in zip(error.errors(), found, strict=True)
            ]
        return Invalid.of(found)
    if isinstance(error, KeyMaterialError):  # the installation's keys, as configured
        return Invalid(str(error))
    return None


def _setting(loc: tuple[int | str, ...]) -> str:
    """A setting as the environment names it (`CALLOUT_PLAN_TTL`), or `settings` for a rule
    over several (its message names them)."""
    return f"CALLOUT_{loc[0]}".upper() if loc else "settings"


def open_database() -> "Database":
    from callout.db.engine import Database
    from callout.settings import get_settings

    return Database.from_settings(get_settings())


def upgrade(database: "Database") -> int:
    """Migrate the database to the newest revision and sync the system APIs: how many of
    them changed."""
    from callout.apis import catalog
    from callout.db import migrations

    migrations.upgrade(database.engine)
    with database.transaction() as session:
        return catalog.sync(session)


def set_up() -> tuple["Keyring", "Database"]:
    """A data dir ready to hold an installation: made if missing, with a secret key (made if
    missing) and the database at the newest revision. What `init` and `restore` start from."""
    from callout.settings import get_settings

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    keyring = settings.key_source(create=True).keyring()
    database = open_database()
    upgrade(database)
    return keyring, database


def installed() -> "Database":
    """The database of a set-up installation. Without one, says what to run and exits,
    creating nothing: opening a SQLite file that is not there would create it, empty."""
    from sqlalchemy import make_url

    from callout.db import migrations
    from callout.settings import get_settings

    url = make_url(get_settings().resolved_database_url)
    path = url.database if url.get_backend_name() == "sqlite" else None
    if path and path != ":memory:" and not Path(path).is_file():
        fail(
            f"no database at {path}: run `callout init` to set up here "
            "(or `callout db upgrade` to create an empty one)"
        )
    database = open_database()
    if not migrations.is_current(database.engine):
        database.dispose()
        fail("the database is not at the newest revision; run `callout db upgrade` first")
    return database


def json_file(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror}")
    except ValueError as error:
        fail(f"{path} is not JSON: {error}")


def parse_parameter(text: str) -> tuple[str, Any]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        fail(f"--parameter {text!r} is not name=value")
    if value[:1] in ("{", "["):
        try:
            return name, json.loads(value)
        except ValueError:
            fail(f"--parameter {name}: the value starts like JSON but is not JSON")
    return name, value
