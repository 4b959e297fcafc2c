"""An OpenAPI 3.0 or 3.1 document read through openapi-pydantic's typed models, one part at
a time, with its local `$ref`s followed.

A part is validated when the import reaches it, not the whole document up front: GitHub's
description (1,200 operations, 13 MB) then costs what its operations cost, and one
malformed operation is skipped with a note instead of refusing the file. A `$ref` is
followed only inside the file (`#/components/schemas/Pet`); one to another file or a URL,
and one that leads back to itself (`#/a` -> `#/b` -> `#/a`), refuse the file, naming where
the reference is.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import unquote

from openapi_pydantic.v3 import v3_0, v3_1
from pydantic import BaseModel, ValidationError

from callout.errors import Invalid, field_path
from callout.interchange.loading import unreadable

M = TypeVar("M", bound=BaseModel)

Reference = v3_0.Reference | v3_1.Reference
REFERENCES = (v3_0.Reference, v3_1.Reference)
Schema = v3_0.Schema | v3_1.Schema
Parameter = v3_0.Parameter | v3_1.Parameter
Operation = v3_0.Operation | v3_1.Operation
PathItem = v3_0.PathItem | v3_1.PathItem
RequestBody = v3_0.RequestBody | v3_1.RequestBody
Response = v3_0.Response | v3_1.Response
MediaType = v3_0.MediaType | v3_1.MediaType
SecurityScheme = v3_0.SecurityScheme | v3_1.SecurityScheme
Server = v3_0.Server | v3_1.Server

VERSION = re.compile(r"3\.([01])\.\d+")
# Chains of references longer than this are treated as a loop (no real document needs one).
MAX_CHAIN = 64


@dataclass(frozen=True)
class Models:
    """The model classes of one OpenAPI version."""

    top: type[v3_0.OpenAPI] | type[v3_1.OpenAPI]
    path_item: type[v3_0.PathItem] | type[v3_1.PathItem]
    operation: type[v3_0.Operation] | type[v3_1.Operation]
    parameter: type[v3_0.Parameter] | type[v3_1.Parameter]
    request_body: type[v3_0.RequestBody] | type[v3_1.RequestBody]
    response: type[v3_0.Response] | type[v3_1.Response]
    schema: type[v3_0.Schema] | type[v3_1.Schema]
    security_scheme: type[v3_0.SecurityScheme] | type[v3_1.SecurityScheme]


MODELS = {
    "0": Models(
        v3_0.OpenAPI,
        v3_0.PathItem,
        v3_0.Operation,
        v3_0.Parameter,
        v3_0.RequestBody,
        v3_0.Response,
        v3_0.Schema,
        v3_0.SecurityScheme,
    ),
    "1": Models(
        v3_1.OpenAPI,
        v3_1.PathItem,
        v3_1.Operation,
        v3_1.Parameter,
        v3_1.RequestBody,
        v3_1.Response,
        v3_1.Schema,
        v3_1.SecurityScheme,
    ),
}


class Unusable(Exception):
    """A part that cannot be carried (malformed, or a reference to nothing): what holds
    it is skipped with a note saying where and why."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


def first_problem(error: ValidationError, where: str) -> tuple[str, str]:
    """Where inside a part its first broken rule is, and the rule."""
    problem = error.errors()[0]
    inside = field_path(problem["loc"]) if problem["loc"] else ""
    message = problem["msg"].removeprefix("Value error, ")  # a validator's own words
    return (f"{where}.{inside}" if where and inside else where or inside), message


def where_of(ref: str) -> str:
    """A local reference as the place it names: `#/components/schemas/Pet` ->
    `components.schemas.Pet`."""
    return ".".join(_tokens(ref))


def _tokens(ref: str) -> list[str]:
    # RFC 6901 within a URI fragment: percent-decoded first, then ~1 is "/" and ~0 is "~".
    path = unquote(ref[1:])
    if not path:
        return []
    return [t.replace("~1", "/").replace("~0", "~") for t in path.split("/")[1:]]


