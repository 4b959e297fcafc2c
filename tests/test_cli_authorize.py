"""`callout authorize CLIENT API`, run as an operator runs it: the installed script in a
subprocess, on a data dir set up by `callout init`, against a real OAuth 2.0 authorization
server on loopback (oauthlib's, tests/oauth2_server.py). The test plays the browser: it reads
the printed URL, opens it, and follows the provider's redirect to the command's callback.
"""

import asyncio
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from callout.apis import request_service
from callout.apis import service as apis
from callout.apis.schemas import ApiWrite, RequestWrite
from callout.apis.service import REFRESH_TOKEN
from callout.clients.access import OPERATOR
from callout.clients.repository import ClientRepository
from callout.db.secrets import Vault, api_owner
from tests.cli import (
    CALLOUT,
    Installation,
    callout,
    database_of,
    environment,
    finish,
    free_port,
    settings_of,
    snapshot,
    start,
)
from tests.factories import api_body, request_body
from tests.oauth2_server import CLIENT_ID, CLIENT_SECRET, OAuth2Server, challenge_of

API = "Partner CRM"
REQUEST = "Get customer"
WAIT = 20.0  # seconds: the longest any one command here may take


@pytest.fixture
async def server() -> AsyncIterator[OAuth2Server]:
    async with OAuth2Server() as running:
        yield running


