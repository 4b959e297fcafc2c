"""HTTP Basic (RFC 7617): `Authorization: Basic base64(user ":" password)`, in UTF-8
(RFC 7617 section 2.1's charset="UTF-8")."""

import base64

from callout.apis.authorization import BasicAuth
from callout.runtime.auth.base import AuthContext
from callout.runtime.http import Outgoing
from callout.runtime.plan import Plan


async def apply(plan: Plan, outgoing: Outgoing, ctx: AuthContext) -> Outgoing:
    auth = plan.authorization
    assert isinstance(auth, BasicAuth)
    password = auth.password.get_secret_value() if auth.password else ""
    pair = f"{auth.username}:{password}".encode()
    outgoing.set_header("Authorization", "Basic " + base64.b64encode(pair).decode("ascii"))
    return outgoing
