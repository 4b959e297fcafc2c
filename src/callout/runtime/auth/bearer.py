"""Bearer token (RFC 6750 section 2.1): `Authorization: Bearer <token>`.

The stored token may itself be a placeholder, e.g. `${loginData.crmToken}`, filled from the
call's context; a value that would add a header line is refused.
"""

from callout.apis.authorization import BearerAuth
from callout.runtime import templates
from callout.runtime.auth.base import AuthContext
from callout.runtime.errors import AuthError
from callout.runtime.http import Outgoing
from callout.runtime.plan import Plan


async def apply(plan: Plan, outgoing: Outgoing, ctx: AuthContext) -> Outgoing:
    auth = plan.authorization
    assert isinstance(auth, BearerAuth)
    if auth.token is None:
        raise AuthError("the API has no bearer token stored")
    stored = auth.token.get_secret_value()
    token = templates.header_of("Authorization", templates.parse(stored), ctx.scope)
    if not token:
        raise AuthError("the bearer token is empty")
    if token != stored:
        ctx.secrets.append(token)
    outgoing.set_header("Authorization", f"Bearer {token}")
    return outgoing
