"""Setting up and running an installation: init, serve, openapi, the database, keys."""

import json
import os
import shutil
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from callout.cli.common import (
    apikey_app,
    app,
    db_app,
    fail,
    installed,
    keys_app,
    open_database,
    out,
    set_up,
    upgrade,
)

if TYPE_CHECKING:
    from callout.settings import Settings


@app.command()
def init() -> None:
    """Set up a fresh installation: data dir, secret key, database, demo client.

    Prints the demo client's admin key once. Running it again changes nothing.

    Examples:
      CALLOUT_DATA_DIR=/srv/callout callout init
    """
    from callout.clients.repository import ClientRepository
    from callout.demo import seed
    from callout.settings import get_settings

    keyring, database = set_up()
    with database.transaction() as session:
        if ClientRepository(session).count():
            out.print("Already set up: nothing to do.")
            return
        created = seed(session, keyring)
    out.print(f"Set up in {get_settings().data_dir.resolve()} with the demo client [bold]demo[/].")
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
    """Serve the REST API (its docs at /docs) and the built web UI at /.

    Examples:
      callout serve --host 0.0.0.0 --port 8000 --workers 4
    """
    import uvicorn

    from callout import logging as callout_logging
    from callout.apis import catalog
    from callout.settings import get_settings

    settings = get_settings()
    settings.key_source().keyring()  # a missing or bad key fails now, not on a save
    database = installed()
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


def _announce_when_up(settings: "Settings", host: str, port: int) -> None:
    """Print the address to open once the server answers (with several workers, once the
    first one does): a thread asks the server for its OpenAPI document until it comes."""
    from callout.web import ui

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

    Examples:
      callout openapi --output openapi.json
    """
    from callout.db.engine import Database
    from callout.settings import get_settings
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
        fail(f"cannot write {output}: {error.strerror}")


@db_app.command("upgrade")
def dbupgrade() -> None:
    """Migrate the database to the newest revision and refresh the system APIs.

    Examples:
      callout db upgrade
    """
    changed = upgrade(open_database())
    out.print(f"Database is current; {changed} system API(s) added, updated or removed.")


@keys_app.command("generate")
def keys_generate() -> None:
    """Print a new `key_id:base64` entry for CALLOUT_SECRET_KEYS.

    Examples:
      callout keys generate
    """
    from callout.db import crypto

    out.print(crypto.generate_entry(), highlight=False)


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Reseal every stored secret under a new key.

    With the key file, a new key is generated and put first. With CALLOUT_SECRET_KEYS, put a
    new entry first (`callout keys generate`), restart the servers, then run this.
    Old keys stay, to open backups; remove them once no row uses them.

    Examples:
      callout keys rotate
    """
    from callout.db.secrets import rotate
    from callout.settings import get_settings

    database = installed()
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
        fail(
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
    """Create an API key and print it, once.

    Examples:
      callout apikey create --client demo --role editor --name scripts
      callout apikey create --platform --name prometheus
    """
    from callout.clients import service as clients
    from callout.clients.access import OPERATOR
    from callout.clients.schemas import ApiKeyCreate, Role

    if platform == (client is not None):
        fail("give either --client CODE or --platform")
    if role not in ("viewer", "editor", "admin"):
        fail("--role must be viewer, editor or admin")
    with installed().transaction() as session:
        target = clients.visible_client(session, OPERATOR, client) if client else None
        role_value: Role = role  # type: ignore[assignment]
        created = clients.create_api_key(
            session, OPERATOR, target, ApiKeyCreate(name=name, role=role_value)
        )
    out.print(f"Key {created.name!r} ({created.role}), shown this once:")
    out.print(created.key, highlight=False, soft_wrap=True)
