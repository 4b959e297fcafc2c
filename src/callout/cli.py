"""The `callout` command: set-up, serving, keys. Every rule it relies on lives in the services."""

import asyncio
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy import make_url

from callout import logging as callout_logging
from callout.apis import catalog
from callout.clients import service as clients
from callout.clients.access import OPERATOR
from callout.clients.repository import ClientRepository
from callout.clients.schemas import ApiKeyCreate, Role
from callout.db import crypto, migrations
from callout.db.engine import Database
from callout.db.secrets import rotate
from callout.demo import seed
from callout.designers import engine
from callout.designers.effects import FireBody
from callout.errors import CalloutError
from callout.invocations import authorize as authorize_flow
from callout.invocations import service as invocations
from callout.invocations.schemas import AuthorizeDone, InvokeBody
from callout.settings import Settings, get_settings
from callout.show import show_fire, show_outcome
from callout.web import ui
from callout.web.problems import validation_problems

# Locals stay out of tracebacks: a frame may hold a secret on its way to being sealed.
app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    help="Callout: the function library for agent scripts.",
)
db_app = typer.Typer(no_args_is_help=True, help="The database.")
keys_app = typer.Typer(no_args_is_help=True, help="The keys that encrypt stored secrets.")
apikey_app = typer.Typer(no_args_is_help=True, help="API keys for the REST API.")
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(apikey_app, name="apikey")

out = Console()
err = Console(stderr=True)


def _report(message: str) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False)


def _fail(message: str) -> NoReturn:
    _report(message)
    raise typer.Exit(1)


def _database() -> Database:
    return Database.from_settings(get_settings())


def _installed() -> Database:
    """The database of a set-up installation. Without one, says what to run and exits,
    creating nothing: opening a SQLite file that is not there would create it, empty."""
    url = make_url(get_settings().resolved_database_url)
    path = url.database if url.get_backend_name() == "sqlite" else None
    if path and path != ":memory:" and not Path(path).is_file():
        _fail(
            f"no database at {path}: run `callout init` to set up here "
            "(or `callout db upgrade` to create an empty one)"
        )
    database = _database()
    if not migrations.is_current(database.engine):
        database.dispose()
        _fail("the database is not at the newest revision; run `callout db upgrade` first")
    return database


def _upgrade(database: Database) -> int:
    migrations.upgrade(database.engine)
    with database.transaction() as session:
        return catalog.sync(session)


@app.command()
def init() -> None:
    """Set up a fresh installation: data dir, secret key, database, demo client.

    Prints the demo client's admin key once. Running it again changes nothing.
    """
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    keyring = settings.key_source(create=True).keyring()
    database = _database()
    _upgrade(database)
    with database.transaction() as session:
        if ClientRepository(session).count():
            out.print("Already set up: nothing to do.")
            return
        created = seed(session, keyring)
    out.print(f"Set up in {settings.data_dir.resolve()} with the demo client [bold]demo[/].")
    out.print("Its admin key, shown this once (send it as `Authorization: Bearer <key>`):")
    out.print(created.key, highlight=False, soft_wrap=True)


# How `callout serve` runs uvicorn: uvloop and httptools, chosen with bench/invoke.py (its
# anchor is served with these too). An idle keep-alive connection is closed after 75 s, not
# uvicorn's 5: a client or a load balancer that reuses a connection the server has just closed
# gets no answer, so the server must keep it longer than they do (load balancers' idle
# timeouts are commonly 60 s; aiohttp's and httpx's pools keep one for 15 and 5 s).
UVICORN_OPTIONS = {"loop": "uvloop", "http": "httptools", "timeout_keep_alive": 75}


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Default: CALLOUT_HOST.")] = None,
    port: Annotated[int | None, typer.Option(help="Default: CALLOUT_PORT.")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Processes serving at once.")] = 1,
) -> None:
    """Serve the REST API (its docs at /docs) and the built web UI at /."""
    import uvicorn

    settings = get_settings()
    settings.key_source().keyring()  # a missing or bad key fails now, not on a save
    database = _installed()
    with database.transaction() as session:  # a newer package may ship newer system APIs
        catalog.sync(session)
    database.dispose()
    callout_logging.configure()
    host, port = host or settings.host, port or settings.port
    # The app, in this process or in each worker, reads its own address from its settings
    # (an OAuth 2.0 provider sends the browser back to it): the one given here, not the default.
    os.environ["CALLOUT_HOST"], os.environ["CALLOUT_PORT"] = host, str(port)
    get_settings.cache_clear()
    _announce_when_up(settings, host, port)
    shared = None
    if workers > 1:
        # Workers are fresh interpreters that inherit the environment: prometheus-client reads
        # the variable as they import it and keeps each worker's counts in files there.
        (settings.data_dir / "metrics").mkdir(parents=True, exist_ok=True)
        shared = Path(tempfile.mkdtemp(prefix="serve-", dir=settings.data_dir / "metrics"))
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(shared)
    try:
        uvicorn.run(
            "callout.web.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_config=callout_logging.config(),  # applied again in each worker
            # The supervisor replaces a worker that does not answer its ping in time; a
            # worker still importing on a loaded machine took more than uvicorn's 5 s.
            timeout_worker_healthcheck=30,
            **UVICORN_OPTIONS,  # type: ignore[arg-type]
        )
    finally:
        if shared is not None:
            shutil.rmtree(shared, ignore_errors=True)


