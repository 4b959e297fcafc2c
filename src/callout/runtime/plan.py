"""The request plan: an API and one of its requests merged into what the executor sends.

A plan is built once per request version (and API version) and cached; everything a call
needs is in it, templates parsed and JSONPaths compiled, so the hot path reads no database
and parses nothing but the response. It is the runtime's own frozen value: what it is built
from (the stored API and request) is compiled into it outside the runtime
(invocations/compile.py).
"""

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import jsonpath_rfc9535
from jsonpath_rfc9535.selectors import IndexSelector, NameSelector

from callout.runtime import templates
from callout.runtime.auth.base import Scheme
from callout.runtime.auth.tokens import Owner
from callout.runtime.templates import JsonTemplate, Part
from callout.runtime.trace import Redactor


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

    @classmethod
    def of(
        cls,
        name: str,
        source: str,
        path: str,
        type: str,
        array: bool,
        default: Any,
        field: str | None,
        message: str,
    ) -> "Output":
        """An output with its JSONPath compiled (a body's, when it is one) and its alert's
        message parsed."""
        jsonpath = None
        if source == "body" and path.startswith("$"):
            jsonpath = jsonpath_rfc9535.compile(path)
        steps = _steps(jsonpath)
        return cls(
            name,
            source,
            path,
            jsonpath,
            steps,
            type,
            array,
            default,
            field,
            templates.parse(message),
        )


@dataclass(frozen=True, slots=True)
class HeaderTemplate:
    name: str
    value: tuple[Part, ...]
    secret: bool
    fixed: str | None  # the value, when it holds no placeholder

    @classmethod
    def of(cls, name: str, value: str, secret: bool) -> "HeaderTemplate":
        parts = templates.parse(value)
        texts = [part for part in parts if isinstance(part, str)]
        return cls(name, parts, secret, "".join(texts) if len(texts) == len(parts) else None)


@dataclass(frozen=True, slots=True)
class Sample:
    name: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass(frozen=True, slots=True)
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
    unset: str | None  # why a call cannot be sent: secret headers with no value stored
    redactor: Redactor  # masks every stored secret wherever it shows up again
    samples: tuple[Sample, ...]

    def __repr__(self) -> str:  # a plan holds secrets: never print them
        return f"Plan({self.api_name!r} / {self.request_name!r}, {self.key})"

    def is_success(self, status: int) -> bool:
        return 200 <= status < 300 if self.success is None else status in self.success


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