def add_code_grant_api(data_dir: Path, server: OAuth2Server) -> tuple[int, int]:
    """The demo client's API "Partner CRM" on the server's resource, authorization_code
    grant, with the request "Get customer"; stored through the service layer in the
    installation's own SQLite file and key file. Returns (client id, API id)."""
    database = database_of(data_dir)
    keyring = settings_of(data_dir).key_source().keyring()
    authorization = {
        "type": "oauth2",
        "grant": "authorization_code",
        "token_url": server.token_url,
        "authorization_url": server.authorize_url,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    try:
        with database.transaction() as session:
            demo = ClientRepository(session).by_code("demo")
            assert demo is not None
            write = ApiWrite.model_validate(
                api_body(name=API, base_url=server.api_url, authorization=authorization)
            )
            api = apis.create_api(session, keyring, OPERATOR, demo, write)
            request = RequestWrite(**request_body(outputs=[{"name": "ok", "path": "$.ok"}]))
            request_service.create_request(session, keyring, OPERATOR, demo, api.id, request)
            return demo.id, api.id
    finally:
        database.dispose()


def stored_refresh_token(data_dir: Path, client_id: int, api_id: int) -> str | None:
    """The API's refresh token as the installation's key opens it."""
    database = database_of(data_dir)
    keyring = settings_of(data_dir).key_source().keyring()
    try:
        with database.transaction() as session:
            return (
                Vault(session, keyring, client_id).reveal_all(api_owner(api_id)).get(REFRESH_TOKEN)
            )
    finally:
        database.dispose()


@dataclass
class Authorizing:
    """A running `callout authorize`, and the URL it printed for the browser."""

    process: asyncio.subprocess.Process
    url: str
    port: int

    async def finish(self) -> tuple[int, str, str]:
        """(exit status, the rest of stdout, stderr)."""
        stdout, stderr = await asyncio.wait_for(self.process.communicate(), WAIT)
        assert self.process.returncode is not None
        return self.process.returncode, stdout.decode(), stderr.decode()


@pytest.fixture
async def processes() -> AsyncIterator[list[asyncio.subprocess.Process]]:
    """Commands a test starts; one still running when the test ends (it failed half-way)
    is killed rather than left waiting for a browser."""
    started: list[asyncio.subprocess.Process] = []
    yield started
    for process in started:
        if process.returncode is None:
            process.kill()
            await process.communicate()


async def begin(data_dir: Path, processes: list[asyncio.subprocess.Process]) -> Authorizing:
    """`callout authorize demo "Partner CRM" --port <free>`, read up to the printed URL
    (the command listens on the callback before it prints it)."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        str(CALLOUT), "authorize", "demo", API, "--port", str(port), "--wait", str(WAIT),
        env=environment(data_dir),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    processes.append(process)
    assert process.stdout is not None
    printed: list[str] = []
    async with asyncio.timeout(WAIT):
        while not printed or not printed[-1].startswith("http"):
            line = (await process.stdout.readline()).decode()
            if not line:  # exited before printing a URL
                _, stderr = await process.communicate()
                pytest.fail(f"no URL printed: {printed!r} {stderr.decode()!r}")
            printed.append(line.strip())
    assert printed[-2] == "Open this address in a browser to authorize the API:"
    return Authorizing(process, printed[-1], port)


async def browse(url: str) -> httpx.Response:
    """The browser: open the authorization URL and follow the provider's redirect to the
    command's callback; the callback's answer is what the user sees."""
    async with httpx.AsyncClient(follow_redirects=True, timeout=WAIT) as browser:
        return await browser.get(url)


def query_of(url: str | httpx.URL) -> dict[str, str]:
    return {k: v for k, [v] in parse_qs(urlsplit(str(url)).query).items()}


def database_bytes(data_dir: Path) -> bytes:
    """The SQLite database as it lies on disk, with its write-ahead log if one is left."""
    return b"".join(p.read_bytes() for p in sorted(data_dir.glob("callout.db*")))


async def test_authorize_prints_the_url_stores_the_refresh_token_sealed_and_the_api_works(
    installation: Installation,
    server: OAuth2Server,
    processes: list[asyncio.subprocess.Process],
) -> None:
    data_dir = installation.data_dir
    client_id, api_id = add_code_grant_api(data_dir, server)
    flow = await begin(data_dir, processes)
    redirect_uri = f"http://127.0.0.1:{flow.port}/callback"
    asked = query_of(flow.url)
    assert flow.url.startswith(server.authorize_url + "?")
    assert (asked["client_id"], asked["redirect_uri"]) == (CLIENT_ID, redirect_uri)
    assert asked["code_challenge_method"] == "S256"
    assert CLIENT_SECRET not in flow.url

    seen = await browse(flow.url)
    code, stdout, stderr = await flow.finish()

    # The provider sent the browser to the command's callback with a code and the state.
    [hop] = seen.history
    assert hop.status_code == 302
    assert hop.headers["location"].startswith(redirect_uri + "?")
    assert query_of(hop.headers["location"])["state"] == asked["state"]
    assert seen.status_code == 200, seen.text
    assert "authorized: the API now obtains its tokens itself" in seen.text
    assert code == 0, stderr
    assert "authorized: the API now obtains its tokens itself" in stdout
    assert stderr == ""
    # The code went back with the verifier whose S256 challenge opened the flow.
    [exchange] = server.token_requests
    assert (exchange.grant_type, exchange.status) == ("authorization_code", 200)
    assert exchange.form["redirect_uri"] == redirect_uri
    assert challenge_of(exchange.form["code_verifier"]) == asked["code_challenge"]
    # The refresh token is kept sealed: it opens to what the server issued, and its
    # plaintext is nowhere in the database file, nor printed.
    [refresh_token] = server.issued_refresh_tokens
    assert stored_refresh_token(data_dir, client_id, api_id) == refresh_token
    assert refresh_token.encode() not in database_bytes(data_dir)
    for secret in (refresh_token, *server.issued_access_tokens, CLIENT_SECRET):
        assert secret not in stdout + seen.text

    # A later process calls a request of the API: the stored refresh token gets its token.
    sent = await asyncio.to_thread(
        callout, data_dir, "send", "demo", API, REQUEST, "-p", "customerId=7"
    )

    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert sent.stdout.startswith("success  status 200")
    assert server.grants == {"authorization_code": 1, "refresh_token": 1}
    assert server.token_requests[-1].form["refresh_token"] == refresh_token
    [resource] = server.resource_requests
    assert (resource.path_qs, resource.status) == ("/api/v1/customers/7", 200)
    assert resource.token == server.issued_access_tokens[-1]


async def test_a_refresh_token_rotated_during_send_is_kept_for_the_next_send(
    installation: Installation,
    server: OAuth2Server,
    processes: list[asyncio.subprocess.Process],
) -> None:
    # Each `callout send` is a new process with no token cached: it refreshes with the
    # stored refresh token, and a provider that rotates them has spent that one. Unless the
    # new one is stored, the second send finds only a dead token.
    data_dir = installation.data_dir
    client_id, api_id = add_code_grant_api(data_dir, server)
    server.rotate_refresh_tokens = True
    flow = await begin(data_dir, processes)
    await browse(flow.url)
    code, _, stderr = await flow.finish()
    assert code == 0, stderr

    for _ in range(2):
        sent = await asyncio.to_thread(
            callout, data_dir, "send", "demo", API, REQUEST, "-p", "customerId=7"
        )
        assert sent.returncode == 0, sent.stdout + sent.stderr

    assert server.grants == {"authorization_code": 1, "refresh_token": 2}
    assert stored_refresh_token(data_dir, client_id, api_id) == server.issued_refresh_tokens[-1]
    assert len(set(server.issued_refresh_tokens)) == 3


async def test_a_denied_authorization_exits_1_saying_so_and_stores_nothing(
    installation: Installation,
    server: OAuth2Server,
    processes: list[asyncio.subprocess.Process],
) -> None:
    data_dir = installation.data_dir
    client_id, api_id = add_code_grant_api(data_dir, server)
    before = snapshot(data_dir)
    server.deny_next = True  # the user clicks "Deny": error=access_denied at the callback
    flow = await begin(data_dir, processes)

    seen = await browse(flow.url)
    code, stdout, stderr = await flow.finish()

    assert query_of(seen.history[0].headers["location"])["error"] == "access_denied"
    message = "code: the provider did not authorize: access_denied"
    assert seen.status_code == 400
    assert f"Not authorized: {message}" in seen.text
    assert code == 1, stdout
    assert stderr.strip() == f"error: {message}"
    assert "authorized:" not in stdout
    assert server.token_requests == []
    assert stored_refresh_token(data_dir, client_id, api_id) is None
    assert snapshot(data_dir) == before


@pytest.fixture(scope="module")
def wrong_names(installed: Installation) -> dict[str, subprocess.CompletedProcess[str]]:
    """`callout authorize` naming a client or an API that is not there; run side by side,
    since each is a second and a half of start-up."""
    cases = {
        "no client 'nope'": ["nope", "Customer CRM"],
        "no API 'Nope' in client 'demo'": ["demo", "Nope"],
    }
    running = {
        message: start(installed.data_dir, "authorize", *args, "--port", str(free_port()))
        for message, args in cases.items()
    }
    return {message: finish(process) for message, process in running.items()}


def test_a_wrong_client_or_api_name_fails_clearly(
    wrong_names: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    for message, done in wrong_names.items():
        assert done.returncode == 1, (message, done.stdout, done.stderr)
        assert done.stderr.splitlines()[0] == f"error: {message}", (message, done.stderr)
        assert "Traceback" not in done.stderr
        assert done.stdout == ""  # no URL: nothing to open


def test_a_wrong_name_prints_only_its_message(
    wrong_names: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    for done in wrong_names.values():
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
