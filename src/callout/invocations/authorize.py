"""The OAuth 2.0 authorization_code flow for an API: send an admin's browser to the
provider, take the code it comes back with, keep the refresh token.

    prepare, remember -> the URL to open; the state and the PKCE verifier wait in the token
                         store
    complete          <- the redirect (state, code): the state is checked and used once, the
                         code is exchanged with the verifier, the refresh token is sealed, the
                         API's version moves (its credentials changed) and the access token is
                         cached.

The browser comes back to a server's /api/v1/oauth/callback (REST), or, from a terminal
(`callout authorize`), to a listener on loopback that `on_loopback` opens for one flow.
"""

import asyncio
import base64
import hashlib
import json
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web
from sqlalchemy.orm import Session

from callout.apis import definitions
from callout.apis import service as apis
from callout.apis.authorization import OAuth2Auth
from callout.clients import service as clients
from callout.clients.access import Principal
from callout.clients.repository import ClientRepository
from callout.db.crypto import Keyring, KeySource
from callout.db.engine import Database
from callout.db.models import Client
from callout.errors import CalloutError, Invalid
from callout.invocations.compile import compile_oauth2
from callout.invocations.schemas import AuthorizeDone, AuthorizeStart
from callout.invocations.service import Runtime
from callout.runtime.auth.base import AuthContext
from callout.runtime.auth.oauth2 import authorization_code
from callout.runtime.auth.tokens import Credential, Owner, TokenStore
from callout.runtime.errors import ExecutionError
from callout.runtime.http import HttpClient
from callout.runtime.trace import Recorder, Redactor

PENDING_SECONDS = 600
EXCHANGE_SECONDS = 30.0


@dataclass(frozen=True)
class Pending:
    client_id: int
    api_id: int
    redirect_uri: str
    verifier: str | None
    actor: str
    role: str


def prepare(
    session: Session,
    keyring: Keyring,
    principal: Principal,
    client: Client,
    api_id: int,
    redirect_uri: str,
) -> tuple[AuthorizeStart, Pending]:
    """The URL to send the browser to, and what must wait for the redirect (`remember`)."""
    principal.require("editor")
    api, row = definitions.load_api(session, keyring, client, api_id)
    auth = _code_grant(api.authorization)
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64) if auth.pkce else None
    challenge = _challenge(verifier) if verifier else None
    url = authorization_code.authorization_url(compile_oauth2(auth), redirect_uri, state, challenge)
    pending = Pending(client.id, row.id, redirect_uri, verifier, principal.name, principal.role)
    start = AuthorizeStart(
        authorization_url=url,
        state=state,
        redirect_uri=redirect_uri,
        expires_in=PENDING_SECONDS,
    )
    return start, pending


async def remember(store: TokenStore, state: str, pending: Pending) -> None:
    """Keep the flow's state (and its PKCE verifier, a secret) until the redirect comes."""
    now = time.time()
    value = json.dumps(pending.__dict__)
    deadline = now + PENDING_SECONDS
    await store.put(_key(state), Credential(value, now, deadline, deadline))


async def complete(
    store: TokenStore,
    http: HttpClient,
    database: Database,
    keys: KeySource,
    state: str,
    code: str | None,
    error: str | None,
) -> AuthorizeDone:
    """Finish the flow the state names: once, and only within its time."""
    # A state is good for one redirect: of two callbacks with one state (a reload, a
    # replay) through any processes, one takes it and the other finds none.
    found = await store.take(_key(state))
    if found is None or not found.usable(time.time()):
        raise Invalid.field("state", "unknown or expired: start the authorization again")
    if error or not code:
        raise Invalid.field("code", f"the provider did not authorize: {error or 'no code'}")
    pending = Pending(**json.loads(found.value))
    auth, version, client = await asyncio.to_thread(_load, database, keys, pending)
    loop = asyncio.get_running_loop()
    owner = Owner(pending.client_id, pending.api_id, version)
    ctx = AuthContext(
        owner, {}, http, store, None, Recorder(Redactor(()), False), loop.time() + EXCHANGE_SECONDS
    )
    try:
        async with asyncio.timeout_at(ctx.deadline):
            credential = await authorization_code.exchange_code(
                compile_oauth2(auth), ctx, code, pending.redirect_uri, pending.verifier
            )
    except ExecutionError as failure:
        raise Invalid.field("code", failure.message) from None
    except TimeoutError:
        raise Invalid.field("code", "the token endpoint did not answer in time") from None
    new_version = await asyncio.to_thread(_store, database, keys, pending, client, credential)
    await store.put(Owner(pending.client_id, pending.api_id, new_version).key("oauth2"), credential)
    return AuthorizeDone(
        api_id=pending.api_id,
        refresh_token_stored=credential.refresh_token is not None,
        message=(
            "authorized: the API now obtains its tokens itself"
            if credential.refresh_token
            else "authorized, but the provider gave no refresh token: the API works until "
            "its access token expires"
        ),
    )


