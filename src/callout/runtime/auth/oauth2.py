"""OAuth 2.0 access tokens (RFC 6749), obtained, cached and renewed by Callout.

Grants: client_credentials (section 4.4), password (4.3), refresh_token (6), and
authorization_code with PKCE (4.1, RFC 7636), whose code is exchanged by `authorize` and whose
refresh token then keeps the API working. Client authentication: client_secret_basic or
client_secret_post (2.3.1). The token goes in a header (with a prefix) or a query parameter.

A token lives in the store under the client, the API and its version (a credential change
makes a new version, hence a new token). A call uses the cached token while it is fresh;
in its last fifth it still uses it and renews it in the background, so no call waits on a
renewal it could have avoided. Only one token request is in flight per key. A 401, or the
expiry signal the API declares for a 200 body, drops the token: one renewal, one retry.
A refresh token that is refused falls back to a full grant where the stored credentials
allow it; otherwise the error says to authorize the API again.
"""

import asyncio
import json
import re
import time
from dataclasses import replace
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import jsonpath_rfc9535
from yarl import URL

from callout.apis.authorization import OAuth2Auth
from callout.runtime import templates
from callout.runtime.auth.base import AuthContext
from callout.runtime.auth.tokens import Credential, held_off, lifetime, note_refusal
from callout.runtime.credentials import client_basic_credentials
from callout.runtime.errors import AuthError, ExecutionError
from callout.runtime.http import Outgoing, Received
from callout.runtime.plan import Owner, Plan
from callout.runtime.trace import Recorder

SCHEME = "oauth2"
RENEWAL_SECONDS = 30.0  # a background renewal's own deadline
# Background renewals in flight, held so the event loop does not drop them half-way, and
# their keys, so the calls that notice a token ageing before the first renewal takes the
# store's flight start no second one.
_RENEWALS: set[asyncio.Task[None]] = set()
_RENEWING: set[str] = set()
REAUTHORIZE = "authorize this API again (POST .../apis/{api}/authorize or `callout authorize`)"


class TokenRefused(Exception):
    """The token endpoint said no; `error` is its RFC 6749 section 5.2 code, `said` the
    code and its `error_description` ("invalid_client: client_secret_basic is required"),
    which the caller's message passes on: the executor masks every secret in it."""

    def __init__(self, error: str, status: int, description: str = "") -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.said = f"{error}: {description}" if description else error


async def apply(plan: Plan, outgoing: Outgoing, ctx: AuthContext) -> Outgoing:
    auth = _auth(plan)
    token = await access_token(auth, plan.key.owner, ctx)
    ctx.secrets.append(token)
    ctx.sent = token
    if auth.placement == "query":
        joiner = "&" if "?" in outgoing.url else "?"
        outgoing.url += f"{joiner}{quote(auth.query_parameter)}={quote(token, safe='')}"
    else:
        prefix = templates.header_of(
            "Authorization", templates.parse(auth.header_prefix), ctx.scope
        )
        outgoing.set_header("Authorization", f"{prefix} {token}" if prefix else token)
    return outgoing


async def renew(plan: Plan, ctx: AuthContext, received: Received) -> bool:
    """A 401, or the declared expiry signal in a 200 body: expire the token, retry once.
    A token another call has already replaced is left alone: the retry uses the new one."""
    auth = _auth(plan)
    expired = received.status == 401 or (
        received.status == 200 and bool(auth.expiry_signal_path) and _signals(auth, received)
    )
    if expired:
        key = plan.key.owner.key(SCHEME)
        current = await ctx.store.get(key)
        if current is not None and current.value == ctx.sent:
            await ctx.store.expire(key, current)  # its refresh token stays for the renewal
    return expired


