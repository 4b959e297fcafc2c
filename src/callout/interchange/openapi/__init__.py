"""OpenAPI 3.0 and 3.1 descriptions as Callout APIs: one API per document, one request per
operation, and a note for each thing Callout cannot carry.

    info.title, description     -> the API's name (cut to the name limit) and description
    servers[0]                  -> base URL, variables at their defaults
    paths.<path>.<method>       -> a request (requests.py)
    components.securitySchemes  -> authorization and secret headers (security.py)
    webhooks, callbacks, links, cookies, other media types -> notes

The base URL must be an absolute http(s) URL. A document with no server, or a relative
one (`/v3`, meant relative to where the document is served), gets the base URL
`https://server.invalid` plus that path, and a note: `.invalid` never resolves (RFC 6761),
so nothing is called until the API's base URL is set. Swagger 2.0 and any `$ref` outside
the file are refused; so is a `$ref` loop. An operation that cannot be carried is skipped
with a note, and operations past the 1,000 requests an API holds are left out with one.
"""

import re
from collections.abc import Sequence
from pathlib import PurePath
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from callout.apis.fields import check_base_url
from callout.apis.names import cut, unique_name
from callout.interchange.loading import unreadable
from callout.interchange.openapi.document import (
    Document,
    PathItem,
    Server,
    Unusable,
    entries,
    first_problem,
    read_document,
    refuse,
)
from callout.interchange.openapi.names import describe, text
from callout.interchange.openapi.requests import Builder
from callout.interchange.openapi.security import Requirement, security_of
from callout.interchange.schemas import ApiDocument, Converted, Note, RequestDocument
from callout.schemas import CONTROL, MAX_NAME, name_key

UNKNOWN_SERVER = "https://server.invalid"
MAX_REQUESTS = 1000
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
VARIABLE = re.compile(r"\{([^{}]*)\}")
NUMBERING = " ({})"  # a second "Get pet" is "Get pet (2)"
LISTED = 10  # names a note lists before saying how many more


class Notes:
    """The notes of one file, in the order the import met what they are about."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[Note] = []

    def add(self, where: str, message: str) -> None:
        self.items.append(Note(source=self.source, where=where, message=message))


def read(data: Any, source: str) -> Converted:
    """One OpenAPI 3.0 or 3.1 description (as `loading.parse` gave it) as one API."""
    document = read_document(data, source)
    notes = Notes(source)
    # Paths are read one operation at a time (below); 3.0's model requires the field.
    top_fields = {k: v for k, v in data.items() if k in ("info", "servers", "security")}
    top_fields["paths"] = {}
    try:
        top = document.validate(top_fields, document.models.top, "")
    except Unusable as unusable:
        raise refuse(source, unusable) from None
    base_url = _base_url(top.servers if "servers" in data else [], notes)
    requests, requirements = _requests(document, notes)
    if not entries(data.get("paths")):
        # A file cut short before its paths (or one of webhooks only): an empty API would
        # hide that. Operations present but none carried are named in the notes instead.
        raise unreadable(source, "describes no operation under `paths`: nothing to import")
    security = security_of(document, base_url, top.security, requirements)
    for where, message in security.notes:
        notes.add(where, message)
    webhooks = entries(data.get("webhooks"))
    if webhooks:
        notes.add(
            "webhooks",
            f"webhooks ({', '.join(name for name, _ in webhooks)}) are calls the API makes; "
            "not carried",
        )
    info = top.info
    name = _name(info.title, source)
    if len(info.title) > MAX_NAME:
        notes.add(
            "info.title", f"the API is named {name}: a name has at most {MAX_NAME} characters"
        )
    fields = {
        "callout": 1,
        "name": name,
        "description": describe(getattr(info, "summary", None), info.description),
        "base_url": base_url,
        "headers": security.headers,
        "authorization": security.authorization,
        "requests": requests,
        "missing_secrets": security.missing_secrets,
    }
    try:
        api = ApiDocument.model_validate(fields)
    except ValidationError as error:
        where, message = first_problem(error, "")
        raise unreadable(source, f"cannot be carried: {message}", where) from None
    return Converted(format="openapi", documents=[api], notes=notes.items)


def _name(title: str, source: str) -> str:
    """The API's name: the title on one line within the name limit, or the file's name."""
    name = cut(" ".join(CONTROL.sub(" ", title).split()), MAX_NAME)
    return name or cut(PurePath(source).stem, MAX_NAME) or "OpenAPI"


def _base_url(servers: Sequence[Server], notes: Notes) -> str:
    """The first server's URL with its variables at their defaults."""
    if not servers:
        notes.add(
            "servers",
            f"no server is given: the base URL is {UNKNOWN_SERVER}; set the API's base URL",
        )
        return UNKNOWN_SERVER
    server = servers[0]
    variables = server.variables or {}
    url = VARIABLE.sub(
        lambda m: variables[m.group(1)].default if m.group(1) in variables else m.group(0),
        server.url.strip(),
    )
    parts = urlsplit(url)
    if not parts.scheme and not parts.netloc:
        path = "/".join(segment for segment in parts.path.split("/") if segment)
        base = f"{UNKNOWN_SERVER}/{path}" if path else UNKNOWN_SERVER
        notes.add(
            "servers[0].url",
            f"{server.url} is relative to where the document is served: the base URL is "
            f"{base}; set its host",
        )
        return base
    base = url.rstrip("/")
    try:
        return check_base_url(base)
    except ValueError as error:
        notes.add(
            "servers[0].url",
            f"{server.url} {error}: the base URL is {UNKNOWN_SERVER}; set the API's base URL",
        )
        return UNKNOWN_SERVER


