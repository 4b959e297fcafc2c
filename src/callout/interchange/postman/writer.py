"""An API document as a Postman Collection v2.1 that opens in Postman.

The base URL is the collection variable `baseUrl`, and each request's URL
`{{baseUrl}}/path` with its placeholders as Postman variables (`${id}` -> `{{id}}`).
A request named with folders in front ("Users / Get user") is written in those folders.
Postman has no API-wide headers: the API's are written into each request, before the
request's own. Parameters become variables: their defaults, types and descriptions on the
collection, and on a request that declares the same name otherwise or does not use it.
Secrets are never written: a secret header is left empty, and each secret of the
authorization is a variable with no value (`{{basicPassword}}`) to fill in Postman.

`read` gives the document back, but for what Postman has no place for: outputs, timeouts,
success statuses, the API's type, LiveVox authorization, the split of the path between
url_path and endpoint_path, a secret header's value, and a parameter's `required` (one
with no default is required); a form with no fields comes back as no body.
"""

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from callout.apis.authorization import BasicAuth, BearerAuth, OAuth1Auth, OAuth2Auth
from callout.apis.schemas import RequestParameter
from callout.interchange.postman.auth import GRANTS, OAUTH1_SECRETS
from callout.interchange.postman.notes import NAME_SEPARATOR
from callout.interchange.postman.variables import VARIABLE, to_postman
from callout.interchange.schemas import ApiDocument, RequestDocument
from callout.runtime import templates
from callout.runtime.plan import join_url
from callout.schemas import name_key

SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
BASE_URL = "baseUrl"
KINDS = {"string": "string", "number": "number", "boolean": "boolean", "object": "any"}
LANGUAGES = {"json": "json", "text": "text", "xml": "xml"}
# A query name or value as Postman sends it: these would end or split the entry.
QUERY_ESCAPES = str.maketrans({"%": "%25", "&": "%26", "#": "%23", "+": "%2B", "=": "%3D"})
POSTMAN_GRANTS = {grant: kind for kind, grant in GRANTS.items()}
SECRET_VARIABLES = {
    ("basic", "password"): "basicPassword",
    ("bearer", "token"): "bearerToken",
    ("oauth1", "consumer_secret"): "oauth1ConsumerSecret",
    ("oauth1", "token"): "oauth1Token",
    ("oauth1", "token_secret"): "oauth1TokenSecret",
    ("oauth1", "rsa_private_key"): "oauth1PrivateKey",
    ("oauth2", "client_secret"): "oauth2ClientSecret",
    ("oauth2", "password"): "oauth2Password",
    ("oauth2", "refresh_token"): "oauth2RefreshToken",
}


def write(document: ApiDocument) -> dict[str, Any]:
    """The collection: info, the requests as items, the API's auth, the variables."""
    variables = _Variables(document)
    info: dict[str, Any] = {"name": document.name, "schema": SCHEMA}
    if document.description:
        info["description"] = document.description
    auth = _auth(document, variables)
    collection: dict[str, Any] = {
        "info": info,
        "item": _folders([(r.name, _item(r, document, variables)) for r in document.requests]),
    }
    if auth is not None:
        collection["auth"] = auth
    collection["variable"] = variables.collection
    return collection


class _Variables:
    """The collection's variables: the base URL, each parameter's declaration (the first
    request's on the collection, another on the request that differs), and the secrets
    left to fill."""

    def __init__(self, document: ApiDocument) -> None:
        self._taken = {name_key(p.name) for r in document.requests for p in r.parameters}
        self.base = self._free(BASE_URL)
        self.collection: list[dict[str, Any]] = [
            {"key": self.base, "value": document.base_url, "type": "string"}
        ]
        self._declared: dict[str, dict[str, Any]] = {}

    def _free(self, name: str) -> str:
        """`name`, or numbered, clear of the parameters and the variables so far."""
        candidate, number = name, 2
        while name_key(candidate) in self._taken:
            candidate, number = f"{name}{number}", number + 1
        self._taken.add(name_key(candidate))
        return candidate

    def secret(self, scheme: str, field: str) -> str:
        name = self._free(SECRET_VARIABLES[(scheme, field)])
        self.collection.append(
            {
                "key": name,
                "value": "",
                "type": "string",
                "description": f"The {scheme} {field.replace('_', ' ')}: a secret, not written.",
            }
        )
        return name

    def declare(self, parameter: RequestParameter, used: bool) -> dict[str, Any] | None:
        """The parameter on the collection; what the request declares itself instead when
        it does not use the parameter, or the collection has another declaration of it."""
        entry: dict[str, Any] = {"key": parameter.name, "type": KINDS[parameter.type]}
        if parameter.default is not None:
            entry["value"] = parameter.default
        if parameter.description:
            entry["description"] = parameter.description
        if not used:
            return entry
        known = self._declared.setdefault(parameter.name, entry)
        if known is entry:
            self.collection.append(entry)
            return None
        return None if known == entry else entry


