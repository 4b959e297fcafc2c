"""Bearer token (RFC 6750 section 2.1): `Authorization: Bearer <token>`.

The stored token may itself be a placeholder, e.g. `${loginData.crmToken}`, filled from the
call's context; a value that would add a header line is refused. A token with no placeholder
is the same on every call: the plan sends it as a fixed header.
"""

from dataclasses import dataclass, field
from typing import ClassVar

from callout.runtime import templates
from callout.runtime.auth.base import AuthContext, Scheme
from callout.runtime.errors import AuthError
from callout.runtime.http import Outgoing


@dataclass(frozen=True, slots=True)
class Bearer(Scheme):
    type: ClassVar[str] = "bearer"
    token: str | None = field(default=None, repr=False)

    def fixed(self) -> str | None:
        token = self.token
        if not token or templates.FORBIDDEN_IN_HEADER.search(token):
            return None
        if all(isinstance(part, str) for part in templates.parse(token)):
            return "Bearer " + token
        return None

    async def apply(self, outgoing: Outgoing, ctx: AuthContext) -> Outgoing:
        if self.token is None:
            raise AuthError("the API has no bearer token stored")
        token = templates.header_of("Authorization", templates.parse(self.token), ctx.scope)
        if not token:
            raise AuthError("the bearer token is empty")
        if token != self.token:
            ctx.secrets.append(token)
        outgoing.set_header("Authorization", f"Bearer {token}")
        return outgoing