def _requests(
    document: Document, notes: Notes
) -> tuple[list[RequestDocument], list[tuple[str, list[Requirement] | None]]]:
    """The requests the operations make, in the document's order, and each operation's
    security requirements (None where it has none of its own)."""
    requests: list[RequestDocument] = []
    requirements: list[tuple[str, list[Requirement] | None]] = []
    taken: set[str] = set()
    left_out: list[str] = []
    for path, raw in entries(document.data.get("paths")):
        if path.startswith("x-"):
            continue
        where = f"paths.{path}"
        try:
            item_raw = document.resolved(raw, where)
            if not isinstance(item_raw, dict):
                raise Unusable(where, "is not a path item")
            shared = {k: v for k, v in item_raw.items() if k not in METHODS}
            item = document.validate(shared, document.models.path_item, where)
        except Unusable as unusable:
            notes.add(unusable.where, f"skipped: {unusable.message}")
            continue
        for method in METHODS:
            if method not in item_raw:
                continue
            at = f"{where}.{method}"
            if method == "trace":
                notes.add(at, "skipped: Callout does not send TRACE")
                continue
            if len(requests) == MAX_REQUESTS:
                left_out.append(_operation_name(item_raw[method], method, path))
                continue
            request = _request(document, path, method, item, item_raw[method], taken, notes)
            if request is not None:
                requests.append(request[0])
                requirements.append(request[1])
    if left_out:
        more = f" and {len(left_out) - LISTED} more" if len(left_out) > LISTED else ""
        notes.add(
            "paths",
            f"{len(left_out)} operations beyond the {MAX_REQUESTS:,} requests an API holds "
            f"were left out: {', '.join(left_out[:LISTED])}{more}",
        )
    return requests, requirements


def _request(
    document: Document,
    path: str,
    method: str,
    item: PathItem,
    raw: Any,
    taken: set[str],
    notes: Notes,
) -> tuple[RequestDocument, tuple[str, list[Requirement] | None]] | None:
    """One operation as a request, or None (with a note) when it cannot be carried."""
    at = f"paths.{path}.{method}"
    try:
        operation = document.validate(raw, document.models.operation, at)
        wanted = _operation_name(raw, method, path)
        name = unique_name(wanted, taken, NUMBERING)
        built = Builder(document, path, method, item, operation).build(name)
    except Unusable as unusable:
        notes.add(unusable.where, f"skipped: {unusable.message}")
        return None
    try:
        request = RequestDocument.model_validate(built.request)
    except ValidationError as error:
        where, message = first_problem(error, at)
        notes.add(where, f"skipped: {message}")
        return None
    taken.add(name_key(name))
    if name != wanted:
        notes.add(at, f"named {name}: {wanted} is taken or too long")
    for where, message in built.notes:
        notes.add(where, message)
    return request, (f"{at}.security", operation.security)


def _operation_name(raw: Any, method: str, path: str) -> str:
    """operationId, or `GET /pets/{id}`, on one line."""
    operation_id = raw.get("operationId") if isinstance(raw, dict) else None
    wanted = operation_id if isinstance(operation_id, str) else ""
    wanted = " ".join(CONTROL.sub(" ", text(wanted)).split())
    return wanted or f"{method.upper()} {' '.join(CONTROL.sub(' ', path).split())}"
