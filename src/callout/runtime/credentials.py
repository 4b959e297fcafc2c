"""Credentials as they go on the wire, worked out once when a plan is compiled.

A scheme whose proof never changes (Basic, a bearer token with no placeholder) becomes a
fixed Authorization header of the plan, so the hot path sends it as it sends any fixed
header; the other schemes run their `apply` on each call (auth/).
"""

import base64
from urllib.parse import quote

from callout.apis.authorization import BasicAuth, BearerAuth, OAuth2Auth, Scheme
from callout.runtime import templates


def basic_credentials(auth: BasicAuth) -> str:
    """RFC 7617 section 2: base64 of `user ":" password`, in UTF-8 (section 2.1)."""
    password = auth.password.get_secret_value() if auth.password else ""
    return base64.b64encode(f"{auth.username}:{password}".encode()).decode("ascii")


def client_basic_credentials(auth: OAuth2Auth) -> str | None:
    """OAuth 2.0 client_secret_basic (RFC 6749 section 2.3.1): each part form-encoded, then
    Basic; None when the client authenticates in the form."""
    secret = auth.client_secret.get_secret_value() if auth.client_secret else None
    if auth.client_auth != "basic" or secret is None:
        return None
    pair = f"{quote(auth.client_id, safe='')}:{quote(secret, safe='')}"
    return base64.b64encode(pair.encode()).decode("ascii")


def fixed_authorization(auth: Scheme) -> str | None:
    """The Authorization header value, when it is the same for every call."""
    if isinstance(auth, BasicAuth):
        return "Basic " + basic_credentials(auth)
    if isinstance(auth, BearerAuth) and auth.token is not None:
        token = auth.token.get_secret_value()
        if token and templates.FORBIDDEN_IN_HEADER.search(token) is None:
            parts = templates.parse(token)
            if all(isinstance(part, str) for part in parts):
                return "Bearer " + token
    return None
