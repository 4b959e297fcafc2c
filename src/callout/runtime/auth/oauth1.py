"""OAuth 1.0a request signing (RFC 5849), done by Authlib.

Signature methods HMAC-SHA1, RSA-SHA1 and PLAINTEXT are Authlib's own (section 3.4);
HMAC-SHA256, not in the RFC but widely used (e.g. by NetSuite), is registered below as the
same construction with SHA-256. The signature base string takes the method, the URL, the
query and, for a form-encoded body, its fields (section 3.4.1.3.1); other bodies are
covered by an oauth_body_hash. Parameters go in the Authorization header (with the realm)
or in the query (section 3.5).
"""

import binascii
import hashlib
import hmac
from typing import Any

from authlib.oauth1.rfc5849.client_auth import ClientAuth
from authlib.oauth1.rfc5849.signature import escape, generate_signature_base_string

from callout.apis.authorization import OAuth1Auth
from callout.runtime.auth.base import AuthContext
from callout.runtime.errors import AuthError
from callout.runtime.http import Outgoing
from callout.runtime.plan import Plan

FORM = "application/x-www-form-urlencoded"


def _sign_hmac_sha256(client: Any, request: Any) -> str:
    key = f"{escape(client.client_secret or '')}&{escape(client.token_secret or '')}"
    base_string = generate_signature_base_string(request)
    digest = hmac.new(key.encode(), base_string.encode(), hashlib.sha256).digest()
    return binascii.b2a_base64(digest)[:-1].decode()


ClientAuth.register_signature_method("HMAC-SHA256", _sign_hmac_sha256)


async def apply(plan: Plan, outgoing: Outgoing, ctx: AuthContext) -> Outgoing:
    auth = plan.authorization
    assert isinstance(auth, OAuth1Auth)
    if auth.signature_method == "RSA-SHA1" and auth.rsa_private_key is None:
        raise AuthError("the API has no RSA private key stored")  # Authlib: a TypeError
    client = ClientAuth(
        auth.consumer_key,
        client_secret=_secret(auth.consumer_secret),
        token=_secret(auth.token),
        token_secret=_secret(auth.token_secret),
        signature_method=auth.signature_method,
        signature_type="QUERY" if auth.placement == "query" else "HEADER",
        rsa_key=_secret(auth.rsa_private_key),
        realm=auth.realm or None,
    )
    # Authlib reads the Content-Type by that exact name to know a form body.
    headers = {
        ("Content-Type" if n.lower() == "content-type" else n): v for n, v in outgoing.headers
    }
    raw = outgoing.body or b""
    body: bytes | str = raw
    if FORM in headers.get("Content-Type", "").lower():
        # A form's fields belong in the base string (section 3.4.1.3.1), and a verifier
        # reads them from the body. Authlib finds them only in text (in bytes it finds none)
        # and takes a body for a form only under this exact Content-Type (with a `charset`
        # it would hash the text instead); the header sent stays as it was.
        headers["Content-Type"] = FORM
        body = raw.decode()
    url, signed, _ = client.sign(outgoing.method, outgoing.url, headers, body)
    outgoing.url = url
    if "Authorization" in signed:
        outgoing.set_header("Authorization", signed["Authorization"])
    ctx.secrets.extend(_as_sent(client))
    return outgoing


def _as_sent(client: ClientAuth) -> list[str]:
    """The token and, under PLAINTEXT, the signature (which is the secrets themselves,
    section 3.4.4): the plan's redactor knows the secrets only one by one. The redactor masks
    each in every spelling, as the header escapes it (section 3.6) or the query form-encodes
    it: with a `+`, `/` or `=` in a secret, `cs+1` signed as `cs%2B1&...` would otherwise
    show in a trace as `oauth_signature=cs%252B1%26...`."""
    values = [client.token] if client.token else []
    if client.signature_method == "PLAINTEXT":
        values.append(f"{escape(client.client_secret or '')}&{escape(client.token_secret or '')}")
    return values


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None
