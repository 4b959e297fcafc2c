"""Import and export from the terminal: the same services as REST's, with files and folders."""

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from callout.cli.common import app, err, errors_as_json, fail, installed, out
from callout.interchange.options import EXTENSIONS, Clash, ExportFormat, Format

if TYPE_CHECKING:
    from callout.interchange.archive import Folder
    from callout.interchange.schemas import ImportReport

# How the CLI spells the clash option, in the hint of a refused clash.
CLASH_OPTION = "--clash {}"


def read_passphrase(path: Path | None, *, confirm: bool) -> str:
    """The passphrase from a file (its first line), or asked for at the terminal. `confirm`:
    one to seal with, asked twice, its least length said before it is typed."""
    if path is not None:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
            return lines[0] if lines else ""
        except OSError as error:
            fail(f"cannot read {path}: {error.strerror}")
    if not sys.stdin.isatty():
        fail("give --passphrase-file: there is no terminal to ask for the passphrase")
    question = "Passphrase"
    if confirm:
        from callout.interchange.sealing import MIN_PASSPHRASE

        question = f"Passphrase (at least {MIN_PASSPHRASE} characters)"
    # On stderr: stdout may be the exported file (`callout export ... --with-secrets > f`).
    text: str = typer.prompt(question, hide_input=True, confirmation_prompt=confirm, err=True)
    return text


PassphraseFile = Annotated[
    Path | None,
    typer.Option(help="A file whose first line is the passphrase (else it is asked for)."),
]


@app.command("export")
def export(
    client: Annotated[str, typer.Argument(help="The client's code.")],
    api: Annotated[
        str | None, typer.Argument(help="The API's id or name; none: the whole library.")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="A file for one API (else stdout); a folder for a library."
        ),
    ] = None,
    format: Annotated[
        ExportFormat,
        typer.Option(help="One API as: a Callout file, a Postman collection or cURL commands."),
    ] = "callout",
    with_secrets: Annotated[
        bool, typer.Option(help="Seal the secrets into the files under a passphrase.")
    ] = False,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Export an API, or a client's whole library, as Callout YAML files.

    Secrets are left out and each file names the ones it lacks (`missing_secrets`); with
    --with-secrets they are sealed under a passphrase (scrypt, AES-256-GCM). A library
    exported into a folder again replaces its files there: those of APIs deleted since are
    removed (only files an export of this client recorded in .callout-export.yaml).

    Examples:
      callout export demo "Customer CRM" > crm.yaml
      callout export demo -o library/
      callout export demo -o library/ --with-secrets
    """
    from callout.apis import definitions
    from callout.clients import service as clients
    from callout.clients.access import OPERATOR
    from callout.interchange import archive, postman
    from callout.interchange import export as exporting
    from callout.interchange.sealing import Sealer
    from callout.settings import get_settings

    if api is None and output is None:
        fail("give --output DIR to export a whole library (one file per API)")
    if format != "callout" and api is None:
        fail(f"--format {format} exports one API: name it")
    if format != "callout" and with_secrets:
        fail("--with-secrets needs --format callout")
    sealer = Sealer(read_passphrase(passphrase_file, confirm=True)) if with_secrets else None
    settings = get_settings()
    keyring = settings.key_source().keyring()
    with installed().transaction() as session:
        owner = clients.visible_client(session, OPERATOR, client)
        code = owner.code
        if api is None:
            documents = exporting.export_library(session, keyring, owner, sealer)
        else:
            api_id = definitions.resolve_api(session, owner, api)
            documents = [exporting.export_api(session, keyring, owner, api_id, sealer)]
    if api is not None:
        document = documents[0]
        text = exporting.WRITERS[format](document)
        if format == "postman":
            for lost in postman.not_carried(document):
                err.print(f"not carried into the collection: {escape(lost)}", highlight=False)
        if output is None:
            sys.stdout.write(text)
            return
        if output.is_dir():  # named as the library export names its files
            output = output / f"{archive.file_stem(document.name)}.{EXTENSIONS[format]}"
        _write(output, text)
        err.print(
            f"Exported {escape(repr(document.name))} to {escape(str(output))}",
            highlight=False,
            soft_wrap=True,
        )
        return
    assert output is not None
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        fail(f"cannot make the folder {output}: {error.strerror}")
    written = dict(archive.named(documents))
    for name, text in written.items():
        _write(output / name, text)
    stale = archive.stale(output, code, written)
    _write(output / archive.EXPORTED, archive.record(code, written))
    for path in stale:
        try:
            path.unlink()
        except OSError as error:
            fail(f"cannot remove {path}: {error.strerror}")
    removed = f"; removed {len(stale)} Callout file(s) of APIs it no longer has" if stale else ""
    if 0 < len(stale) <= 10:
        removed += f": {', '.join(path.name for path in stale)}"
    err.print(
        f"Exported {len(documents)} API(s) to {escape(str(output))}{escape(removed)}",
        highlight=False,
        soft_wrap=True,
    )


def _write(path: Path, text: str) -> None:
    """Write the whole file or leave the one there as it was (a full disk cuts no file)."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        fail(f"cannot write {path}: {error.strerror}")