async def access_token(auth: OAuth2Auth, owner: Owner, ctx: AuthContext) -> str:
    """A usable access token: the cached one, or a new one (one request per key at a time)."""
    key = owner.key(SCHEME)
    now = time.time()
    cached = await ctx.store.get(key)
    if cached is not None and cached.usable(now):
        if not cached.fresh(now) and key not in _RENEWING and not ctx.store.in_flight(key):
            _renew_in_background(auth, owner, ctx, cached)
        return cached.value
    async with ctx.store.flight(key):
        cached = await ctx.store.get(key)  # another call may have just fetched one
        if cached is not None and cached.usable(time.time()):
            return cached.value
        await held_off(ctx.store, key, owner.api_version)
        credential = await _obtain(auth, owner, ctx, cached)
        await ctx.store.put(key, credential)
        return credential.value


def _renew_in_background(
    auth: OAuth2Auth, owner: Owner, ctx: AuthContext, cached: Credential
) -> None:
    """Renew a token that is still valid, without making the call that noticed wait."""
    loop = asyncio.get_running_loop()
    own = replace(
        ctx,
        recorder=Recorder(ctx.recorder.redactor, False),
        deadline=loop.time() + RENEWAL_SECONDS,
        secrets=[],
    )

    key = owner.key(SCHEME)

    async def renewal() -> None:
        try:
            async with ctx.store.flight(key):
                if await ctx.store.get(key) is not cached:
                    return  # renewed meanwhile
                await held_off(
                    ctx.store, key, owner.api_version
                )  # refused a moment ago: keep the valid token
                async with asyncio.timeout_at(own.deadline):
                    await ctx.store.put(key, await _obtain(auth, owner, own, cached))
        except (ExecutionError, TimeoutError):
            return  # the token is still valid; a call after its expiry will try again
        finally:
            _RENEWING.discard(key)

    _RENEWING.add(key)
    task = loop.create_task(renewal())
    _RENEWALS.add(task)
    task.add_done_callback(_RENEWALS.discard)


async def _obtain(
    auth: OAuth2Auth, owner: Owner, ctx: AuthContext, previous: Credential | None
) -> Credential:
    """A new token: by the refresh token when there is one, else by the API's grant."""
    refresh_token = (previous.refresh_token if previous else None) or _secret(auth.refresh_token)
    if refresh_token:
        try:
            form = [("grant_type", "refresh_token"), ("refresh_token", refresh_token)]
            return await _grant(auth, owner, ctx, form, refresh_token)
        except TokenRefused as refused:
            if auth.grant not in ("client_credentials", "password"):
                raise AuthError(
                    f"the token endpoint refused the refresh token ({refused.said}): " + REAUTHORIZE
                ) from None
            # A full grant with the stored credentials replaces the dead refresh token.
    if auth.grant == "client_credentials":
        form = [("grant_type", "client_credentials")]
    elif auth.grant == "password":
        form = [
            ("grant_type", "password"),
            ("username", auth.username),
            ("password", _secret(auth.password) or ""),
        ]
    elif auth.grant == "authorization_code":
        raise AuthError(f"no refresh token is stored: {REAUTHORIZE}")
    else:
        raise AuthError("the refresh_token grant needs a refresh token stored with the API")
    try:
        return await _grant(auth, owner, ctx, form, None)
    except TokenRefused as refused:
        message = (
            f"the token endpoint refused the {auth.grant} grant ({refused.said}, "
            f"status {refused.status})"
        )
        if 400 <= refused.status < 500 and refused.status not in (408, 429):
            # The credentials, not the endpoint's health or its rate limit.
            await note_refusal(ctx.store, owner.key(SCHEME), message)
        raise AuthError(message) from None


async def exchange_code(
    auth: OAuth2Auth,
    owner: Owner,
    ctx: AuthContext,
    code: str,
    redirect_uri: str,
    verifier: str | None,
) -> Credential:
    """The authorization_code grant's second leg (RFC 6749 section 4.1.3, RFC 7636 4.5);
    the refresh token it gives goes to the saver (unconditionally: a new authorization)."""
    form = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirect_uri)]
    if verifier:
        form.append(("code_verifier", verifier))
    try:
        credential = await _grant(auth, owner, ctx, form, None, scoped=False)
    except TokenRefused as refused:
        raise AuthError(
            f"the token endpoint refused the authorization code ({refused.error})"
        ) from None
    return credential


