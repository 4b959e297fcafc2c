"""Refreshing an access token (RFC 6749 section 6): how every grant renews a token when a
refresh token is held, and the refresh_token grant, for an API given nothing but one.

https://www.rfc-editor.org/rfc/rfc6749#section-6
"""

from dataclasses import dataclass
from typing import ClassVar

from callout.runtime.auth.base import AuthContext
from callout.runtime.auth.oauth2.grant import Grant
from callout.runtime.auth.oauth2.token_endpoint import TokenEndpoint
from callout.runtime.auth.tokens import Credential


@dataclass(frozen=True, slots=True)
class RefreshToken(Grant):
    name: ClassVar[str] = "refresh_token"
    missing: ClassVar[str] = "the refresh_token grant needs a refresh token stored with the API"


async def refresh(endpoint: TokenEndpoint, ctx: AuthContext, refresh_token: str) -> Credential:
    """A new token for `refresh_token`; a rotated refresh token goes to the saver."""
    form = [("grant_type", RefreshToken.name), ("refresh_token", refresh_token)]
    return await endpoint.request(ctx, form, refresh_token)