@app.command("import")
def import_(
    client: Annotated[str, typer.Argument(help="The client's code.")],
    paths: Annotated[
        list[Path],
        typer.Argument(help="Files, folders of Callout files, or zips; - for stdin."),
    ],
    format: Annotated[Format | None, typer.Option(help="Empty: recognised from the file.")] = None,
    clash: Annotated[Clash, typer.Option(help="An API whose name is taken.")] = "fail",
    dry_run: Annotated[bool, typer.Option(help="Check and report; write nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON.")] = False,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Import APIs from Callout files, Postman collections, OpenAPI or cURL.

    Every file is checked first; all is written in one transaction, so a bad file changes
    nothing. A folder gives its .yaml, .yml and .json files; the report names what else it
    holds (subfolders, other files), passed over.

    Examples:
      callout import demo petstore.yaml
      callout import demo library/ --clash rename
      callout import demo collection.json --dry-run --json
    """
    from callout.clients import service as clients
    from callout.clients.access import OPERATOR
    from callout.interchange import service
    from callout.interchange.schemas import Note
    from callout.settings import get_settings

    with errors_as_json(as_json):
        read = [(path, _read(path)) for path in paths]
        files = [file for _, folder in read for file in folder.files]
        passed_over = [
            Note(source=str(path), where="", message=f"passed over: {', '.join(names)}")
            for path, folder in read
            if (names := folder.passed_over)
        ]
        settings = get_settings()
        keyring = settings.key_source().keyring()
        database = installed()
        # On a terminal only: elsewhere nothing is drawn, and a bar stopped there prints a
        # blank line.
        shown = not as_json and err.is_terminal
        with Progress(console=err, transient=True, disable=not shown) as bar:
            task = bar.add_task("Importing", total=None)

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            def passphrase() -> str:  # asked for only if a file holds sealed secrets
                # The bar is put away while it is asked for: its redraws would overwrite the
                # prompt, and while it runs, what is written to the terminal waits for a
                # line's end, which a prompt never has.
                bar.stop()
                try:
                    return read_passphrase(passphrase_file, confirm=False)
                finally:
                    bar.start()

            with database.transaction() as session:
                owner = clients.visible_client(session, OPERATOR, client)
                report = service.import_files(
                    session,
                    keyring,
                    OPERATOR,
                    owner,
                    files,
                    format=format,
                    clash=clash,
                    dry_run=dry_run,
                    passphrase=passphrase,
                    progress=advance,
                    clash_option=CLASH_OPTION,
                )
    _show(report.model_copy(update={"notes": passed_over + report.notes}), as_json)


def _read(path: Path) -> "Folder":
    """The files to import from a path: a folder's, a zip's, stdin or the file itself."""
    from callout.interchange import archive, service

    if str(path) == "-":
        return archive.Folder([service.File("stdin", sys.stdin.buffer.read())], [])
    try:
        if path.is_dir():
            return archive.read_folder(path)
        data = path.read_bytes()
    except OSError as error:
        fail(f"cannot read {error.filename or path}: {error.strerror}")
    if path.suffix.lower() == ".zip":
        return archive.Folder(archive.unzip(data, str(path)), [])
    return archive.Folder([service.File(str(path), data)], [])


def _show(report: "ImportReport", as_json: bool) -> None:
    if as_json:
        out.print_json(report.model_dump_json())
        return
    verb = "Would import" if report.dry_run else "Imported"
    written = [a for a in report.apis if a.action != "skipped"]
    requests = sum(a.requests for a in written)
    out.print(
        f"{verb} {len(written)} API(s) with {requests} request(s) ({', '.join(report.formats)}).",
        highlight=False,
    )
    table = Table("action", "API", "requests", "secrets to enter", box=None)
    for api in report.apis:
        table.add_row(
            api.action, escape(api.name), str(api.requests), escape(", ".join(api.missing_secrets))
        )
    out.print(table)
    for name in report.services_created:
        out.print(f"service created: {escape(name)}", highlight=False)
    # One line per thing not carried, with the places it was found (a collection may have
    # a test script on each of thirty requests); --json lists every note.
    places: dict[tuple[str, str], list[str]] = {}
    for note in report.notes:
        places.setdefault((note.source, note.message), []).append(note.where)
    for (source, message), found in places.items():
        if len(found) == 1:
            line = f"{found[0]}: {message}" if found[0] else message
        else:
            shown = ", ".join(found[:3]) + (f" and {len(found) - 3} more" if len(found) > 3 else "")
            line = f"{message} ({len(found)} places: {shown})"
        out.print(f"[yellow]note:[/] {escape(source)}: {escape(line)}", highlight=False)


@app.command()
def schema(
    output: Annotated[Path | None, typer.Option(help="Write it to this file instead.")] = None,
) -> None:
    """Print the JSON Schema of Callout's API files, for an editor to check them as they are
    written (e.g. VS Code's YAML extension: `# yaml-language-server: $schema=<file>`).

    Needs no server and no set-up; docs/callout-file.schema.json holds a copy.

    Examples:
      callout schema --output callout-file.schema.json
    """
    from callout.interchange.schemas import file_schema

    text = json.dumps(file_schema(), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        _write(output, text)


@app.command("import-curl")
def import_curl(
    client: Annotated[str, typer.Argument(help="The client's code.")],
    command: Annotated[str, typer.Argument(help="The curl command line, quoted; - for stdin.")],
    name: Annotated[
        str | None, typer.Option(help="The new API's name; default: the host's name.")
    ] = None,
    clash: Annotated[Clash, typer.Option(help="An API whose name is taken.")] = "rename",
    dry_run: Annotated[bool, typer.Option(help="Check and report; write nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON.")] = False,
) -> None:
    """Import a cURL command line as a new API with one request.

    The line is as API docs and browsers' "Copy as cURL" give it. Nothing is run: it is read
    as a shell would split it, and one with shell operators (; | && $(...)) is refused.

    Examples:
      callout import-curl demo 'curl -u alice https://api.example.com/v1/customers/42'
      pbpaste | callout import-curl demo - --name "CRM"
    """
    from pydantic import TypeAdapter, ValidationError

    from callout.clients import service as clients
    from callout.clients.access import OPERATOR
    from callout.errors import FieldProblem, Invalid
    from callout.interchange import service
    from callout.schemas import Name
    from callout.settings import get_settings
    from callout.validation import validation_problems

    with errors_as_json(as_json):
        text = sys.stdin.read() if command == "-" else command
        converted = service.convert(service.File("command line", text.encode()), "curl")
        if name is not None and len(converted.documents) > 1:
            raise Invalid.field(
                "--name",
                f"names one API; these commands call {len(converted.documents)} base URLs, an "
                "API each: import them without --name, or one at a time",
            )
        if name is not None:
            # Only the name changes: checked on its own, then put in (the document's secret
            # header values would dump as the mask).
            try:
                checked = TypeAdapter(Name).validate_python(name)
            except ValidationError as error:
                found = validation_problems(error.errors())
                raise Invalid.of([FieldProblem("--name", p.message) for p in found]) from None
            converted.documents[0] = converted.documents[0].model_copy(update={"name": checked})
        keyring = get_settings().key_source().keyring()
        with installed().transaction() as session:
            owner = clients.visible_client(session, OPERATOR, client)
            report = service.write_all(
                session,
                keyring,
                OPERATOR,
                owner,
                [("command line", converted)],
                clash=clash,
                dry_run=dry_run,
                clash_option=CLASH_OPTION,
            )
    _show(report, as_json)
