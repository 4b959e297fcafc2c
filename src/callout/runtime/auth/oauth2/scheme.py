"""OAuth 2.0 as an API's authorization scheme (RFC 6749): a token the grant obtains, cached,
renewed, and sent in a header (with a prefix) or a query parameter (RFC 6750 section 2).

A token lives in the store under the client, the API and its version (a credential change
makes a new version, hence a new token). A call uses the cached token while it is fresh;
in its last fifth it still uses it and renews it in the background, so no call waits on a
renewal it could have avoided. Only one token request is in flight per key. A 401, or the
expiry signal the API declares for a 200 body, expires the token: one renewal, one retry.
A refresh token that is refused falls back to the grant's own request where the stored
credentials allow one; otherwise the error says to authorize the API again.

https://www.rfc-editor.org/rfc/rfc6749
"""

import asyncio
import json
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import ClassVar, Literal
from urllib.parse import quote

import jsonpath_rfc9535

from callout.runtime import templates
from callout.runtime.auth.base import AuthContext, Scheme, expire_sent
from callout.runtime.auth.oauth2.grant import REAUTHORIZE, Grant
from callout.runtime.auth.oauth2.refresh_token import refresh
from callout.runtime.auth.oauth2.token_endpoint import TokenEndpoint, TokenRefused
from callout.runtime.auth.tokens import Credential, held_off, note_refusal
from callout.runtime.errors import AuthError, ExecutionError
from callout.runtime.http import Outgoing, Received
from callout.runtime.trace import Recorder

SCHEME = "oauth2"
RENEWAL_SECONDS = 30.0  # a background renewal's own deadline


@dataclass(frozen=True, slots=True)
class OAuth2(Scheme):
    type: ClassVar[str] = SCHEME
    endpoint: TokenEndpoint
    grant: Grant
    refresh_token: str | None = field(default=None, repr=False)  # as stored with the API
    placement: Literal["header", "query"] = "header"
    header_prefix: str = "Bearer"  # a template: it may hold placeholders
    query_parameter: str = "access_token"
    expiry_signal_path: str = ""  # a JSONPath into a 200 body; empty: only a 401 expires
    expiry_signal_value: str = ""

    def encoded_secrets(self) -> tuple[str, ...]:
        basic = self.endpoint.basic_credentials()
        return (basic,) if basic else ()

    async def apply(self, outgoing: Outgoing, ctx: AuthContext) -> Outgoing:
        token = await self.access_token(ctx)
        ctx.secrets.append(token)
        ctx.sent = token
        if self.placement == "query":
            joiner = "&" if "?" in outgoing.url else "?"
            outgoing.url += f"{joiner}{quote(self.query_parameter)}={quote(token, safe='')}"
        else:
            prefix = templates.header_of(
                "Authorization", templates.parse(self.header_prefix), ctx.scope
            )
            outgoing.set_header("Authorization", f"{prefix} {token}" if prefix else token)
        return outgoing

    async def expire_refused(self, ctx: AuthContext, received: Received) -> bool:
        """A 401, or the declared expiry signal in a 200 body: expire the token, retry once."""
        expired = received.status == 401 or (
            received.status == 200 and bool(self.expiry_signal_path) and self._signals(received)
        )
        if expired:
            await expire_sent(ctx, ctx.owner.key(SCHEME))
        return expired

    async def access_token(self, ctx: AuthContext) -> str:
        """A usable access token: the cached one, or a new one (one request per key at a
        time)."""
        key = ctx.owner.key(SCHEME)
        now = ctx.store.now()
        cached = await ctx.store.get(key)
        if cached is not None and cached.usable(now):
            if (
                not cached.fresh(now)
                and not ctx.renewals.running(key)
                and not ctx.store.in_flight(key)
            ):
                self._renew_in_background(ctx, key, cached)
            return cached.value
        async with ctx.store.flight(key):
            cached = await ctx.store.get(key)  # another call may have just fetched one
            if cached is not None and cached.usable(ctx.store.now()):
                return cached.value
            await held_off(ctx.store, key, ctx.owner.api_version)
            credential = await self._obtain(ctx, cached)
            await ctx.store.put(key, credential)
            return credential.value

    def _renew_in_background(self, ctx: AuthContext, key: str, cached: Credential) -> None:
        """Renew a token that is still valid, without making the call that noticed wait."""
        own = replace(
            ctx,
            recorder=Recorder(ctx.recorder.redactor, False),
            deadline=asyncio.get_running_loop().time() + RENEWAL_SECONDS,
            secrets=[],
        )

        async def renewal() -> None:
            try:
                async with ctx.store.flight(key):
                    if await ctx.store.get(key) is not cached:
                        return  # renewed meanwhile
                    # Refused a moment ago: keep the valid token.
                    await held_off(ctx.store, key, ctx.owner.api_version)
                    async with asyncio.timeout_at(own.deadline):
                        await ctx.store.put(key, await self._obtain(own, cached))
            except (ExecutionError, TimeoutError):
                return  # the token is still valid; a call after its expiry will try again

        ctx.renewals.start(key, renewal())

    async def _obtain(self, ctx: AuthContext, previous: Credential | None) -> Credential:
        """A new token: by the refresh token when there is one, else by the API's grant."""
        refresh_token = (previous.refresh_token if previous else None) or self.refresh_token
        if refresh_token:
            try:
                return await refresh(self.endpoint, ctx, refresh_token)
            except TokenRefused as refused:
                if self.grant.parameters() is None:
                    raise AuthError(
                        f"the token endpoint refused the refresh token ({refused.said}): "
                        + REAUTHORIZE
                    ) from None
                # A full grant with the stored credentials replaces the dead refresh token.
        form = self.grant.parameters()
        if form is None:
            raise AuthError(self.grant.missing)
        try:
            return await self.endpoint.request(ctx, form, None)
        except TokenRefused as refused:
            message = (
                f"the token endpoint refused the {self.grant.name} grant ({refused.said}, "
                f"status {refused.status})"
            )
            if 400 <= refused.status < 500 and refused.status not in (408, 429):
                # The credentials, not the endpoint's health or its rate limit.
                await note_refusal(ctx.store, ctx.owner.key(SCHEME), message)
            raise AuthError(message) from None

    def _signals(self, received: Received) -> bool:
        try:
            body = json.loads(received.body)
        except ValueError:
            return False
        values = _query(self.expiry_signal_path).find(body).values()
        return any(templates.to_text(v) == self.expiry_signal_value for v in values)


@lru_cache(maxsize=256)
def _query(path: str) -> jsonpath_rfc9535.JSONPathQuery:
    return jsonpath_rfc9535.compile(path)
