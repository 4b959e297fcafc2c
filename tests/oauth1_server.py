"""A real OAuth 1.0a protected resource on loopback, built from oauthlib's server classes.

    async with OAuth1Server(rsa_public_key=pem) as server:
        server.api_url              # any path under it, any method
        server.verdicts[-1].valid   # what oauthlib decided about the last request
        server.verdicts[-1].params  # the parameters oauthlib signed over (query, form, oauth_*)

Every request is handed, as it came on the wire, to oauthlib's `ResourceEndpoint`
(`validate_protected_resource_request`): the URI rebuilt from the Host header and the raw
path and query (percent-encoding kept), the method, the body as text and the headers.
oauthlib computes the signature base string itself (RFC 5849 section 3.4.1) and checks
HMAC-SHA1, HMAC-SHA256, PLAINTEXT and RSA-SHA1 (against `rsa_public_key`), the consumer and
token, the timestamp and a nonce never seen before. The answer is 200 `{"valid": true, ...}`
or 401 `{"valid": false}`; it never carries the signature, which under PLAINTEXT is the
secrets themselves.

oauthlib verifies RSA-SHA1 with PyJWT (its `signedtoken` extra), imported only then; this
module refuses to load without it rather than answer the first RSA request with a 500.

It logs nothing of its own; oauthlib logs base strings at DEBUG under `oauthlib`, which is
this server talking, not Callout.
"""

import importlib.util
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web
from oauthlib.common import Request as OAuthRequest
from oauthlib.oauth1 import RequestValidator, ResourceEndpoint
from oauthlib.oauth1.rfc5849 import signature, utils

from tests.loopback import LoopbackServer

if importlib.util.find_spec("jwt") is None:
    raise ImportError("oauthlib needs PyJWT to verify RSA-SHA1: install oauthlib[signedtoken]")


@dataclass(frozen=True)
class Credentials:
    """A consumer and an access token the server knows, with their secrets."""

    consumer_key: str
    consumer_secret: str = field(repr=False)
    token: str
    token_secret: str = field(repr=False)


PLAIN = Credentials("callout-crm", "cs-4f9a2c7e1b", "agent-token-7f3a", "ts-8d2e5b9c0a")
# Credentials as many providers issue them (base64): `+`, `/` and `=` are escaped
# (section 3.6) in the header, the query, the HMAC key and the PLAINTEXT signature.
RESERVED = Credentials("callout-b64", "cs+Kx9/q2Vw=Lm4", "tok+2c9d/Wq=", "ts/8Hr+Zp1e=Qa7")
GRANTED_REALMS = ("crm",)

Placement = Literal["header", "query", "body"]


@dataclass(frozen=True)
class Verdict:
    """oauthlib's decision about one request, and what it based it on."""

    valid: bool
    method: str
    uri: str = field(repr=False)  # under query placement, holds the signature
    headers: dict[str, str] = field(repr=False)  # the Authorization header: the same
    body: str
    signature_method: str | None = None
    realm: str | None = None  # from the Authorization header (section 3.5.1)
    placement: Placement | None = None  # where oauthlib found the oauth_ parameters
    oauth_params: dict[str, str] = field(default_factory=dict, repr=False)
    params: list[tuple[str, str]] = field(default_factory=list, repr=False)
    checks: dict[str, bool] = field(default_factory=dict)  # client, resource_owner, ...

    def param(self, name: str) -> list[str]:
        """The values of one parameter oauthlib signed over, in order."""
        return [v for n, v in self.params if n == name]


