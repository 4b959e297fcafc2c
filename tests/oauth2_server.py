"""A real OAuth 2.0 authorization server on loopback, built from oauthlib's server classes.

    async with OAuth2Server() as server:
        server.token_url      # POST: client_credentials, password, refresh_token,
                              #       authorization_code (PKCE S256 checked by oauthlib)
        server.authorize_url  # GET: approves at once and redirects with the code and state
        server.api_url        # the protected resource: any path under it, bearer tokens
        server.grants["client_credentials"]   # token requests per grant
        server.token_requests[-1].form        # what the last token request carried

The server is oauthlib's `Server` with the `Validator` below: clients authenticate with
client_secret_basic (the id and secret form-encoded, then Basic, RFC 6749 section 2.3.1) or
client_secret_post, each client held to the one it registered. Access tokens live
`expires_in` seconds; refresh tokens live until revoked, and with `rotate_refresh_tokens` a
refresh issues a new one and revokes the old. The resource answers 200 to a valid token,
401 otherwise, and can be told to answer 401 to a valid token or 200 with an "expired"
error body (`resource_answers`), or to echo what it received.

It logs nothing of its own; oauthlib logs tokens at DEBUG under `oauthlib`, which is this
server talking, not Callout.
"""

import asyncio
import base64
import binascii
import hashlib
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote_plus, urlencode

from aiohttp import web
from oauthlib.common import Request as OAuthRequest
from oauthlib.oauth2 import RequestValidator, Server
from oauthlib.oauth2.rfc6749.errors import FatalClientError

from tests.loopback import LoopbackServer

ClientAuth = Literal["client_secret_basic", "client_secret_post"]
ALL_GRANTS = frozenset({"client_credentials", "password", "refresh_token", "authorization_code"})
EXPIRED_BODY = {"error": {"code": "token_expired", "message": "The access token has expired"}}


@dataclass
class Registered:
    """A client of the server."""

    client_id: str
    client_secret: str
    auth_method: ClientAuth | None = None  # None: either method
    grants: frozenset[str] = ALL_GRANTS
    pkce_required: bool = True
    redirect_uris: tuple[str, ...] = ()  # empty: any redirect URI


@dataclass
class TokenRequest:
    """One request to the token endpoint, as the server received it."""

    grant_type: str
    form: dict[str, str] = field(repr=False)  # client_secret, password, tokens
    headers: dict[str, str] = field(repr=False)  # Basic credentials
    auth_method: ClientAuth | None
    status: int = 0


@dataclass
class ResourceAnswer:
    """How the resource answers one request: `ok` (if the token is valid), `unauthorized`
    (401 whatever the token), `expired` (200 with `EXPIRED_BODY`)."""

    mode: Literal["ok", "unauthorized", "expired"] = "ok"
    delay: float = 0.0


@dataclass
class ResourceRequest:
    """One request to the protected resource: the token it carried and how it was sent."""

    path_qs: str
    headers: dict[str, str] = field(repr=False)
    token: str | None = field(repr=False)
    status: int = 0


@dataclass
class _AccessToken:
    client_id: str
    user: str | None
    scopes: list[str]
    expires_at: float


@dataclass
class _RefreshToken:
    client_id: str
    user: str | None
    scopes: list[str]
    alive: bool = True


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    scopes: list[str]
    user: str
    challenge: str | None
    challenge_method: str | None


@dataclass
class _Client:
    """What oauthlib wants on `request.client`: an object with `client_id`."""

    client_id: str


@dataclass
class State:
    """Everything the server knows; the validator reads and writes it."""

    clients: dict[str, Registered]
    users: dict[str, str]
    rotate_refresh_tokens: bool = False
    access_tokens: dict[str, _AccessToken] = field(default_factory=dict)
    refresh_tokens: dict[str, _RefreshToken] = field(default_factory=dict)
    codes: dict[str, _Code] = field(default_factory=dict)
    issued_access_tokens: list[str] = field(default_factory=list)
    issued_refresh_tokens: list[str] = field(default_factory=list)


