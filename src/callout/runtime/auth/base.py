"""The one interface every authorization scheme implements at run time.

A scheme is a module with `async def apply(plan, outgoing, ctx) -> Outgoing`: it adds what
proves who the API is (a header, a signature, a token) to the request about to be sent.
Adding a scheme is one module in this folder and one entry in `SCHEMES`.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from callout.runtime.http import HttpClient, Outgoing
from callout.runtime.plan import Plan
from callout.runtime.templates import Scope
from callout.runtime.trace import Recorder


@dataclass
class AuthContext:
    """What a scheme may use: the call's values, the HTTP client (to fetch tokens) and the
    recorder (each token fetch or login is its own step in the trace). A scheme adds to
    `secrets` each credential it sends that the plan does not know (a token from the
    context, a fetched access token), so the trace and the outputs mask it too."""

    scope: Scope
    http: HttpClient
    recorder: Recorder
    secrets: list[str] = field(default_factory=list)


Apply = Callable[[Plan, Outgoing, AuthContext], Awaitable[Outgoing]]
