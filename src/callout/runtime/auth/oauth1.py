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
from callout.runtime.http import Outgoing
from callout.runtime.plan import Plan


def _sign_hmac_sha256(client: Any, request: Any) -> str:
    key = f"{escape(client.client_secret or '')}&{escape(client.token_secret or '')}"
    base_string = generate_signature_base_string(request)
    digest = hmac.new(key.encode(), base_string.encode(), hashlib.sha256).digest()
    return binascii.b2a_base64(digest)[:-1].decode()


ClientAuth.register_signature_method("HMAC-SHA256", _sign_hmac_sha256)


async def apply(plan: Plan, outgoing: Outgoing, ctx: AuthContext) -> Outgoing:
    auth = plan.authorization
    assert isinstance(auth, OAuth1Auth)
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
    url, signed, _ = client.sign(outgoing.method, outgoing.url, headers, outgoing.body or b"")
    outgoing.url = url
    outgoing.headers = list(signed.items())
    return outgoing


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None