class Document:
    """One document: its raw values, its version's models, and its references."""

    def __init__(self, data: dict[str, Any], source: str, models: Models) -> None:
        self.data = data
        self.source = source
        self.models = models
        self.version = "3.1" if models is MODELS["1"] else "3.0"
        self._loaded: dict[tuple[str, type[BaseModel]], BaseModel] = {}

    def validate(self, raw: Any, kind: type[M], where: str) -> M:
        """A part as `kind`, or Unusable naming its first broken rule."""
        try:
            return kind.model_validate(raw)
        except ValidationError as error:
            place, message = first_problem(error, where)
            raise Unusable(place, message) from None

    def follow(self, item: M | Reference, kind: type[M], where: str) -> M:
        """`item` itself, or what its `$ref` leads to, as `kind`."""
        if isinstance(item, REFERENCES):
            return self.load(item.ref, kind, where)
        return item

    def part(self, raw: Any, kind: type[M], where: str) -> M:
        """A raw part, or the part its `$ref` leads to, as `kind`."""
        if isinstance(raw, dict) and isinstance(raw.get("$ref"), str):
            return self.load(raw["$ref"], kind, where)
        return self.validate(raw, kind, where)

    def load(self, ref: str, kind: type[M], where: str) -> M:
        """The part `ref` names as `kind`, following references to references."""
        ref, raw = self._target(ref, where)
        key = (ref, kind)
        found = self._loaded.get(key)
        if found is None:
            found = self._loaded[key] = self.validate(raw, kind, where_of(ref))
        assert isinstance(found, kind)
        return found

    def resolved(self, raw: Any, where: str) -> Any:
        """A raw value, or the raw value its `$ref` leads to."""
        if isinstance(raw, dict) and isinstance(raw.get("$ref"), str):
            return self._target(raw["$ref"], where)[1]
        return raw

    def _target(self, ref: str, where: str) -> tuple[str, Any]:
        """The last reference of a chain that starts at `ref`, and the value it names."""
        chain = [ref]
        raw = self._at(ref, where)
        while isinstance(raw, dict) and isinstance(raw.get("$ref"), str):
            where = f"{where_of(chain[-1])}.$ref"
            ref = raw["$ref"]
            if ref in chain or len(chain) == MAX_CHAIN:
                loop = " -> ".join([*chain, ref])
                raise unreadable(self.source, f"$ref leads back to itself: {loop}", where)
            chain.append(ref)
            raw = self._at(ref, where)
        return ref, raw

    def _at(self, ref: str, where: str) -> Any:
        """The raw value a local reference names; a reference to another file is refused."""
        if not ref.startswith("#"):
            raise unreadable(
                self.source,
                f"$ref {ref!r} points to another file or URL; only references inside this "
                "file (#/...) are read: bundle the document into one file first",
                f"{where}.$ref",
            )
        if ref != "#" and not ref.startswith("#/"):
            raise unreadable(
                self.source,
                f"$ref {ref!r} names an anchor; only JSON Pointers (#/...) are read",
                f"{where}.$ref",
            )
        value: Any = self.data
        for token in _tokens(ref):
            if isinstance(value, dict) and token in value:
                value = value[token]
            elif isinstance(value, list) and token.isdigit() and int(token) < len(value):
                value = value[int(token)]
            else:
                raise Unusable(where, f"$ref {ref!r} names nothing in this file")
        return value


def read_document(data: Any, source: str) -> Document:
    """The document `data` is, once it is known to be OpenAPI 3.0 or 3.1."""
    if not isinstance(data, dict):
        raise unreadable(source, "is not an OpenAPI document: it is not a mapping")
    if "swagger" in data:
        raise unreadable(
            source,
            f"is Swagger {data['swagger']}; only OpenAPI 3.0 and 3.1 are read: convert it to "
            "OpenAPI 3 first",
            "swagger",
        )
    version = data.get("openapi")
    if version is None:
        raise unreadable(source, "is not an OpenAPI document: it has no openapi field")
    match = VERSION.fullmatch(str(version))
    if not match:
        raise unreadable(
            source,
            f"declares openapi {str(version)!r}; only OpenAPI 3.0.x and 3.1.x are read",
            "openapi",
        )
    return Document(data, source, MODELS[match.group(1)])


def refuse(source: str, unusable: Unusable) -> Invalid:
    """An Unusable part where the file cannot do without it."""
    return unreadable(source, unusable.message, unusable.where)


def entries(value: Any) -> Sequence[tuple[str, Any]]:
    """A raw mapping's entries; anything else has none."""
    return list(value.items()) if isinstance(value, dict) else []