def _announce_when_up(settings: Settings, host: str, port: int) -> None:
    """Print the address to open once the server answers (with several workers, once the
    first one does): a thread asks the server for its OpenAPI document until it comes."""
    local = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104 - mapped away
    root = f"http://[{local}]:{port}" if ":" in local else f"http://{local}:{port}"
    shown = (settings.public_url or root).rstrip("/")
    if ui.built(settings.ui_dir):
        text = f"Callout: open {shown}/ (web UI), REST API at /api/v1, docs at /docs"
    else:
        text = (
            f"Callout: REST API at {shown}/api/v1, docs at {shown}/docs; the web UI is not "
            f"built (no index.html in {settings.ui_dir}): `make serve` builds it"
        )

    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy

    def wait_then_print() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with direct.open(f"{root}/openapi.json", timeout=5):
                    out.print(text, markup=False, highlight=False, soft_wrap=True)
                    return
            except OSError:
                time.sleep(0.2)

    threading.Thread(target=wait_then_print, name="announce", daemon=True).start()


@app.command()
def openapi(
    output: Annotated[
        Path | None, typer.Option(help="Write the document to this file instead.")
    ] = None,
) -> None:
    """Print the REST API's OpenAPI document as JSON: what GET /openapi.json answers.

    Needs no server and no set-up: the web UI's types are generated from it at build time.
    """
    from callout.web.app import create_app

    # The document is read off the routes: the app is built, never started, and opens no
    # database and no key file.
    database = Database("sqlite://")
    try:
        document = create_app(get_settings(), database=database).openapi()
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    finally:
        database.dispose()
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        _fail(f"cannot write {output}: {error.strerror}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest revision and refresh the system APIs."""
    changed = _upgrade(_database())
    out.print(f"Database is current; {changed} system API(s) added, updated or removed.")


@keys_app.command("generate")
def keys_generate() -> None:
    """Print a new `key_id:base64` entry for CALLOUT_SECRET_KEYS."""
    out.print(crypto.generate_entry(), highlight=False)


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Reseal every stored secret under a new key.

    With the key file, a new key is generated and put first. With CALLOUT_SECRET_KEYS, put a
    new entry first (`callout keys generate`), restart the servers, then run this.
    Old keys stay, to open backups; remove them once no row uses them.
    """
    database = _installed()
    keys = get_settings().key_source()
    keys.keyring()  # the key file must be there to add a key to it
    if keys.file_based:
        out.print(f"New key {keys.add_key()} is now the active one.")
    report = rotate(database, keys)
    out.print(
        f"Resealed {report.resealed} secret(s) under key {keys.keyring().active_id} "
        f"in {report.passes} pass(es); {report.retried} row(s) changed meanwhile and were "
        "read again."
    )
    if report.unreadable:
        _fail(
            f"{len(report.unreadable)} secret(s) no key opens were left as they are: "
            + ", ".join(report.unreadable)
        )


@apikey_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Option(help="What the key is for.")],
    client: Annotated[str | None, typer.Option(help="The client's code.")] = None,
    role: Annotated[str, typer.Option(help="viewer, editor or admin.")] = "viewer",
    platform: Annotated[bool, typer.Option(help="A platform-admin key (all clients).")] = False,
) -> None:
    """Create an API key and print it, once."""
    if platform == (client is not None):
        _fail("give either --client CODE or --platform")
    if role not in ("viewer", "editor", "admin"):
        _fail("--role must be viewer, editor or admin")
    with _installed().transaction() as session:
        target = clients.visible_client(session, OPERATOR, client) if client else None
        role_value: Role = role  # type: ignore[assignment]
        created = clients.create_api_key(
            session, OPERATOR, target, ApiKeyCreate(name=name, role=role_value)
        )
    out.print(f"Key {created.name!r} ({created.role}), shown this once:")
    out.print(created.key, highlight=False, soft_wrap=True)


@app.command()
def send(
    client: Annotated[str, typer.Argument(help="The client's code.")],
    api: Annotated[str, typer.Argument(help="The API's id or name.")],
    request: Annotated[str, typer.Argument(help="The request's id or name.")],
    parameter: Annotated[
        list[str] | None,
        typer.Option("--parameter", "-p", help="name=value; a value starting { or [ is JSON."),
    ] = None,
    context: Annotated[
        Path | None, typer.Option(help="JSON file: loginData, call, account, fields, responses.")
    ] = None,
    mode: Annotated[str, typer.Option(help="live, dry_run or mock.")] = "live",
    sample: Annotated[str | None, typer.Option(help="Sample response for mock mode.")] = None,
) -> None:
    """Call a request and print its outcome, status, timing, outputs and body.

    Recorded in the invocation history as a test. Exits 0 on success, 1 on failure or timeout.
    """
    body = InvokeBody.model_validate(
        {
            "parameters": dict(_parameter(p) for p in parameter or []),
            "context": _json_file(context) if context else {},
            "mode": mode,
            "sample": sample,
        }
    )
    database = _installed()
    keys = get_settings().key_source()
    keys.keyring()  # a missing key file fails before anything is read
    outcome = asyncio.run(
        invocations.send(get_settings(), database, keys, OPERATOR, client, api, request, body)
    )
    show_outcome(out, outcome)
    if outcome.outcome != "success":
        raise typer.Exit(1)


@app.command()
def fire(
    client: Annotated[str, typer.Argument(help="The client's code.")],
    designer: Annotated[str, typer.Argument(help="The designer's id or name.")],
    event: Annotated[str, typer.Argument(help="Login, In Call, Wrap-Up... or a user event.")],
    context: Annotated[
        Path | None, typer.Option(help="JSON file: loginData, call, account, fields.")
    ] = None,
    mode: Annotated[
        str, typer.Option(help="live, or mock: each call answered by its request's sample.")
    ] = "live",
    as_json: Annotated[bool, typer.Option("--json", help="The whole answer as JSON.")] = False,
) -> None:
    """Fire a designer's event: print the effects the desktop must apply, in order, and how
    each action went. Its calls are recorded in the invocation history.

    Exits 0 when the event ran to its end, 1 when a failed action stopped it or its deadline
    passed.
    """
    body = FireBody.model_validate(
        {"context": _json_file(context) if context else {}, "mode": mode}
    )
    database = _installed()
    settings = get_settings()
    keys = settings.key_source()
    keys.keyring()  # a missing key file fails before anything is read
    result = asyncio.run(
        engine.fire_named(settings, database, keys, OPERATOR, client, designer, event, body)
    )
    if as_json:
        out.print_json(result.model_dump_json())
    else:
        show_fire(out, result)
    if result.outcome != "completed":
        raise typer.Exit(1)


def _json_file(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        _fail(f"cannot read {path}: {error.strerror}")
    except ValueError as error:
        _fail(f"{path} is not JSON: {error}")


@app.command()
def authorize(
    client: Annotated[str, typer.Argument(help="The client's code.")],
    api: Annotated[str, typer.Argument(help="The API's id or name.")],
    port: Annotated[int, typer.Option(help="Local port the browser comes back to.")] = 8765,
    wait: Annotated[float, typer.Option(help="Seconds to wait for the browser.")] = 300.0,
) -> None:
    """Authorize an API that uses OAuth 2.0's authorization_code grant.

    Open the printed URL; the provider sends the browser back to
    http://127.0.0.1:PORT/callback (register it with the provider), and the refresh token
    is kept, sealed, with the API.
    """
    done = asyncio.run(_authorize(client, api, port, wait))
    out.print(done.message)


async def _authorize(client: str, api: str, port: int, wait: float) -> AuthorizeDone:
    settings = get_settings()
    database = _installed()
    keys = settings.key_source()
    keys.keyring()  # a missing key file fails before the browser is sent anywhere
    async with await invocations.Runtime.start(settings, database) as runtime:
        try:
            async with authorize_flow.on_loopback(
                runtime, database, keys, OPERATOR, client, api, port
            ) as flow:
                out.print("Open this address in a browser to authorize the API:")
                out.print(flow.start.authorization_url, highlight=False, soft_wrap=True)
                return await asyncio.wait_for(flow.done, wait)
        except TimeoutError:
            _fail(f"no answer from the browser within {wait:g} s")
        except OSError as error:
            _fail(f"cannot listen on 127.0.0.1:{port}: {error.strerror}")


def _parameter(text: str) -> tuple[str, Any]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        _fail(f"--parameter {text!r} is not name=value")
    if value[:1] in ("{", "["):
        try:
            return name, json.loads(value)
        except ValueError:
            _fail(f"--parameter {name}: the value starts like JSON but is not JSON")
    return name, value


def main() -> None:
    """Run the command, printing expected failures as one clear line each."""
    try:
        app()
    except CalloutError as error:
        _report(error.detail)
    except ValidationError as error:
        _report("; ".join(f"{p.field}: {p.message}" for p in validation_problems(error.errors())))
    except crypto.KeyMaterialError as error:
        _report(str(error))
    else:
        return
    sys.exit(1)
