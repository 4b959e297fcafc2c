"""A Postman request's URL taken apart, and the one base URL a Callout API gets.

Postman keeps a URL as text (`raw`) and, mostly, in parts too: protocol, host, port, path
segments, query entries (with `disabled`, which `raw` cannot show) and path variables
(`:id`). The parts are read when present, else `raw`. A Callout API has one base URL that
every request's path follows: the most common start of the requests' URLs, as written
(`{{baseUrl}}`, or `https://api.example.com` and the path segments all its requests share),
with the collection's variables filled in.
"""

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from callout.apis.fields import check_base_url
from callout.interchange.postman.variables import VARIABLE, Scope, resolve

PROTOCOL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
# Where the base URL points when the collection does not say (an environment gave it).
STAND_IN = "https://example.invalid"


@dataclass
class Url:
    head: str  # protocol, host and port as written: "https://api.example.com", "{{baseUrl}}"
    path: list[str]  # segments as written, `:id` for a path variable
    query: list[Any] = field(default_factory=list)  # Postman's entries: {key, value, disabled}
    variables: dict[str, Any] = field(default_factory=dict)  # path variables by key
    hash: str = ""
    credentials: bool = False  # `user:password@` before the host


def split(url: Any) -> Url | None:
    """A request's `url` (text or parts) taken apart; None when it names no host."""
    if isinstance(url, str):
        return _raw(url)
    if not isinstance(url, dict):
        return None
    host = url.get("host")
    found = None
    if host is None or host == [] or host == "":
        found = _raw(url["raw"]) if isinstance(url.get("raw"), str) else None
    else:
        hosts = host if isinstance(host, list) else [host]
        head = ".".join(h for h in hosts if isinstance(h, str))
        protocol, port = url.get("protocol"), url.get("port")
        if isinstance(protocol, str) and protocol:
            head = f"{protocol}://{head}"
        if isinstance(port, str | int) and str(port):
            head += f":{port}"
        head, credentials = _without_credentials(head)
        found = Url(head, _segments(url.get("path")), credentials=credentials)
        hash_ = url.get("hash")
        found.hash = hash_ if isinstance(hash_, str) else ""
    if found is None or not found.head:
        return None
    if isinstance(url.get("query"), list):
        found.query = url["query"]
    variables = url.get("variable")
    if isinstance(variables, list):
        for entry in variables:
            if isinstance(entry, dict) and isinstance(entry.get("key"), str):
                found.variables[entry["key"]] = entry
    return found


def _segments(path: Any) -> list[str]:
    if isinstance(path, str):
        return path.lstrip("/").split("/") if path.strip("/") else []
    if not isinstance(path, list):
        return []
    segments = []
    for segment in path:
        if isinstance(segment, dict):
            segment = segment.get("value")
        segments.append(segment if isinstance(segment, str) else "")
    return segments


def _raw(raw: str) -> Url | None:
    text, _, hash_ = raw.strip().partition("#")
    text, _, query = text.partition("?")
    match = PROTOCOL.match(text)
    start = match.end() if match else 0
    slash = text.find("/", start)
    head, rest = (text, "") if slash < 0 else (text[:slash], text[slash + 1 :])
    head, credentials = _without_credentials(head)
    if not head[start:]:
        return None
    entries: list[Any] = []
    for pair in query.split("&") if query else []:
        key, equals, value = pair.partition("=")
        entries.append({"key": key, "value": value if equals else None})
    return Url(head, rest.split("/") if rest else [], entries, {}, hash_, credentials)


def _without_credentials(head: str) -> tuple[str, bool]:
    match = PROTOCOL.match(head)
    start = match.end() if match else 0
    at = head.rfind("@", start)
    if at < 0:
        return head, False
    return head[:start] + head[at + 1 :], True


def absolute(head: str, scope: Scope) -> str | None:
    """A URL's start with the collection's variables filled in, as a base URL Callout
    takes; None when a variable has no value here or the result is not one."""
    text = resolve(head, scope)
    if text is None:
        return None
    text = text.strip().rstrip("/")
    if not PROTOCOL.match(text):
        text = "http://" + text  # as Postman sends a URL without a protocol
    try:
        text = check_base_url(text)
    except ValueError:
        return None
    parts = urlsplit(text)
    if (parts.scheme, parts.port) in (("http", 80), ("https", 443)):  # said, not needed
        text = urlunsplit(parts._replace(netloc=parts.netloc.rsplit(":", 1)[0]))
    return text


@dataclass(frozen=True)
class Base:
    """The API's base URL, and what of each request's URL it stands for."""

    url: str
    head: str  # the start of a request's URL, as written, that the base URL is
    segments: tuple[str, ...]  # path segments the base URL also holds
    known: bool  # False: a stand-in, the collection does not give it


def choose(urls: list[Url], scope: Scope) -> Base:
    """The most common start of the requests' URLs as the base URL; with a fixed host,
    also the path segments (before each one's last) that all those requests share."""
    if not urls:
        return Base(STAND_IN, "", (), False)
    head = Counter(url.head for url in urls).most_common(1)[0][0]
    url = absolute(head, scope)
    if url is None:
        return Base(STAND_IN, head, (), False)
    shared: tuple[str, ...] = ()
    chosen = [u for u in urls if u.head == head]
    if not VARIABLE.search(head) and len(chosen) > 1:
        shared = tuple(_common([u.path[:-1] for u in chosen]))
        candidate = url + "".join("/" + s for s in shared)
        try:
            url = check_base_url(candidate)
        except ValueError:
            shared = ()
    return Base(url, head, shared, True)


def _common(paths: list[list[str]]) -> list[str]:
    common: list[str] = []
    for segments in zip(*paths, strict=False):
        first = segments[0]
        if any(s != first for s in segments) or not _literal(first):
            break
        common.append(first)
    return common


def _literal(segment: str) -> bool:
    return bool(segment) and not segment.startswith(":") and "{{" not in segment


def remainder(url: Url, base: Base, scope: Scope) -> list[str] | None:
    """The request's path segments after the base URL; None when the request does not
    start with it (another host)."""
    if url.head == base.head:
        if url.path[: len(base.segments)] != list(base.segments):
            return None
        return url.path[len(base.segments) :]
    here = absolute(url.head, scope)  # written otherwise, the same when filled in?
    if here is None or not base.known:
        return None
    full = "/".join([here, *url.path])
    if full == base.url:
        return []
    if not full.startswith(base.url + "/"):
        return None
    return full[len(base.url) + 1 :].split("/")
