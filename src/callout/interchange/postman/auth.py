"""Postman's auth settings as Callout's authorization.

Postman sets auth on the collection, a folder or a request, each inheriting its parent's
unless it sets its own (`noauth` sets none). A Callout API has one authorization: the
collection's, or else the only one its requests use. A request whose auth differs keeps it
as headers where it can (bearer, basic, an API key), else a note says it is not carried.

Secrets (a password, token, client secret, API key) go only into the document's secret
places: the value when the collection holds it (literally, or in a variable that has a
value), else nothing, and `missing_secrets` names what the user enters in the API window.
A variable with no value in the collection is not turned into a parameter here: a
credential is kept with the API, not passed by every caller. The one exception is an API
key sent in the query, which has no secret place: it becomes a secret parameter.
"""

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr, ValidationError

from callout.apis.authorization import SCHEMES, Scheme
from callout.apis.secret_fields import header_field
from callout.interchange.postman.notes import problem
from callout.interchange.postman.variables import (
    VARIABLE,
    Scope,
    context_path,
    escape,
    resolve,
    text_of,
)

# Postman's grant_type -> Callout's grant, and whether it sends a PKCE challenge.
GRANTS = {
    "client_credentials": ("client_credentials", False),
    "password_credentials": ("password", False),
    "authorization_code": ("authorization_code", False),
    "authorization_code_with_pkce": ("authorization_code", True),
    "refresh_token": ("refresh_token", False),
}
SIGNATURE_METHODS = frozenset({"HMAC-SHA1", "HMAC-SHA256", "RSA-SHA1", "PLAINTEXT"})
# Postman's key for each secret field of Callout's OAuth 1.0.
OAUTH1_SECRETS = {
    "consumer_secret": "consumerSecret",
    "token": "token",
    "token_secret": "tokenSecret",
    "rsa_private_key": "privateKey",
}


@dataclass(frozen=True)
class Auth:
    """A Postman auth object: its type and parameters, and where in the file it is."""

    type: str
    params: dict[str, Any]
    where: str

    @property
    def identity(self) -> str:
        return json.dumps([self.type, self.params], sort_keys=True, default=str)


def auth_of(value: Any, where: str) -> Auth | None:
    """The auth an object sets; None when it inherits its parent's. Both spellings are
    read: v2.1's `[{key, value}]` and v2.0's `{key: value}`."""
    if not isinstance(value, dict):
        return None
    kind = value.get("type")
    if not isinstance(kind, str) or kind in ("", "inherit"):
        return None
    raw = value.get(kind)
    params: dict[str, Any] = {}
    if isinstance(raw, list):
        for entry in raw:
            if isinstance(entry, dict) and isinstance(entry.get("key"), str):
                params[entry["key"]] = entry.get("value")
    elif isinstance(raw, dict):
        params = {k: v for k, v in raw.items() if isinstance(k, str)}
    return Auth(kind, params, where)


