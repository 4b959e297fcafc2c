"""No authorization: the request goes as it is."""

from callout.runtime.auth.base import AuthContext
from callout.runtime.http import Outgoing
from callout.runtime.plan import Plan


async def apply(plan: Plan, outgoing: Outgoing, ctx: AuthContext) -> Outgoing:
    return outgoing