def challenge_of(verifier: str) -> str:
    """RFC 7636 section 4.2, S256: base64url(SHA-256(verifier)), unpadded."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def client_auth_of(request: OAuthRequest) -> tuple[ClientAuth | None, str | None, str | None]:
    """(method, client_id, client_secret) as the client sent them (RFC 6749 section 2.3.1):
    Basic carries the id and secret each form-encoded; a post carries them in the body."""
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() == "basic":
        try:
            pair = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return "client_secret_basic", None, None
        client_id, colon, secret = pair.partition(":")
        if not colon:
            return "client_secret_basic", None, None
        return "client_secret_basic", unquote_plus(client_id), unquote_plus(secret)
    if request.client_secret is not None:
        return "client_secret_post", request.client_id, request.client_secret
    return None, request.client_id, None


class Validator(RequestValidator):  # type: ignore[misc]
    """oauthlib's questions, answered from `State`."""

    def __init__(self, state: State) -> None:
        super().__init__()
        self.state = state

    # Clients

    def client_authentication_required(self, request: OAuthRequest, *a: Any, **k: Any) -> bool:
        return True  # every client here is confidential

    def authenticate_client(self, request: OAuthRequest, *a: Any, **k: Any) -> bool:
        method, client_id, secret = client_auth_of(request)
        registered = self.state.clients.get(client_id or "")
        if registered is None or method is None or secret is None:
            return False
        if registered.auth_method is not None and registered.auth_method != method:
            return False
        if not secrets.compare_digest(secret.encode(), registered.client_secret.encode()):
            return False
        request.client = _Client(registered.client_id)
        request.client_id = registered.client_id
        return True

    def authenticate_client_id(
        self, client_id: str, request: OAuthRequest, *a: Any, **k: Any
    ) -> bool:
        return False  # no public clients

    def validate_client_id(self, client_id: str, request: OAuthRequest, *a: Any, **k: Any) -> bool:
        return client_id in self.state.clients

    def validate_grant_type(
        self, client_id: str, grant_type: str, client: Any, request: OAuthRequest, *a: Any, **k: Any
    ) -> bool:
        return grant_type in self.state.clients[client_id].grants

    def validate_scopes(
        self,
        client_id: str,
        scopes: list[str],
        client: Any,
        request: OAuthRequest,
        *a: Any,
        **k: Any,
    ) -> bool:
        return True

    def get_default_scopes(
        self, client_id: str, request: OAuthRequest, *a: Any, **k: Any
    ) -> list[str]:
        return []

    # The password grant

    def validate_user(
        self, username: str, password: str, client: Any, request: OAuthRequest, *a: Any, **k: Any
    ) -> bool:
        known = self.state.users.get(username)
        if known is None or not secrets.compare_digest(known.encode(), password.encode()):
            return False
        request.user = username
        return True

    # The authorization_code grant

    def validate_response_type(
        self,
        client_id: str,
        response_type: str,
        client: Any,
        request: OAuthRequest,
        *a: Any,
        **k: Any,
    ) -> bool:
        return response_type == "code"

    def validate_redirect_uri(
        self, client_id: str, redirect_uri: str, request: OAuthRequest, *a: Any, **k: Any
    ) -> bool:
        allowed = self.state.clients[client_id].redirect_uris
        return not allowed or redirect_uri in allowed

    def get_default_redirect_uri(
        self, client_id: str, request: OAuthRequest, *a: Any, **k: Any
    ) -> None:
        return None

    def is_pkce_required(self, client_id: str, request: OAuthRequest) -> bool:
        return self.state.clients[client_id].pkce_required

    def save_authorization_code(
        self, client_id: str, code: dict[str, str], request: OAuthRequest, *a: Any, **k: Any
    ) -> None:
        self.state.codes[code["code"]] = _Code(
            client_id,
            request.redirect_uri,
            list(request.scopes or []),
            request.user or "alice",
            request.code_challenge,
            request.code_challenge_method,
        )

    def validate_code(
        self, client_id: str, code: str, client: Any, request: OAuthRequest, *a: Any, **k: Any
    ) -> bool:
        found = self.state.codes.get(code)
        if found is None or found.client_id != client_id:
            return False
        request.user, request.scopes = found.user, list(found.scopes)
        return True

    def get_code_challenge(self, code: str, request: OAuthRequest) -> str | None:
        found = self.state.codes.get(code)
        return found.challenge if found else None

    def get_code_challenge_method(self, code: str, request: OAuthRequest) -> str | None:
        found = self.state.codes.get(code)
        return found.challenge_method if found else None

    def confirm_redirect_uri(
        self,
        client_id: str,
        code: str,
        redirect_uri: str,
        client: Any,
        request: OAuthRequest,
        *a: Any,
        **k: Any,
    ) -> bool:
        found = self.state.codes.get(code)
        return found is not None and found.redirect_uri == redirect_uri

    def invalidate_authorization_code(
        self, client_id: str, code: str, request: OAuthRequest, *a: Any, **k: Any
    ) -> None:
        self.state.codes.pop(code, None)

    # Refresh tokens

    def validate_refresh_token(
        self, refresh_token: str, client: Any, request: OAuthRequest, *a: Any, **k: Any
    ) -> bool:
        found = self.state.refresh_tokens.get(refresh_token)
        if found is None or not found.alive or found.client_id != client.client_id:
            return False
        request.user = found.user
        return True

    def get_original_scopes(
        self, refresh_token: str, request: OAuthRequest, *a: Any, **k: Any
    ) -> list[str]:
        return list(self.state.refresh_tokens[refresh_token].scopes)

    def is_within_original_scope(
        self,
        request_scopes: list[str],
        refresh_token: str,
        request: OAuthRequest,
        *a: Any,
        **k: Any,
    ) -> bool:
        return False

    def rotate_refresh_token(self, request: OAuthRequest) -> bool:
        return self.state.rotate_refresh_tokens

    # Tokens

    def save_bearer_token(
        self, token: dict[str, Any], request: OAuthRequest, *a: Any, **k: Any
    ) -> None:
        client_id = request.client.client_id
        scopes = list(request.scopes or [])
        user = getattr(request, "user", None)
        access = token["access_token"]
        self.state.access_tokens[access] = _AccessToken(
            client_id, user, scopes, time.monotonic() + float(token["expires_in"])
        )
        self.state.issued_access_tokens.append(access)
        refresh = token.get("refresh_token")
        if refresh and refresh not in self.state.refresh_tokens:
            self.state.refresh_tokens[refresh] = _RefreshToken(client_id, user, scopes)
            self.state.issued_refresh_tokens.append(refresh)
            used = request.refresh_token if request.grant_type == "refresh_token" else None
            if used and used != refresh:  # rotated: the old one is spent
                self.state.refresh_tokens[used].alive = False

    def validate_bearer_token(self, token: str | None, scopes: Any, request: OAuthRequest) -> bool:
        found = self.state.access_tokens.get(token or "")
        if found is None or time.monotonic() >= found.expires_at:
            return False
        request.client = _Client(found.client_id)
        request.user, request.scopes = found.user, found.scopes
        return True


