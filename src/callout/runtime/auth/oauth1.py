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
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from authlib.oauth1.rfc5849.client_auth import ClientAuth
from authlib.oauth1.rfc5849.signature import (
    escape,
    generate_signature_base_string,
    plaintext_signature,
)

from callout.runtime.auth.base import AuthContext, Scheme
from callout.runtime.errors import AuthError
from callout.runtime.http import Outgoing

FORM = "application/x-www-form-urlencoded"


def _sign_hmac_sha256(client: Any, request: Any) -> str:
    key = f"{escape(client.client_secret or '')}&{escape(client.token_secret or '')}"
    base_string = generate_signature_base_string(request)
    digest = hmac.new(key.encode(), base_string.encode(), hashlib.sha256).digest()
    return binascii.b2a_base64(digest)[:-1].decode()


ClientAuth.register_signature_method("HMAC-SHA256", _sign_hmac_sha256)


@dataclass(frozen=True, slots=True)
class OAuth1(Scheme):
    type: ClassVar[str] = "oauth1"
    consumer_key: str
    consumer_secret: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    token_secret: str | None = field(default=None, repr=False)
    signature_method: str = "HMAC-SHA1"
    rsa_private_key: str | None = field(default=None, repr=False)
    realm: str = ""
    placement: Literal["header", "query"] = "header"

    async def apply(self, outgoing: Outgoing, ctx: AuthContext) -> Outgoing:
        if self.signature_method == "RSA-SHA1" and self.rsa_private_key is None:
            raise AuthError("the API has no RSA private key stored")  # Authlib: a TypeError
        client = ClientAuth(
            self.consumer_key,
            client_secret=self.consumer_secret,
            token=self.token,
            token_secret=self.token_secret,
            signature_method=self.signature_method,
            signature_type="QUERY" if self.placement == "query" else "HEADER",
            rsa_key=self.rsa_private_key,
            realm=self.realm or None,
        )
        # Authlib reads the Content-Type by that exact name to know a form body.
        headers = {
            ("Content-Type" if n.lower() == "content-type" else n): v for n, v in outgoing.headers
        }
        raw = outgoing.body or b""
        body: bytes | str = raw
        if FORM in headers.get("Content-Type", "").lower():
            # A form's fields belong in the base string (section 3.4.1.3.1), and a verifier
            # reads them from the body. Authlib finds them only in text (in bytes it finds
            # none) and takes a body for a form only under this exact Content-Type (with a
            # `charset` it would hash the text instead); the header sent stays as it was.
            headers["Content-Type"] = FORM
            body = raw.decode()
        url, signed, _ = client.sign(outgoing.method, outgoing.url, headers, body)
        outgoing.url = url
        if "Authorization" in signed:
            outgoing.set_header("Authorization", signed["Authorization"])
        if self.token:
            ctx.secrets.append(self.token)
        if self.signature_method == "PLAINTEXT":
            # The signature is the secrets themselves (section 3.4.4), joined: the plan's
            # redactor knows them only one by one.
            ctx.secrets.append(plaintext_signature(self.consumer_secret, self.token_secret))
        return outgoing
