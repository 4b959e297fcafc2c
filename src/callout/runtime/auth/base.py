"""The interface every authorization scheme implements at run time.

A scheme is a frozen value in the plan, holding the API's settings for it with its secrets in
the clear (never in its repr), and answering

    type                                    its name, as the API's authorization says it
    fixed() -> str | None                   the Authorization header when it is the same on
                                            every call: the plan sends it as any fixed header
    async apply(outgoing, ctx) -> Outgoing  add what proves who the API is (a header, a
                                            signature, a token) to the request
    async expire_refused(ctx, received) -> bool
                                            the answer says the credentials sent were refused
                                            or have expired: expire them in the store and say
                                            whether one retry with new ones is worth it
    encoded_secrets() -> tuple[str, ...]    secrets as the scheme encodes them on the wire,
                                            where an upstream may echo them (Basic's base64)

The defaults add nothing, retry nothing and encode nothing. Adding a scheme is one module in
this folder, and one case where plans are compiled (invocations/compile.py).
"""

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from callout.runtime.auth.renewals import Renewals
from callout.runtime.auth.tokens import Owner, TokenStore
from callout.runtime.http import HttpClient, Outgoing, Received
from callout.runtime.templates import Scope
from callout.runtime.trace import Recorder


class CredentialSaver(Protocol):
    """Where the runtime hands a new or rotated refresh token back to encrypted storage:
    stored only if the API still holds `old` (compare-and-swap), so a newer one wins."""

    async def save_refresh_token(self, owner: Owner, old: str | None, new: str) -> None: ...


@dataclass
class AuthContext:
    """What a scheme may use for one call.

    `owner` is whose credentials they are; `http` fetches tokens and logs in; `store` keeps
    tokens and sessions between calls, and `renewals` the executor's background renewals;
    `recorder` takes a step for each token fetch or login; `deadline` (event loop time)
    bounds every wait. A scheme adds to `secrets` each credential it sends that the plan
    does not know (a fetched token, a session id), so the trace and outputs mask it too,
    and sets `sent` to the token or session it sent, so that `expire_refused` expires that
    one and not a newer one another call has already fetched.
    """

    owner: Owner
    scope: Scope
    http: HttpClient
    store: TokenStore
    saver: CredentialSaver | None
    recorder: Recorder
    deadline: float
    renewals: Renewals = field(default_factory=Renewals)
    secrets: list[str] = field(default_factory=list)
    sent: str | None = None

    def remaining(self) -> float:
        """Seconds left before the call's deadline."""
        return max(self.deadline - asyncio.get_running_loop().time(), 0.001)


class Scheme:
    __slots__ = ()
    type: ClassVar[str]

    def fixed(self) -> str | None:
        return None

    async def apply(self, outgoing: Outgoing, ctx: AuthContext) -> Outgoing:
        return outgoing

    async def expire_refused(self, ctx: AuthContext, received: Received) -> bool:
        return False

    def encoded_secrets(self) -> tuple[str, ...]:
        return ()


async def expire_sent(ctx: AuthContext, key: str) -> None:
    """Expire the credential kept under `key` if it is still the one this call sent; one
    another call has fetched since is left alone, and the retry uses it."""
    current = await ctx.store.get(key)
    if current is not None and current.value == ctx.sent:
        await ctx.store.expire(key, current)  # a refresh token it holds stays for the renewal


def json_answer(received: Received) -> dict[str, Any]:
    """A login's or token endpoint's answer as a JSON object; {} when it is none."""
    try:
        found = json.loads(received.body)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