def not_carried(document: ApiDocument) -> list[str]:
    """What the API holds that a collection has no place for, each by where it is: what an
    export tells, as an import tells what it could not carry."""
    lost = [
        what
        for what, held in (
            (f"type {document.type}", document.type != "api"),
            (f"service {document.service}", document.service is not None),
            ("authorization livevox", document.authorization.type == "livevox"),
        )
        if held
    ]
    for request in document.requests:
        fields = [
            name
            for name, held in (
                ("outputs", request.outputs),
                ("timeout", request.timeout is not None),
                ("success_statuses", request.success_statuses),
                ("url_path", request.url_path),
            )
            if held
        ]
        if fields:
            lost.append(f"request {request.name!r}: {', '.join(fields)}")
    return lost


def _item(request: RequestDocument, document: ApiDocument, variables: _Variables) -> dict[str, Any]:
    own = {name_key(h.name) for h in request.headers}
    headers = [h for h in document.headers if name_key(h.name) not in own] + request.headers
    written: dict[str, Any] = {
        "method": request.method,
        "header": [
            _entry("key", h.name, "" if h.secret else to_postman(h.value), h.enabled, type="text")
            for h in headers
        ],
        "url": _url(request, variables.base),
    }
    body = _body(request)
    if body is not None:
        written["body"] = body
    if request.description:
        written["description"] = request.description
    item: dict[str, Any] = {"name": request.name, "request": written}
    used = _roots(request)
    own_variables = [
        v for p in request.parameters if (v := variables.declare(p, p.name in used)) is not None
    ]
    if own_variables:
        item["variable"] = own_variables
    item["response"] = [
        {
            "name": sample.name,
            "code": sample.status,
            "status": _reason(sample.status),
            "header": [{"key": h.name, "value": to_postman(h.value)} for h in sample.headers],
            "body": sample.body,
        }
        for sample in request.samples
    ]
    return item