@dataclass
class Carried:
    """What an auth becomes: the API's authorization, or headers and query entries."""

    authorization: dict[str, Any] | None = None
    headers: list[dict[str, Any]] = field(default_factory=list)
    # (query name, Postman variable): each request places the variable as a secret parameter
    query: list[tuple[str, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    @property
    def sent(self) -> bool:
        """Whether anything of it goes with a request."""
        return bool(self.authorization or self.headers or self.query)


class _Fields:
    """Reads an auth's parameters, filling in the collection's variables."""

    def __init__(self, auth: Auth, scope: Scope, carried: Carried) -> None:
        self.params, self.scope, self.carried = auth.params, scope, carried

    def text(self, key: str) -> str:
        return text_of(self.params.get(key)).strip()

    def plain(self, key: str, what: str) -> str:
        written = self.text(key)
        filled = resolve(written, self.scope)
        if filled is None:
            self.carried.messages.append(
                f"the {what} {written} has no value in the collection: kept as written; "
                "change it in the API window"
            )
            return written
        return filled

    def secret(self, key: str, what: str, loc: str) -> str | None:
        """The secret's value when the collection holds it; else None, and `loc` is
        named as missing when a value was meant to be there."""
        written = self.text(key)
        if not written:
            return None
        filled = resolve(written, self.scope)
        if filled is None:  # named by its variables: any text around them may be secret
            names = ", ".join("{{" + name + "}}" for name in VARIABLE.findall(written))
            self.carried.missing.append(loc)
            self.carried.messages.append(
                f"the {what} uses {names}, which has no value in the collection: enter it "
                "in the API window"
            )
        return filled

    def flag(self, key: str) -> bool:
        value = self.params.get(key)
        return value is True or (isinstance(value, str) and value.lower() == "true")


def scheme(auth: Auth, scope: Scope) -> Carried:
    """The API's authorization (or API header, or query entry) from a Postman auth."""
    carried = Carried()
    fields = _Fields(auth, scope, carried)
    build = _SCHEMES.get(auth.type)
    if auth.type == "noauth":
        return carried
    if auth.type == "apikey":
        return _apikey(fields, carried, api=True)
    if build is None:
        carried.messages.append(
            f"{auth.type} authorization is not supported by Callout: not carried"
        )
        return carried
    data = build(fields)
    if data is None:
        return carried
    try:
        made: Scheme = SCHEMES[auth.type].model_validate(data)
    except ValidationError as error:  # what was said of its fields matters no more
        carried.messages[:] = [f"{auth.type} authorization is not carried: {problem(error)}"]
        carried.missing.clear()
        return carried
    for name in made.required_secrets():
        loc = f"authorization.{name}"
        if getattr(made, name) is None and loc not in carried.missing:
            carried.missing.append(loc)
    carried.authorization = data
    return carried


def _basic(fields: _Fields) -> dict[str, Any] | None:
    username = fields.plain("username", "username")
    if not username:
        fields.carried.messages.append("basic authorization without a username: not carried")
        return None
    password = fields.secret("password", "password", "authorization.password")
    return {"type": "basic", "username": username, "password": _secret_str(password)}


def _bearer(fields: _Fields) -> dict[str, Any] | None:
    written = fields.text("token")
    names = VARIABLE.findall(written)
    if names and all(context_path(n) for n in names):  # a token the call's context gives
        return {"type": "bearer", "token": SecretStr(_context_template(written))}
    token = fields.secret("token", "token", "authorization.token")
    return {"type": "bearer", "token": None if token is None else SecretStr(escape(token))}


def _context_template(written: str) -> str:
    return VARIABLE.sub(lambda m: "${" + str(context_path(m.group(1))) + "}", escape(written))


def _oauth1(fields: _Fields) -> dict[str, Any] | None:
    method = fields.text("signatureMethod") or "HMAC-SHA1"
    if method not in SIGNATURE_METHODS:
        fields.carried.messages.append(
            f"OAuth 1.0 signature method {method} is not supported by Callout: not carried"
        )
        return None
    for key in ("callback", "verifier"):
        if fields.text(key):
            fields.carried.messages.append(f"OAuth 1.0 {key} is not carried")
    if fields.flag("includeBodyHash"):
        fields.carried.messages.append("OAuth 1.0 body hash is not carried")
    data: dict[str, Any] = {
        "type": "oauth1",
        "consumer_key": fields.plain("consumerKey", "consumer key"),
        "signature_method": method,
        "realm": fields.plain("realm", "realm"),
        "placement": "header" if fields.flag("addParamsToHeader") else "query",
    }
    for name, key in OAUTH1_SECRETS.items():
        if name == "rsa_private_key" and method != "RSA-SHA1":
            continue
        data[name] = _secret_str(fields.secret(key, f"OAuth 1.0 {key}", f"authorization.{name}"))
    return data


def _oauth2(fields: _Fields) -> dict[str, Any] | None:
    kind = fields.text("grant_type") or "authorization_code"  # Postman's default
    if kind not in GRANTS:
        fields.carried.messages.append(
            f"the OAuth 2.0 {kind} grant is not supported by Callout: not carried"
        )
        return None
    grant, pkce = GRANTS[kind]  # PKCE matters to authorization_code only
    if fields.text("accessToken"):
        fields.carried.messages.append(
            "the access token Postman obtained is not kept: Callout obtains its own"
        )
    for key in ("authRequestParams", "refreshRequestParams"):
        if fields.params.get(key):
            fields.carried.messages.append(f"OAuth 2.0 {key} are not carried")
    data: dict[str, Any] = {
        "type": "oauth2",
        "grant": grant,
        "token_url": fields.plain("accessTokenUrl", "access token URL"),
        "client_id": fields.plain("clientId", "client ID"),
        "client_secret": _secret_str(
            fields.secret("clientSecret", "client secret", "authorization.client_secret")
        ),
        "client_auth": "post" if fields.text("client_authentication") == "body" else "basic",
        "scope": fields.plain("scope", "scope"),
        "audience": fields.plain("audience", "audience"),
        "placement": "query" if fields.text("addTokenTo") == "queryParams" else "header",
        "header_prefix": fields.text("headerPrefix") or "Bearer",
        "extra_token_params": _token_params(fields),
    }
    if grant == "authorization_code":
        data["pkce"] = pkce
    if fields.text("authUrl"):
        data["authorization_url"] = fields.plain("authUrl", "authorization URL")
    if grant == "password":
        data["username"] = fields.plain("username", "username")
        data["password"] = _secret_str(
            fields.secret("password", "password", "authorization.password")
        )
    if grant == "refresh_token":
        data["refresh_token"] = _secret_str(
            fields.secret("refreshToken", "refresh token", "authorization.refresh_token")
        )
    return data


def _token_params(fields: _Fields) -> list[dict[str, Any]]:
    params = []
    entries = fields.params.get("tokenRequestParams")
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("key"), str):
            continue
        value = resolve(text_of(entry.get("value")), fields.scope)
        if value is None or entry.get("send_as") not in (None, "request_body"):
            fields.carried.messages.append(
                f"OAuth 2.0 token request parameter {entry['key']} is not carried"
            )
            continue
        params.append(
            {
                "name": entry["key"],
                "value": escape(value),
                "enabled": entry.get("enabled") is not False,
            }
        )
    return params


_SCHEMES: dict[str, Callable[[_Fields], dict[str, Any] | None]] = {
    "basic": _basic,
    "bearer": _bearer,
    "oauth1": _oauth1,
    "oauth2": _oauth2,
}


def _secret_str(value: str | None) -> SecretStr | None:
    return None if value is None else SecretStr(value)


def _apikey(fields: _Fields, carried: Carried, *, api: bool) -> Carried:
    """An API key: a secret header, or in the query a secret parameter (a query has no
    secret place)."""
    name = fields.text("key")
    if not name:
        carried.messages.append("API key authorization without a key name: not carried")
        return carried
    if fields.text("in") == "query":
        written = fields.text("value")
        whole = VARIABLE.fullmatch(written)
        carried.query.append((name, whole.group(1) if whole else name))
        if written and not whole:
            carried.messages.append(
                f"the API key sent in the query as {name} is a secret parameter; its value "
                "in the collection is not kept (a query holds no secret)"
            )
        return carried
    where = header_field(name)
    value = fields.secret("value", "API key", where)
    if value is None and where not in carried.missing:
        carried.missing.append(where)
    carried.headers.append(
        {"name": name, "value": escape(value or ""), "secret": True, "enabled": True}
    )
    if api:
        carried.messages.append(f"the API key is sent as the API's secret header {name}")
    return carried


def as_headers(auth: Auth, scope: Scope, api_sets_authorization: bool) -> Carried:
    """A request's own auth, where it differs from the API's, as request headers."""
    carried = Carried()
    fields = _Fields(auth, scope, carried)
    if auth.type == "apikey":
        return _apikey(fields, carried, api=False)
    if auth.type not in ("basic", "bearer"):
        reason = "is not supported by Callout" if auth.type not in _SCHEMES else "differs"
        carried.messages.append(
            f"the request's own {auth.type} authorization {reason}: not carried (the API "
            "has one authorization)"
        )
        return carried
    if api_sets_authorization:
        carried.messages.append(
            f"the request's own {auth.type} authorization differs from the API's, which "
            "sets the Authorization header: not carried"
        )
        return carried
    if auth.type == "bearer":
        token = fields.secret("token", "token", "headers.authorization")
        value = "" if token is None else "Bearer " + escape(token)
    else:
        username = resolve(fields.text("username"), scope)
        password = fields.secret("password", "password", "headers.authorization")
        if username is None or (password is None and fields.text("password")):
            value = ""
        else:
            pair = f"{username}:{password or ''}".encode()
            value = "Basic " + base64.b64encode(pair).decode("ascii")
    if not value:
        carried.missing.append("headers.authorization")
        carried.messages.append(
            f"enter the request's Authorization header ({auth.type}) in the API window"
        )
    carried.headers.append(
        {"name": "Authorization", "value": value, "secret": True, "enabled": True}
    )
    carried.missing[:] = list(dict.fromkeys(carried.missing))
    return carried
