"""The request plan: an API and one of its requests merged into what the executor sends.

A plan is built once per request version (and API version) and cached; everything a call
needs is in it, templates parsed and JSONPaths compiled, so the hot path reads no database
and parses nothing but the response.
"""

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlsplit, urlunsplit

import jsonpath_rfc9535
from jsonpath_rfc9535.selectors import IndexSelector, NameSelector

from callout.apis.authorization import BasicAuth, OAuth2Auth, Scheme
from callout.apis.schemas import ApiFields, RequestFields, ResponseParameter
from callout.runtime import templates
from callout.runtime.credentials import (
    basic_credentials,
    client_basic_credentials,
    fixed_authorization,
)
from callout.runtime.templates import JsonTemplate, Part
from callout.runtime.trace import Redactor

DEFAULT_TIMEOUT = 10.0
CONTENT_TYPES = {
    "json": "application/json",
    "form": "application/x-www-form-urlencoded",
    "text": "text/plain; charset=utf-8",
    "xml": "application/xml; charset=utf-8",
}


def join_url(base_url: str, url_path: str, endpoint_path: str) -> str:
    """Join base URL, URL path and endpoint path with exactly one slash at each join.

        join_url("https://crm.example/api/", "/v2/", "customers/${id}")
        -> "https://crm.example/api/v2/customers/${id}"

    Empty parts add nothing; a trailing slash on the last non-empty part is kept.
    """
    parts = urlsplit(base_url)
    pieces = [parts.path.rstrip("/")]
    for piece in (url_path, endpoint_path):
        if piece.strip("/"):
            pieces.append(piece.strip("/"))
    path = "/".join(pieces)
    last = endpoint_path if endpoint_path.strip("/") else url_path if url_path.strip("/") else ""
    if last.endswith("/") or (not last and parts.path.endswith("/")):
        path += "/"
    if not path.startswith("/"):
        path = "/" + path
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


@dataclass(frozen=True)
class Owner:
    """Whose credentials: a client's API as it is now (a change to the API is a new version,
    so its tokens are new too)."""

    client_id: int
    api_id: int
    api_version: int

    def key(self, scheme: str) -> str:
        return f"{scheme}:{self.client_id}:{self.api_id}:{self.api_version}"


@dataclass(frozen=True, slots=True)
class PlanKey:
    """What a plan was built from: a newer version of either means a new plan."""

    client_id: int
    api_id: int
    request_id: int
    api_version: int
    request_version: int

    @property
    def owner(self) -> Owner:
        """Whose credentials a token or session is: the API as it is now, for this client."""
        return Owner(self.client_id, self.api_id, self.api_version)


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    type: str
    required: bool
    default: Any
    secret: bool  # its value is masked wherever the call shows what it sent


@dataclass(frozen=True, slots=True)
class Output:
    name: str
    source: str  # body, header, status
    path: str
    jsonpath: jsonpath_rfc9535.JSONPathQuery | None
    # A singular JSONPath (names and indexes only, e.g. $.customer.name) as its steps: the
    # same result as the query by RFC 9535 section 2.3.3, read by plain lookups.
    steps: tuple[str | int, ...] | None
    type: str
    array: bool
    default: Any
    field: str | None  # data field to fill, or None for an alert
    message: tuple[Part, ...]


@dataclass(frozen=True, slots=True)
class HeaderTemplate:
    name: str
    value: tuple[Part, ...]
    secret: bool
    fixed: str | None  # the value, when it holds no placeholder


@dataclass(frozen=True, slots=True)
class Sample:
    name: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass(frozen=True)
class Plan:
    key: PlanKey
    api_name: str
    request_name: str
    api_type: str
    method: str
    origin: str  # scheme://host[:port]
    base_path: str  # the base URL's path, which every rendered URL must keep
    path: tuple[Part, ...]
    query: tuple[tuple[str, tuple[Part, ...]], ...]  # names form-encoded already
    headers: tuple[HeaderTemplate, ...]
    content_type: str
    body: JsonTemplate | tuple[Part, ...] | None
    form: tuple[tuple[str, tuple[Part, ...]], ...]
    parameters: tuple[Parameter, ...]
    declared: frozenset[str]  # the parameters' names
    secret_parameters: tuple[str, ...]
    secret_body: bool  # a secret parameter is placed in the body or form
    outputs: tuple[Output, ...]
    timeout: float
    success: frozenset[int] | None  # None: any 2xx
    follow_redirects: bool  # unless a redirect is itself a declared success
    authorization: Scheme
    authorized: bool  # the headers hold the whole proof: no scheme runs per call
    redactor: Redactor  # masks every stored secret wherever it shows up again
    samples: tuple[Sample, ...]

    def __repr__(self) -> str:  # a plan holds secrets: never print them
        return f"Plan({self.api_name!r} / {self.request_name!r}, {self.key})"

    def is_success(self, status: int) -> bool:
        return 200 <= status < 300 if self.success is None else status in self.success