def _load(database: Database, keys: KeySource, pending: Pending) -> tuple[OAuth2Auth, int, Client]:
    with database.transaction(reads_only=True) as session:
        # By id, platform-wide: the redirect carries no API key; the state names the client.
        client = ClientRepository(session).by_id(pending.client_id)
        if client is None:
            raise Invalid.field("state", "its client no longer exists")
        api, row = definitions.load_api(session, keys.keyring(), client, pending.api_id)
        return _code_grant(api.authorization), row.version, client


def _store(
    database: Database, keys: KeySource, pending: Pending, client: Client, credential: Credential
) -> int:
    actor = Principal(name=pending.actor, role=pending.role, client_id=pending.client_id)  # type: ignore[arg-type]
    with database.transaction() as session:
        return apis.store_refresh_token(
            session, keys.keyring(), actor, client, pending.api_id, credential.refresh_token
        )


@dataclass(frozen=True)
class Awaiting:
    """A flow started from a terminal: the URL to open, and how the redirect ended it."""

    start: AuthorizeStart
    done: asyncio.Future[AuthorizeDone]


@asynccontextmanager
async def on_loopback(
    runtime: Runtime,
    database: Database,
    keys: KeySource,
    principal: Principal,
    client_code: str,
    api_ref: str,
    port: int,
) -> AsyncIterator[Awaiting]:
    """The flow for an API named by id or name, the browser coming back to
    http://127.0.0.1:PORT/callback: a listener open while the block runs, completing with
    `runtime`'s token store and HTTP client as a server's callback does with its own. A
    request without the flow's state is turned away and leaves the flow waiting."""
    redirect_uri = f"http://127.0.0.1:{port}/callback"

    def prepared() -> tuple[AuthorizeStart, Pending]:
        with database.transaction(reads_only=True) as session:
            client = clients.visible_client(session, principal, client_code)
            api_id = definitions.resolve_api(session, client, api_ref)
            return prepare(session, keys.keyring(), principal, client, api_id, redirect_uri)

    start, pending = await asyncio.to_thread(prepared)
    done: asyncio.Future[AuthorizeDone] = asyncio.get_running_loop().create_future()

    async def callback(request: web.Request) -> web.Response:
        query = request.query
        if query.get("state") != start.state:
            return web.Response(status=400, text="Not the authorization this command awaits.\n")
        try:
            result = await complete(
                runtime.executor.store, runtime.executor.http, database, keys, start.state,
                query.get("code"), query.get("error"),
            )  # fmt: skip
        except CalloutError as error:
            if not done.done():
                done.set_exception(error)
            return web.Response(status=400, text=f"Not authorized: {error.detail}\n")
        if not done.done():
            done.set_result(result)
        return web.Response(text=f"{result.message}. You can close this window.\n")

    listener = web.Application()
    listener.router.add_get("/callback", callback)
    runner = web.AppRunner(listener, access_log=None)
    try:
        await remember(runtime.executor.store, start.state, pending)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        yield Awaiting(start, done)
    finally:
        await runner.cleanup()


def _code_grant(auth: object) -> OAuth2Auth:
    if not isinstance(auth, OAuth2Auth) or auth.grant != "authorization_code":
        raise Invalid.field(
            "authorization.grant", "this API does not use OAuth 2.0's authorization_code grant"
        )
    return auth


def _challenge(verifier: str) -> str:
    """RFC 7636 section 4.2, S256: base64url(SHA-256(verifier)), unpadded."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def _key(state: str) -> str:
    return f"authorize:{state}"