def _folders(items: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Items in folders, as their names say: "Users / Get user" is "Get user" in the folder
    "Users", which reading gives back as the same name. Only requests next to each other
    share a folder, so the order stays."""
    top: list[dict[str, Any]] = []
    open_: list[tuple[str, list[dict[str, Any]]]] = []  # the folders the last item is in
    for name, item in items:
        *folders, own = name.split(NAME_SEPARATOR)
        if any(not part or part != part.strip() for part in [*folders, own]):
            folders, own = [], name
        depth = 0
        while depth < min(len(open_), len(folders)) and open_[depth][0] == folders[depth]:
            depth += 1
        del open_[depth:]
        for folder in folders[depth:]:
            inside: list[dict[str, Any]] = []
            (open_[-1][1] if open_ else top).append({"name": folder, "item": inside})
            open_.append((folder, inside))
        item["name"] = own
        (open_[-1][1] if open_ else top).append(item)
    return top


def _roots(request: RequestDocument) -> set[str]:
    """The names the request's placeholders start with."""
    found = [request.url_path, request.endpoint_path, request.body or ""]
    found += [e.value for e in [*request.query, *request.form]]
    found += [h.value for h in request.headers]
    return {p.root for text in found for p in templates.placeholders(text)}


def _entry(key_name: str, key: str, value: str, enabled: bool, **more: str) -> dict[str, Any]:
    entry: dict[str, Any] = {key_name: key, "value": value, **more}
    if not enabled:
        entry["disabled"] = True
    return entry


def _url(request: RequestDocument, base: str) -> dict[str, Any]:
    # The path as Callout joins it (one slash at each join, a trailing one kept).
    path = join_url("http://h", request.url_path, request.endpoint_path)[len("http://h/") :]
    segments = to_postman(path).split("/") if path else []
    query = [
        _entry(
            "key",
            q.name.translate(QUERY_ESCAPES),
            to_postman(q.value).translate(QUERY_ESCAPES),
            q.enabled,
        )
        for q in request.query
    ]
    raw = "{{" + base + "}}" + "".join("/" + s for s in segments)
    sent = [f"{q['key']}={q['value']}" for q in query if not q.get("disabled")]
    if sent:
        raw += "?" + "&".join(sent)
    url: dict[str, Any] = {"raw": raw, "host": ["{{" + base + "}}"], "path": segments}
    if query:
        url["query"] = query
    return url


def _body(request: RequestDocument) -> dict[str, Any] | None:
    kind = request.content_type
    if kind in ("form", "multipart") and request.form:  # none sent, as Postman sends none
        mode = "urlencoded" if kind == "form" else "formdata"
        return {
            "mode": mode,
            mode: [
                _entry("key", f.name, to_postman(f.value), f.enabled, type="text")
                for f in request.form
            ],
        }
    if request.body is None or kind not in LANGUAGES:
        return None
    return {
        "mode": "raw",
        "raw": to_postman(request.body),
        "options": {"raw": {"language": LANGUAGES[kind]}},
    }


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _auth(document: ApiDocument, variables: _Variables) -> dict[str, Any] | None:
    """The collection's auth; each secret that is set or missing is a `{{variable}}` the
    user fills in Postman, never its value. None when Postman has no such auth."""
    authorization = document.authorization
    kind = authorization.type

    def secret(name: str) -> str | None:
        needed = (
            getattr(authorization, name, None) is not None
            or f"authorization.{name}" in document.missing_secrets
            or name in authorization.required_secrets()
        )
        return "{{" + variables.secret(kind, name) + "}}" if needed else None

    params: dict[str, Any]
    if isinstance(authorization, BasicAuth):
        params = {"username": authorization.username, "password": secret("password")}
    elif isinstance(authorization, BearerAuth):
        params = {"token": _token(authorization) or secret("token")}
    elif isinstance(authorization, OAuth1Auth):
        params = {
            "consumerKey": authorization.consumer_key,
            "signatureMethod": authorization.signature_method,
            "realm": authorization.realm,
            "addParamsToHeader": authorization.placement == "header",
            "version": "1.0",
        }
        params.update({key: secret(name) for name, key in OAUTH1_SECRETS.items()})
    elif isinstance(authorization, OAuth2Auth):
        params = _oauth2(authorization, secret)
    else:
        return None  # none, or LiveVox's sessions
    entries = [
        {"key": key, "value": value, "type": "boolean" if isinstance(value, bool) else "string"}
        for key, value in params.items()
        if value is not None and value != ""
    ]
    return {"type": kind, kind: entries}


def _token(authorization: BearerAuth) -> str | None:
    """A bearer token made only of placeholders (the call's context gives it) is no
    secret: it is written as Postman variables."""
    token = authorization.token
    text = to_postman(token.get_secret_value()) if token is not None else ""
    return text if text and not VARIABLE.sub("", text) else None


def _oauth2(auth: OAuth2Auth, secret: Callable[[str], str | None]) -> dict[str, Any]:
    pkce = auth.pkce if auth.grant == "authorization_code" else False
    params: dict[str, Any] = {
        "grant_type": POSTMAN_GRANTS.get((auth.grant, pkce), auth.grant),
        "accessTokenUrl": auth.token_url,
        "authUrl": auth.authorization_url,
        "clientId": auth.client_id,
        "clientSecret": secret("client_secret"),
        "client_authentication": "body" if auth.client_auth == "post" else "header",
        "scope": auth.scope,
        "audience": auth.audience,
        "addTokenTo": "queryParams" if auth.placement == "query" else "header",
        "headerPrefix": auth.header_prefix,
    }
    if auth.grant == "password":
        params.update(username=auth.username, password=secret("password"))
    if auth.grant == "refresh_token":
        params["refreshToken"] = secret("refresh_token")
    if auth.extra_token_params:
        params["tokenRequestParams"] = [
            {
                "key": p.name,
                "value": to_postman(p.value),
                "enabled": p.enabled,
                "send_as": "request_body",
            }
            for p in auth.extra_token_params
        ]
    return params
