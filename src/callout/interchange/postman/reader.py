"""Reading a Postman collection (v2.0 or v2.1) into one Callout API document.

The collection is the API; each request in it, at any folder depth, one of its requests,
named with its folders in front ("Users / Get user"). What Callout cannot carry (scripts,
unsupported auth, files, request settings) is a note saying where in the file it is, and
a request that cannot be made valid is left out with a note: nothing goes silently.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from callout.apis.fields import Header
from callout.apis.names import COPY_NUMBERING, cut, unique_name
from callout.apis.schemas import CONTEXT_ROOTS
from callout.apis.secret_fields import header_field
from callout.interchange.loading import unreadable
from callout.interchange.postman.auth import Auth, Carried, as_headers, auth_of, scheme
from callout.interchange.postman.notes import (
    NAME_SEPARATOR,
    Notes,
    clean_name,
    description,
    problem,
)
from callout.interchange.postman.request import Item, RequestReader
from callout.interchange.postman.urls import STAND_IN, choose, remainder, split
from callout.interchange.postman.variables import Names, Scope, scope_of, text_of
from callout.interchange.schemas import ApiDocument, Converted, RequestDocument
from callout.runtime import templates
from callout.schemas import MAX_NAME, name_key

# Folders nest at most this deep; a deeper file is refused rather than walked.
MAX_FOLDERS = 50
MAX_REQUESTS = 1000  # as ApiDocument holds
VERSION = re.compile(r"/v(\d+)(?:\.\d+){0,2}/|#(\d+)\.\d+")  # .../v2.1.0/ or ...#2.0.0


def read(data: Any, source: str) -> Converted:
    """A collection, as `loading.parse` gave it, as one API document and notes."""
    _check(data, source)
    return _Reader(data, source).converted()


def _check(data: Any, source: str) -> None:
    """Refuse what is not a v2.0 or v2.1 collection, saying what it is instead."""
    if isinstance(data, dict) and isinstance(data.get("requests"), list) and "info" not in data:
        raise unreadable(
            source,
            "is a Postman collection v1; only v2.0 and v2.1 are read: export it again from "
            "Postman as Collection v2.1",
        )
    info = data.get("info") if isinstance(data, dict) else None
    if not isinstance(info, dict) or not isinstance(data.get("item"), list):
        raise unreadable(
            source, "is not a Postman collection: expected an object with `info` and `item`"
        )
    schema = info.get("schema", info.get("_postman_schema"))
    if not isinstance(schema, str):
        raise unreadable(
            source,
            "names no schema: a Postman collection export has one (v2.0 or v2.1)",
            "info.schema",
        )
    match = VERSION.search(schema)
    major = (match.group(1) or match.group(2)) if match else None
    if major != "2":
        version = f"v{major}" if major else "an unknown version"
        raise unreadable(
            source,
            f"is a Postman collection of {version}; only v2.0 and v2.1 are read: export it "
            "again from Postman as Collection v2.1",
            "info.schema",
        )


@dataclass
class _Folder:
    items: Iterator[tuple[int, Any]]
    where: str
    names: tuple[str, ...]
    auth: Auth | None
    scope: Scope


class _Reader:
    """One collection's reading: its variables, the names they take, and the notes."""

    def __init__(self, collection: dict[str, Any], source: str) -> None:
        self.collection = collection
        self.source = source
        self.notes = Notes(source)
        scope = scope_of(collection.get("variables"), {})  # an early spelling
        self.scope = scope_of(collection.get("variable"), scope)
        self.names = Names(self.scope)

    def converted(self) -> Converted:
        items = self._walk()
        if len(items) > MAX_REQUESTS:
            self.notes.add(
                items[MAX_REQUESTS].where,
                f"an API holds at most {MAX_REQUESTS} requests: this one and those after it "
                "are not carried",
            )
            items = items[:MAX_REQUESTS]
        source = self._api_auth(items)
        api = scheme(source, self.scope) if source else Carried()
        for message in api.messages:
            self.notes.add(source.where if source else "auth", message)
        base = self._base(items)
        reader = RequestReader(self.names, self.notes)
        taken: set[str] = set()
        requests = []
        for found in items:
            own = self._own_auth(found, source, api)
            name = self._name(found, taken)
            auths = [Carried(query=api.query), own]
            document = reader.read(found, name, auths) if found.url else None
            if document is not None:
                taken.add(name_key(document.name))
                requests.append(document)
        headers, missing = self._hoist(requests, api)
        info = self.collection["info"]
        fields = {
            "callout": 1,
            "name": cut(clean_name(info.get("name"), "Postman collection"), MAX_NAME),
            "description": description(info.get("description"), "info.description", self.notes),
            "base_url": base,
            "headers": headers,
            "authorization": api.authorization or {"type": "none"},
            "requests": requests,
            "missing_secrets": list(dict.fromkeys(api.missing + missing)),
        }
        try:
            made = ApiDocument.model_validate(fields)
        except ValidationError as error:
            raise unreadable(self.source, f"cannot be carried: {problem(error)}") from None
        return Converted(format="postman", documents=[made], notes=self.notes.items)

    def _walk(self) -> list[Item]:
        """The request items in the order Postman lists them, each with the auth and
        variables it inherits; walked with a stack of its own, so no depth exhausts
        Python's."""
        self._unsupported(self.collection, "")
        found: list[Item] = []
        stack = [
            _Folder(
                enumerate(self.collection["item"]),
                "item",
                (),
                auth_of(self.collection.get("auth"), "auth"),
                self.scope,
            )
        ]
        while stack:
            folder = stack[-1]
            step = next(folder.items, None)
            if step is None:
                stack.pop()
                continue
            index, item = step
            where = f"{folder.where}[{index}]"
            if not isinstance(item, dict):
                self.notes.add(where, "is neither a request nor a folder: not carried")
                continue
            self._unsupported(item, where + ".")
            scope = scope_of(item.get("variable"), folder.scope)
            if isinstance(item.get("item"), list):
                if len(stack) > MAX_FOLDERS:
                    raise unreadable(
                        self.source, f"folders nest deeper than {MAX_FOLDERS} levels", where
                    )
                name = clean_name(item.get("name"), "")
                stack.append(
                    _Folder(
                        enumerate(item["item"]),
                        where + ".item",
                        (*folder.names, name) if name else folder.names,
                        auth_of(item.get("auth"), where + ".auth") or folder.auth,
                        scope,
                    )
                )
            elif isinstance(item.get("request"), dict | str):
                request = item["request"]
                own = (
                    auth_of(request.get("auth"), where + ".request.auth")
                    if isinstance(request, dict)
                    else None
                )
                found.append(Item(item, where, folder.names, scope, own or folder.auth))
            else:
                self.notes.add(where, "is neither a request nor a folder: not carried")
        return found

    def _unsupported(self, item: dict[str, Any], prefix: str) -> None:
        """Notes for scripts and request settings, which Callout does not carry."""
        events = item.get("event")
        if isinstance(events, dict):
            events = [events]
        for index, event in enumerate(events if isinstance(events, list) else []):
            script = event.get("script") if isinstance(event, dict) else None
            lines = script.get("exec") if isinstance(script, dict) else None
            text = "\n".join(lines) if isinstance(lines, list) else text_of(lines)
            if text.strip():
                listen = event.get("listen")
                kind = {"prerequest": "pre-request", "test": "test"}.get(listen, str(listen))
                self.notes.add(
                    f"{prefix}event[{index}]",
                    f"the {kind} script is not carried: Callout runs no scripts",
                )
        if item.get("protocolProfileBehavior"):
            self.notes.add(
                f"{prefix}protocolProfileBehavior",
                "request settings (redirects, TLS, encoding) are not carried",
            )

    def _api_auth(self, items: list[Item]) -> Auth | None:
        """The collection's auth, or else the only one its requests use."""
        collection = auth_of(self.collection.get("auth"), "auth")
        if collection is not None:
            return None if collection.type == "noauth" else collection
        used: dict[str, Auth] = {}
        for item in items:
            if item.auth is not None and item.auth.type != "noauth":
                used.setdefault(item.auth.identity, item.auth)
        return next(iter(used.values())) if len(used) == 1 else None

    def _own_auth(self, found: Item, source: Auth | None, api: Carried) -> Carried:
        """A request's auth where it differs from the API's: as headers, or a note."""
        auth = found.auth
        if auth is not None and source is not None and auth.identity == source.identity:
            return Carried()
        if auth is None or auth.type == "noauth":
            if api.sent:
                where = auth.where if auth else f"{found.where}.request"
                self.notes.add(
                    where,
                    "the request sets no authorization, but the API's is sent with it (a "
                    "Callout API has one authorization)",
                )
            return Carried()
        own = as_headers(auth, found.scope, api.authorization is not None)
        for message in own.messages:
            self.notes.add(auth.where, message)
        return own

    def _base(self, items: list[Item]) -> str:
        """The API's base URL, and each item's path after it; an item on another host,
        or with no URL, is noted and left without."""
        for item in items:
            request = item.item["request"]
            item.url = split(request.get("url") if isinstance(request, dict) else request)
            if item.url is None:
                self.notes.add(f"{item.where}.request.url", "names no URL: request not carried")
        urls = [i.url for i in items if i.url is not None]
        base = choose(urls, self.scope)
        if not urls:
            self.notes.add("item", f"no request names a URL: the API's base URL is {STAND_IN}")
        elif not base.known:
            first = next(i for i in items if i.url is not None and i.url.head == base.head)
            self.notes.add(
                f"{first.where}.request.url",
                f"the base URL {base.head} has no http(s) value in the collection (an "
                f"environment may give it): the API's base URL is {STAND_IN} until you set it",
            )
        for item in items:
            if item.url is None:
                continue
            path = remainder(item.url, base, self.scope)
            if path is None:
                self.notes.add(
                    f"{item.where}.request.url",
                    f"starts with {item.url.head}, not the API's base URL {base.url}: a "
                    "Callout API has one base URL; request not carried",
                )
                item.url = None
            else:
                item.path = path
        return base.url

    def _name(self, found: Item, taken: set[str]) -> str:
        """The request's name with its folders in front, the outermost dropped first
        when too long, numbered when another request has it."""
        own = clean_name(found.item.get("name"), "Request")
        parts = [*found.folders, own]
        while len(parts) > 1 and len(name_key(NAME_SEPARATOR.join(parts))) > MAX_NAME:
            parts.pop(0)
        return unique_name(NAME_SEPARATOR.join(parts), taken, COPY_NUMBERING)

    def _hoist(
        self, requests: list[RequestDocument], api: Carried
    ) -> tuple[list[Header | dict[str, Any]], list[str]]:
        """The API's headers: its API key header, and those every request sends alike
        (Postman has no collection headers; a written collection repeats the API's in
        each request). Moved from the requests, they keep their secrets missing."""
        headers: list[Header | dict[str, Any]] = list(api.headers)
        if not requests:
            return headers, []
        taken = {name_key(h["name"]) for h in api.headers}
        shared = [
            h
            for h in requests[0].headers
            if name_key(h.name) not in taken
            and all(p.root in CONTEXT_ROOTS for p in templates.placeholders(h.value))
            and all(h in r.headers for r in requests[1:])
        ]
        missing: list[str] = []
        headers += shared
        for index, request in enumerate(requests):
            kept = [h for h in request.headers if h not in shared]
            gone = {header_field(h.name) for h in shared}
            missing += [m for m in request.missing_secrets if m in gone]
            requests[index] = request.model_copy(
                update={
                    "headers": kept,
                    "missing_secrets": [m for m in request.missing_secrets if m not in gone],
                }
            )
        return headers, missing
