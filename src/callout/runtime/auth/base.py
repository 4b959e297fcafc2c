"""The interface every authorization scheme implements at run time.

A scheme is a module with

    async def apply(plan, outgoing, ctx) -> Outgoing
        add what proves who the API is (a header, a signature, a token) to the request;
    async def renew(plan, ctx, received) -> bool          (optional)
        the answer says the credentials were refused or have expired: drop them and say
        whether one retry with new ones is worth it.

Adding a scheme is one module in this folder and one entry in `auth/__init__.py`.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from callout.runtime.auth.tokens import TokenStore
from callout.runtime.http import HttpClient, Outgoing, Received
from callout.runtime.plan import Owner, Plan
from callout.runtime.templates import Scope
from callout.runtime.trace import Recorder


class CredentialSaver(Protocol):
    """Where the runtime hands a new or rotated refresh token back to encrypted storage:
    stored only if the API still holds `old` (compare-and-swap), so a newer one wins."""

    async def save_refresh_token(self, owner: Owner, old: str | None, new: str) -> None: ...


@dataclass
class AuthContext:
    """What a scheme may use for one call.

    `http` fetches tokens and logs in; `store` keeps tokens and sessions between calls;
    `recorder` takes a step for each token fetch or login; `deadline` (event loop time)
    bounds every wait. A scheme adds to `secrets` each credential it sends that the plan
    does not know (a fetched token, a session id), so the trace and outputs mask it too,
    and sets `sent` to the token or session it sent, so that a renewal drops that one and
    not a newer one another call has already fetched.
    """

    scope: Scope
    http: HttpClient
    store: TokenStore
    saver: CredentialSaver | None
    recorder: Recorder
    deadline: float
    secrets: list[str] = field(default_factory=list)
    sent: str | None = None

    def remaining(self) -> float:
        """Seconds left before the call's deadline."""
        return max(self.deadline - asyncio.get_running_loop().time(), 0.001)


Apply = Callable[[Plan, Outgoing, AuthContext], Awaitable[Outgoing]]
Renew = Callable[[Plan, AuthContext, Received], Awaitable[bool]]


@dataclass(frozen=True)
class Authorizer:
    apply: Apply
    renew: Renew | None = None