CLIENT_ID = "callout-app"
CLIENT_SECRET = "cs:7f1c+2b9e/%secret"  # ':', '+', '/' and '%' must be form-encoded in Basic
USERNAME = "alice"
PASSWORD = "pw-alice-91c3"


class OAuth2Server(LoopbackServer):
    """oauthlib's `Server` on an aiohttp site on 127.0.0.1, with what it saw recorded."""

    def __init__(
        self,
        clients: list[Registered] | None = None,
        users: dict[str, str] | None = None,
        expires_in: float = 3600,
    ) -> None:
        registered = clients or [Registered(CLIENT_ID, CLIENT_SECRET)]
        self.state = State({c.client_id: c for c in registered}, users or {USERNAME: PASSWORD})
        self.expires_in = expires_in
        self.server = Server(
            Validator(self.state),
            token_expires_in=lambda _request: self.expires_in,
            token_generator=lambda _request: "at-" + secrets.token_urlsafe(24),
            refresh_token_generator=lambda _request: "rt-" + secrets.token_urlsafe(24),
        )
        self.token_delay = 0.0  # seconds the token endpoint holds each answer back
        self.deny_next = False  # the next authorization is refused: error=access_denied
        self.resource_answers: list[ResourceAnswer] = []  # consumed in order, then "ok"
        self.echo = False  # the resource echoes the request (headers, query) in its body
        self.grants: Counter[str] = Counter()
        self.token_requests: list[TokenRequest] = []
        self.resource_requests: list[ResourceRequest] = []

    # Addresses

    @property
    def token_url(self) -> str:
        return f"{self.url}/oauth/token"

    @property
    def authorize_url(self) -> str:
        return f"{self.url}/oauth/authorize"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    # Settings and what was issued

    @property
    def rotate_refresh_tokens(self) -> bool:
        return self.state.rotate_refresh_tokens

    @rotate_refresh_tokens.setter
    def rotate_refresh_tokens(self, value: bool) -> None:
        self.state.rotate_refresh_tokens = value

    @property
    def issued_access_tokens(self) -> list[str]:
        return self.state.issued_access_tokens

    @property
    def issued_refresh_tokens(self) -> list[str]:
        return self.state.issued_refresh_tokens

    def issue_refresh_token(
        self, client_id: str = CLIENT_ID, user: str = USERNAME, scopes: tuple[str, ...] = ()
    ) -> str:
        """A refresh token as an earlier authorization would have left it."""
        token = "rt-" + secrets.token_urlsafe(24)
        self.state.refresh_tokens[token] = _RefreshToken(client_id, user, list(scopes))
        self.state.issued_refresh_tokens.append(token)
        return token

    def revoke(self, refresh_token: str) -> None:
        """The refresh token is dead from now on (revoked, or expired at the provider)."""
        self.state.refresh_tokens[refresh_token].alive = False

    def alive(self, refresh_token: str) -> bool:
        found = self.state.refresh_tokens.get(refresh_token)
        return found is not None and found.alive

    def answer(self, mode: Literal["ok", "unauthorized", "expired"], times: int = 1) -> None:
        """The resource's next `times` answers, whatever the token."""
        self.resource_answers += [ResourceAnswer(mode) for _ in range(times)]

    # Endpoints

    async def _token(self, request: web.Request) -> web.Response:
        body = await request.text()
        form = dict(parse_qsl(body, keep_blank_values=True))
        grant_type = form.get("grant_type", "")
        self.grants[grant_type] += 1
        headers = dict(request.headers)
        seen = TokenRequest(
            grant_type,
            form,
            headers,
            client_auth_of(OAuthRequest(str(request.url), "POST", body, headers))[0],
        )
        self.token_requests.append(seen)
        if self.token_delay:
            await asyncio.sleep(self.token_delay)
        answer_headers, answer, status = self.server.create_token_response(
            str(request.url), "POST", body, headers
        )
        seen.status = status
        return web.Response(status=status, text=answer, headers=answer_headers)

    async def _authorize(self, request: web.Request) -> web.Response:
        uri = str(request.url)
        if self.deny_next:
            self.deny_next = False
            params = [("error", "access_denied"), ("state", request.query.get("state", ""))]
            redirect = request.query["redirect_uri"]
            location = redirect + ("&" if "?" in redirect else "?") + urlencode(params)
            return web.Response(status=302, headers={"Location": location})
        try:
            headers, body, status = self.server.create_authorization_response(
                uri, "GET", None, dict(request.headers), credentials={"user": USERNAME}
            )
        except FatalClientError as error:
            return web.Response(status=400, text=error.json, content_type="application/json")
        return web.Response(status=status, text=body, headers=headers)

    async def _resource(self, request: web.Request) -> web.Response:
        answer = self.resource_answers.pop(0) if self.resource_answers else ResourceAnswer()
        if answer.delay:
            await asyncio.sleep(answer.delay)
        token = _bearer(request)
        valid, _ = self.server.verify_request(
            str(request.url.with_query(None)),
            request.method,
            None,
            {"Authorization": f"Bearer {token}"} if token else {},
        )
        body: dict[str, Any]
        if answer.mode == "unauthorized" or not valid:
            status, body = 401, {"error": "invalid_token"}
        elif answer.mode == "expired":
            status, body = 200, EXPIRED_BODY
        else:
            status, body = 200, {"ok": True, "path": request.path}
        if self.echo and status == 200:
            body = {
                "ok": answer.mode == "ok",
                "path_qs": request.path_qs,
                "headers": dict(request.headers),
            }
        self.resource_requests.append(
            ResourceRequest(request.path_qs, dict(request.headers), token, status)
        )
        extra = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if status == 401 else None
        return web.json_response(body, status=status, headers=extra)

    def route(self, app: web.Application) -> None:
        app.router.add_post("/oauth/token", self._token)
        app.router.add_get("/oauth/authorize", self._authorize)
        app.router.add_route("*", r"/api/{tail:.*}", self._resource)


def _bearer(request: web.Request) -> str | None:
    """The token as Callout placed it: after any prefix in Authorization (`Bearer x`,
    `Token x`, or bare), or in the `access_token` or `token` query parameter."""
    header = request.headers.get("Authorization")
    if header:
        return header.split(" ")[-1]
    return request.query.get("access_token") or request.query.get("token")