def authorization_url(
    auth: OAuth2Auth, redirect_uri: str, state: str, challenge: str | None
) -> str:
    """Where to send the user's browser (RFC 6749 section 4.1.1, RFC 7636 section 4.3)."""
    if not auth.authorization_url:
        raise AuthError("the API has no authorization URL")
    params = [
        ("response_type", "code"),
        ("client_id", auth.client_id),
        ("redirect_uri", redirect_uri),
        ("state", state),
    ]
    if auth.scope:
        params.append(("scope", auth.scope))
    if auth.audience:
        params.append(("audience", auth.audience))
    if challenge:
        params += [("code_challenge", challenge), ("code_challenge_method", "S256")]
    joiner = "&" if urlsplit(auth.authorization_url).query else "?"
    return auth.authorization_url + joiner + urlencode(params)


async def _grant(
    auth: OAuth2Auth,
    owner: Owner,
    ctx: AuthContext,
    form: list[tuple[str, str]],
    used_refresh_token: str | None,
    *,
    scoped: bool = True,
) -> Credential:
    """One token request; the answer becomes a credential, a refusal `TokenRefused`."""
    form = list(form)
    if scoped and auth.scope:
        form.append(("scope", auth.scope))
    if scoped and auth.audience:
        form.append(("audience", auth.audience))
    form += [(p.name, p.value) for p in auth.extra_token_params if p.enabled]
    headers = [
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Accept", "application/json"),
    ]
    client_secret = _secret(auth.client_secret)
    basic = client_basic_credentials(auth)
    if basic is not None:
        headers.append(("Authorization", "Basic " + basic))
    else:
        form.append(("client_id", auth.client_id))
        if client_secret is not None:
            form.append(("client_secret", client_secret))
    # The form is a credential (a secret, a password, a code or a refresh token).
    body = urlencode(form).encode()
    outgoing = Outgoing("POST", str(URL(auth.token_url)), headers, body, secret_body=True)
    received = await ctx.http.send(outgoing, ctx.remaining())
    ctx.recorder.step("token", "POST", urlsplit(auth.token_url).netloc, received.status)
    answer = _answer(received)
    token = answer.get("access_token")
    if received.status != 200 or not isinstance(token, str) or not token:
        error = _said(answer.get("error"), 100) or "no access_token"  # RFC 6749: a code
        raise TokenRefused(error, received.status, _said(answer.get("error_description"), 300))
    ctx.secrets.append(token)
    obtained = time.time()
    renew_at, expires_at = lifetime(obtained, _seconds(answer.get("expires_in")))
    refresh_token = answer.get("refresh_token")
    if not isinstance(refresh_token, str) or not refresh_token:
        refresh_token = used_refresh_token
    elif refresh_token != used_refresh_token:
        ctx.secrets.append(refresh_token)
        if ctx.saver is not None:  # rotated (or first issued): keep it, sealed
            await ctx.saver.save_refresh_token(owner, used_refresh_token, refresh_token)
    return Credential(token, obtained, renew_at, expires_at, refresh_token)


def _answer(received: Received) -> dict[str, Any]:
    try:
        found = json.loads(received.body)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _said(value: Any, limit: int) -> str:
    """A field of the provider's refusal as one line of text, cut at `limit` characters."""
    if not isinstance(value, str):
        return ""
    return " ".join(_CONTROL.sub(" ", value).split())[:limit]


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _signals(auth: OAuth2Auth, received: Received) -> bool:
    try:
        body = json.loads(received.body)
    except ValueError:
        return False
    values = _query(auth.expiry_signal_path).find(body).values()
    return any(templates.to_text(v) == auth.expiry_signal_value for v in values)


@lru_cache(maxsize=256)
def _query(path: str) -> jsonpath_rfc9535.JSONPathQuery:
    return jsonpath_rfc9535.compile(path)


def _auth(plan: Plan) -> OAuth2Auth:
    auth = plan.authorization
    assert isinstance(auth, OAuth2Auth)
    return auth


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def _seconds(value: Any) -> float | None:
    """`expires_in` as a number of seconds (some servers send it as a string)."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds > 0 else None
