"""What an import takes from a JSON Schema: a value's type, an object's top-level
properties, and a default that fits.

Callout's parameters are strings, numbers, booleans or objects (lists included), so a
schema is read only that far: `integer` is a number, `array` an object, a 3.1 type list
`["string", "null"]` a string. Composition is followed one level at a time: `allOf`
members add their properties (a `Pet` that is `allOf: [NewPet, {id}]` has name, tag and
id), and the first `oneOf`/`anyOf` member gives a type. Nesting is bounded, so schemas
that include each other end.
"""

from dataclasses import dataclass
from typing import Any

from callout.apis.schemas import ValueType
from callout.interchange.openapi.document import Document, Reference, Schema

MAX_NESTING = 16
_TYPES: dict[str, ValueType] = {
    "string": "string",
    "integer": "number",
    "number": "number",
    "boolean": "boolean",
    "object": "object",
    "array": "object",
}
_PYTHON_TYPES: dict[ValueType, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict, list),
}


@dataclass(frozen=True)
class Property:
    """A top-level property of an object schema."""

    name: str
    schema: Schema
    required: bool


def schema_of(document: Document, item: Schema | Reference | None, where: str) -> Schema:
    """A schema, its `$ref` followed; none is the empty schema (anything)."""
    if item is None:
        return document.models.schema()
    return document.follow(item, document.models.schema, where)


def declared_types(schema: Schema) -> list[str]:
    """The JSON types a schema names, `null` left out."""
    kind = schema.type
    if kind is None:
        return []
    kinds = kind if isinstance(kind, list) else [kind]
    return [k.value for k in kinds if k.value != "null"]


def value_type(document: Document, schema: Schema, where: str, depth: int = 0) -> ValueType:
    """The Callout type of the values a schema describes; `string` when it says nothing."""
    for kind in declared_types(schema):
        if kind in _TYPES:
            return _TYPES[kind]
    if schema.properties or schema.additionalProperties or schema.items is not None:
        return "object"
    for value in schema.enum or []:
        for name in _PYTHON_TYPES:
            if value is not None and fits(value, name):
                return name
    if depth < MAX_NESTING:
        for members in (schema.allOf, schema.oneOf, schema.anyOf):
            for member in members or []:
                found = schema_of(document, member, where)
                if declared_types(found) or found.properties or found.allOf or found.oneOf:
                    return value_type(document, found, where, depth + 1)
    return "string"


def properties(document: Document, schema: Schema, where: str, depth: int = 0) -> list[Property]:
    """An object schema's top-level properties in order, `allOf` members' included; the
    first member of a `oneOf`/`anyOf` stands for it when there are no others."""
    found: dict[str, Property] = {}
    required = set(schema.required or [])
    if depth < MAX_NESTING:
        for member in schema.allOf or []:
            for prop in properties(document, schema_of(document, member, where), where, depth + 1):
                found[prop.name] = prop
    for name, item in (schema.properties or {}).items():
        found[name] = Property(name, schema_of(document, item, where), name in required)
    if not found and depth < MAX_NESTING:
        alternatives = schema.oneOf or schema.anyOf or []
        if alternatives:
            first = schema_of(document, alternatives[0], where)
            return properties(document, first, where, depth + 1)
    return [Property(p.name, p.schema, p.required or p.name in required) for p in found.values()]


def is_object(document: Document, schema: Schema, where: str) -> bool:
    return value_type(document, schema, where) == "object" and not (
        "array" in declared_types(schema) or schema.items is not None
    )


def fits(value: Any, kind: ValueType) -> bool:
    """Whether a default can stand for a parameter of `kind` (a boolean is no number)."""
    if kind == "number" and isinstance(value, bool):
        return False
    return isinstance(value, _PYTHON_TYPES[kind])