class Validator(RequestValidator):  # type: ignore[misc]
    """oauthlib's questions, answered from the consumers and tokens this server knows."""

    def __init__(self, rsa_public_key: str) -> None:
        super().__init__()
        self.rsa_public_key = rsa_public_key
        known = (PLAIN, RESERVED)
        self.consumers = {c.consumer_key: c.consumer_secret for c in known}
        self.tokens = {(c.consumer_key, c.token): c.token_secret for c in known}
        self.granted_realms = set(GRANTED_REALMS)
        self.nonces: set[tuple[str, str, str, str | None]] = set()

    # The loopback peer speaks plain http; the format checks fit the keys above.

    enforce_ssl = False
    allowed_signature_methods = ("HMAC-SHA1", "HMAC-SHA256", "RSA-SHA1", "PLAINTEXT")
    safe_characters = set(utils.UNICODE_ASCII_CHARACTER_SET) | set("-_+/=")
    client_key_length = (8, 64)
    access_token_length = (8, 64)
    nonce_length = (8, 64)

    # Consumers and tokens; unknown ones are swapped for dummies so that every request
    # costs the same to refuse (oauthlib's design), hence the dummies' secrets and key.

    @property
    def dummy_client(self) -> str:
        return "dummy-consumer"

    @property
    def dummy_request_token(self) -> str:
        return "dummy-request-token"

    @property
    def dummy_access_token(self) -> str:
        return "dummy-access-token"

    def validate_client_key(self, client_key: str, request: OAuthRequest) -> bool:
        return client_key in self.consumers

    def get_client_secret(self, client_key: str, request: OAuthRequest) -> str:
        return self.consumers.get(client_key, "dummy-consumer-secret")

    def get_rsa_key(self, client_key: str, request: OAuthRequest) -> str:
        return self.rsa_public_key

    def validate_access_token(self, client_key: str, token: str, request: OAuthRequest) -> bool:
        return (client_key, token) in self.tokens

    def get_access_token_secret(self, client_key: str, token: str, request: OAuthRequest) -> str:
        return self.tokens.get((client_key, token), "dummy-token-secret")

    def validate_realms(
        self,
        client_key: str,
        token: str,
        request: OAuthRequest,
        uri: str | None = None,
        realms: list[str] | None = None,
    ) -> bool:
        # The resource's realms must have been granted to the token.
        return set(realms or ()) <= self.granted_realms

    def validate_timestamp_and_nonce(
        self,
        client_key: str,
        timestamp: str,
        nonce: str,
        request: OAuthRequest,
        request_token: str | None = None,
        access_token: str | None = None,
    ) -> bool:
        # oauthlib has already held the timestamp to 600 s of now; a nonce is good once.
        seen = (client_key, timestamp, nonce, request_token or access_token)
        if seen in self.nonces:
            return False
        self.nonces.add(seen)
        return True


def placement_of(uri_query: str, body: str, headers: dict[str, str]) -> Placement | None:
    """Which of the three places (section 3.5) carried the oauth_ parameters, by oauthlib's
    own parameter collection."""
    found: dict[Placement, list[tuple[str, str]]] = {
        "header": signature.collect_parameters(headers=headers, exclude_oauth_signature=False),
        "query": signature.collect_parameters(uri_query=uri_query, exclude_oauth_signature=False),
        "body": signature.collect_parameters(body=body, exclude_oauth_signature=False),
    }
    places = [place for place, params in found.items() if utils.filter_oauth_params(params)]
    return places[0] if len(places) == 1 else None


class OAuth1Server(LoopbackServer):
    """The protected resource; see the module docstring."""

    def __init__(self, rsa_public_key: str, realms: list[str] | None = None) -> None:
        self.validator = Validator(rsa_public_key)
        self.endpoint = ResourceEndpoint(self.validator)
        self.realms = list(realms if realms is not None else GRANTED_REALMS)
        self.verdicts: list[Verdict] = []

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    async def _handle(self, request: web.Request) -> web.Response:
        # The request exactly as received: oauthlib signs over the URI's percent-encoding
        # as it is (section 3.4.1.2), so nothing here may decode and re-encode it.
        uri = f"{request.scheme}://{request.host}{request.raw_path}"
        body = await request.text()
        headers = dict(request.headers)
        valid, checked = self.endpoint.validate_protected_resource_request(
            uri, http_method=request.method, body=body, headers=headers, realms=self.realms
        )
        verdict = self._verdict(bool(valid), request.method, uri, body, headers, checked)
        self.verdicts.append(verdict)
        if not valid:
            return web.json_response({"valid": False}, status=401)
        return web.json_response(
            {
                "valid": True,
                "signature_method": verdict.signature_method,
                "realm": verdict.realm,
                "placement": verdict.placement,
            }
        )

    @staticmethod
    def _verdict(
        valid: bool,
        method: str,
        uri: str,
        body: str,
        headers: dict[str, str],
        checked: Any,
    ) -> Verdict:
        if checked is None:  # oauthlib could not even read the request
            return Verdict(valid, method, uri, headers, body)
        return Verdict(
            valid,
            method,
            uri,
            headers,
            body,
            signature_method=checked.signature_method,
            realm=checked.realm,
            placement=placement_of(checked.uri_query, checked.body or "", headers),
            oauth_params=dict(checked.oauth_params),
            params=list(checked.params),
            checks=dict(checked.validator_log),
        )

    def route(self, app: web.Application) -> None:
        app.router.add_route("*", r"/{tail:[\s\S]*}", self._handle)
