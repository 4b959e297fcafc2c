"""The authorization code grant with PKCE (RFC 6749 section 4.1, RFC 7636): an admin's
browser is sent to the provider (`authorization_url`), comes back with a code, and the code
is exchanged for a token and a refresh token (`exchange_code`, by invocations/authorize.py).
From then on the refresh token keeps the API working; when it is gone, the API must be
authorized again.

https://www.rfc-editor.org/rfc/rfc6749#section-4.1
https://www.rfc-editor.org/rfc/rfc7636#section-4
"""

from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import urlencode, urlsplit

from callout.runtime.auth.base import AuthContext
from callout.runtime.auth.oauth2.grant import REAUTHORIZE, Grant
from callout.runtime.auth.oauth2.scheme import OAuth2
from callout.runtime.auth.oauth2.token_endpoint import TokenRefused
from callout.runtime.auth.tokens import Credential
from callout.runtime.errors import AuthError


@dataclass(frozen=True, slots=True)
class AuthorizationCode(Grant):
    name: ClassVar[str] = "authorization_code"
    missing: ClassVar[str] = f"no refresh token is stored: {REAUTHORIZE}"
    authorization_url: str | None = None


def authorization_url(auth: OAuth2, redirect_uri: str, state: str, challenge: str | None) -> str:
    """Where to send the user's browser (RFC 6749 section 4.1.1, RFC 7636 section 4.3)."""
    grant = auth.grant
    if not isinstance(grant, AuthorizationCode) or not grant.authorization_url:
        raise AuthError("the API has no authorization URL")
    endpoint = auth.endpoint
    params = [
        ("response_type", "code"),
        ("client_id", endpoint.client_id),
        ("redirect_uri", redirect_uri),
        ("state", state),
    ]
    if endpoint.scope:
        params.append(("scope", endpoint.scope))
    if endpoint.audience:
        params.append(("audience", endpoint.audience))
    if challenge:
        params += [("code_challenge", challenge), ("code_challenge_method", "S256")]
    joiner = "&" if urlsplit(grant.authorization_url).query else "?"
    return grant.authorization_url + joiner + urlencode(params)


async def exchange_code(
    auth: OAuth2, ctx: AuthContext, code: str, redirect_uri: str, verifier: str | None
) -> Credential:
    """The grant's second leg (RFC 6749 section 4.1.3, RFC 7636 section 4.5); the refresh
    token it gives goes to the saver (unconditionally: a new authorization)."""
    form = [("grant_type", AuthorizationCode.name), ("code", code), ("redirect_uri", redirect_uri)]
    if verifier:
        form.append(("code_verifier", verifier))
    try:
        return await auth.endpoint.request(ctx, form, None, scoped=False)
    except TokenRefused as refused:
        raise AuthError(
            f"the token endpoint refused the authorization code ({refused.error})"
        ) from None