def compile_plan(key: PlanKey, api: ApiFields, request: RequestFields) -> Plan:
    """Merge an API and its request, with their secrets in the clear, into a plan."""
    url = join_url(api.base_url, request.url_path, request.endpoint_path)
    split = urlsplit(url)
    merged: dict[str, HeaderTemplate] = {}
    for header in [*api.headers, *request.headers]:  # a request's header overrides its API's
        if header.enabled:
            merged[header.name.lower()] = _header(header.name, header.value, header.secret)
    content_type = CONTENT_TYPES.get(request.content_type)
    if content_type and "content-type" not in merged:
        merged["content-type"] = _header("Content-Type", content_type, False)
    fixed = fixed_authorization(api.authorization)
    if fixed is not None:  # the scheme's header wins over one set by hand
        merged["authorization"] = HeaderTemplate("Authorization", (fixed,), True, fixed)
    secrets = {h.value for h in [*api.headers, *request.headers] if h.secret and h.value}
    for name in api.authorization.secret_fields():
        value = getattr(api.authorization, name)
        if value is not None and value.get_secret_value():
            secrets.add(value.get_secret_value())
    # What goes on the wire base64-encoded, where an upstream may echo it.
    if isinstance(api.authorization, BasicAuth):
        secrets.add(basic_credentials(api.authorization))
    elif isinstance(api.authorization, OAuth2Auth):
        secrets.add(client_basic_credentials(api.authorization) or "")
    return Plan(
        key=key,
        api_name=api.name,
        request_name=request.name,
        api_type=api.type,
        method=request.method,
        origin=f"{split.scheme}://{split.netloc}",
        base_path=urlsplit(api.base_url).path.rstrip("/"),
        path=templates.parse(split.path),
        query=tuple(
            (quote_plus(q.name), templates.parse(q.value)) for q in request.query if q.enabled
        ),
        headers=tuple(merged.values()),
        content_type=request.content_type,
        body=_body(request),
        form=tuple((f.name, templates.parse(f.value)) for f in request.form if f.enabled),
        parameters=tuple(
            Parameter(p.name, p.type, p.required, p.default, p.secret) for p in request.parameters
        ),
        declared=frozenset(p.name for p in request.parameters),
        secret_parameters=tuple(p.name for p in request.parameters if p.secret),
        secret_body=_secret_body(request),
        outputs=tuple(_output(o) for o in request.outputs),
        timeout=request.timeout or DEFAULT_TIMEOUT,
        success=frozenset(request.success_statuses) or None,
        follow_redirects=not any(300 <= s < 400 for s in request.success_statuses),
        authorization=api.authorization,
        authorized=fixed is not None or api.authorization.type == "none",
        redactor=Redactor(secrets, [h.name for h in merged.values() if h.secret]),
        samples=tuple(
            Sample(s.name, s.status, tuple((h.name, h.value) for h in s.headers), s.body.encode())
            for s in request.samples
        ),
    )


def _body(request: RequestFields) -> JsonTemplate | tuple[Part, ...] | None:
    if request.body is None:
        return None
    if request.content_type == "json":
        return templates.compile_json(json.loads(request.body))
    return templates.parse(request.body)


def _secret_body(request: RequestFields) -> bool:
    """Whether the body or a form field places a secret parameter."""
    secret = {p.name for p in request.parameters if p.secret}
    texts = [request.body or "", *(f.value for f in request.form if f.enabled)]
    return any(p.root in secret for text in texts for p in templates.placeholders(text))


def _header(name: str, value: str, secret: bool) -> HeaderTemplate:
    parts = templates.parse(value)
    fixed = value if all(isinstance(p, str) for p in parts) else None
    return HeaderTemplate(name, parts, secret, "".join(parts) if fixed is not None else None)  # type: ignore[arg-type]


def _output(output: ResponseParameter) -> Output:
    jsonpath = None
    if output.source == "body" and output.path.startswith("$"):
        jsonpath = jsonpath_rfc9535.compile(output.path)
    return Output(
        name=output.name,
        source=output.source,
        path=output.path,
        jsonpath=jsonpath,
        steps=_steps(jsonpath),
        type=output.type,
        array=output.array,
        default=output.default,
        field=(output.field or output.name) if output.target == "field" else None,
        message=templates.parse(output.message),
    )


def _steps(query: jsonpath_rfc9535.JSONPathQuery | None) -> tuple[str | int, ...] | None:
    """A singular query's names and indexes, in order; None for any other query."""
    if query is None or not query.singular_query():
        return None
    steps: list[str | int] = []
    for segment in query.segments:
        (selector,) = segment.selectors
        if isinstance(selector, NameSelector):
            steps.append(selector.name)
        elif isinstance(selector, IndexSelector):
            steps.append(selector.index)
        else:
            return None
    return tuple(steps)
