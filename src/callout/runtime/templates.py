"""Callout's placeholder syntax, `${name}` and `${path.to.value}`, parsed into parts.

This is the platform's own syntax, not a template engine: a template is literal text and
placeholders, nothing runs. `$${` writes a literal `${`. A path segment is any text without
`.`, `{`, `}` or `$`, so earlier responses are reachable by request name:

    parse("/customers/${account.id}/notes")
    -> ("/customers/", Placeholder(("account", "id")), "/notes")
    parse("${responses.Get Customer.email}")
    -> (Placeholder(("responses", "Get Customer", "email")),)
"""

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus, urlencode
from xml.sax.saxutils import escape

from callout.runtime.errors import ParameterError

OPEN = "${"
ESCAPED_OPEN = "$${"
FORBIDDEN_IN_PATH = frozenset("{}$")
MAX_PATH_DEPTH = 8
FORBIDDEN_IN_HEADER = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# XML 1.0 section 2.2: no C0 controls but tab, LF and CR; no lone surrogates, no U+FFFE/FFFF.
FORBIDDEN_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
XML_ENTITIES = {'"': "&quot;", "'": "&apos;", "\r": "&#13;", "\n": "&#10;", "\t": "&#9;"}


@dataclass(frozen=True)
class Placeholder:
    path: tuple[str, ...]

    @property
    def root(self) -> str:
        return self.path[0]

    def __str__(self) -> str:
        return "${" + ".".join(self.path) + "}"


Part = str | Placeholder


class TemplateError(ValueError):
    """A template is malformed; the message says where."""


def parse(template: str) -> tuple[Part, ...]:
    """Split a template into literal text and placeholders, or say what is wrong."""
    if "${" not in template:
        return (template,) if template else ()
    parts: list[Part] = []
    literal: list[str] = []
    i = 0
    while i < len(template):
        start = template.find(OPEN, i)
        if start < 0:
            literal.append(template[i:])
            break
        if start > 0 and template[start - 1] == "$" and start - 1 >= i:
            literal.append(template[i : start - 1] + OPEN)  # `$${` is a literal `${`
            i = start + len(OPEN)
            continue
        literal.append(template[i:start])
        end = template.find("}", start + len(OPEN))
        if end < 0:
            raise TemplateError(f"placeholder opened at position {start + 1} is never closed")
        inner = template[start + len(OPEN) : end]
        if any(char in FORBIDDEN_IN_PATH for char in inner):
            raise TemplateError(f"placeholder at position {start + 1} holds '{{', '}}' or '$'")
        path = tuple(segment.strip() for segment in inner.split("."))
        if not all(path):
            raise TemplateError(f"placeholder at position {start + 1} has an empty name or segment")
        if len(path) > MAX_PATH_DEPTH:
            raise TemplateError(
                f"placeholder at position {start + 1} is deeper than {MAX_PATH_DEPTH} segments"
            )
        text = "".join(literal)
        if text:
            parts.append(text)
        literal = []
        parts.append(Placeholder(path))
        i = end + 1
    text = "".join(literal)
    if text:
        parts.append(text)
    return tuple(parts)


def placeholders(template: str) -> list[Placeholder]:
    return [part for part in parse(template) if isinstance(part, Placeholder)]


# Rendering: each place a value lands has its own encoding, so no value can change the
# shape of what it lands in. Scope maps a placeholder's root (a request parameter, or
# loginData, call, account, fields, responses) to its value.

Scope = Mapping[str, Any]
MAX_VALUE_CHARS = 65_536
UNRESERVED = re.compile(r"[A-Za-z0-9._~-]+").fullmatch  # RFC 3986: needs no encoding
# A list index: ASCII digits (`str.isdigit` also takes `²`, which `int` refuses), and few
# enough of them that `int` reads them at once.
INDEX = re.compile(r"[0-9]{1,9}").fullmatch


def lookup(placeholder: Placeholder, scope: Scope) -> Any:
    """The value a placeholder names: `${a.b.0.c}` walks mappings by key and lists by index."""
    path = placeholder.path
    if len(path) == 1 and path[0] in scope:  # the common case: a parameter
        return scope[path[0]]
    value: Any = scope
    for depth, segment in enumerate(path):
        if isinstance(value, dict | Mapping):
            if segment in value:
                value = value[segment]
                continue
        elif isinstance(value, list) and INDEX(segment) and int(segment) < len(value):
            value = value[int(segment)]
            continue
        missing = ".".join(placeholder.path[: depth + 1])
        raise ParameterError(f"{placeholder} has no value: {missing} is missing")
    return value


def to_text(value: Any) -> str:
    """A value as text: JSON spellings for numbers, booleans and structures; null is empty."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if value is None:
        return ""
    if kind is int or kind is float:  # their repr is their JSON spelling (bool is neither)
        return repr(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def value_of(placeholder: Placeholder, scope: Scope) -> str:
    """A placeholder's value as text that can go on the wire: bounded, and encodable
    (a lone surrogate, which JSON input can carry, cannot)."""
    value = lookup(placeholder, scope)
    text = value if type(value) is str else to_text(value)
    if len(text) > MAX_VALUE_CHARS:
        raise ParameterError(f"{placeholder} is longer than {MAX_VALUE_CHARS} characters")
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:
            raise ParameterError(f"{placeholder} holds a lone surrogate, not text") from None
    return text


def text_of(parts: Sequence[Part], scope: Scope) -> str:
    """Literal text and placeholder values joined, unencoded (text bodies, alert messages)."""
    if len(parts) == 1 and isinstance(parts[0], str):
        return parts[0]
    return "".join(p if isinstance(p, str) else value_of(p, scope) for p in parts)


def path_of(parts: Sequence[Part], scope: Scope) -> str:
    """A URL path: each value percent-encoded as (part of) one segment.

    A value can never add a `/`, and a segment made only of values cannot be `.` or `..`
    nor vanish: `customers/${id}` with id `../admin` becomes `customers/..%2Fadmin`, with id
    `..` or an empty id it is refused.
    """
    text = []
    for part in parts:
        if part.__class__ is str:
            text.append(part)
            continue
        value = value_of(part, scope)  # type: ignore[arg-type]
        if not value:
            raise ParameterError(f"{part} is empty, which would change the URL's path")
        text.append(value if UNRESERVED(value) else quote(value, safe=""))
    path = "".join(text)
    if "/." in path and any(segment in (".", "..") for segment in path.split("/")):
        raise ParameterError("a value made a '.' or '..' segment in the URL's path")
    return path


def form_encoded(text: str) -> str:
    """A query name or value as a form encodes it: `a b&c` -> `a+b%26c`."""
    return text if UNRESERVED(text) else quote_plus(text)


def query_of(parts: Sequence[Part], scope: Scope) -> str:
    """A query value: the whole text form-encoded, so a value can add no `&` or `=`."""
    return form_encoded(text_of(parts, scope))


def form_of(fields: Sequence[tuple[str, Sequence[Part]]], scope: Scope) -> bytes:
    """A form body (application/x-www-form-urlencoded), names and values encoded alike."""
    return urlencode([(name, text_of(value, scope)) for name, value in fields]).encode()


def header_of(name: str, parts: Sequence[Part], scope: Scope) -> str:
    """A header value; a control character other than tab is refused (RFC 9110 section 5.5),
    so no header gains a line."""
    value = text_of(parts, scope)
    if FORBIDDEN_IN_HEADER.search(value):
        raise ParameterError(f"header {name}: a value holds a control character")
    return value


def xml_of(parts: Sequence[Part], scope: Scope) -> str:
    """XML text: values escaped so they arrive as they were, in text and attributes alike
    (a parser would fold a raw line break in an attribute into a space)."""
    text = []
    for part in parts:
        if isinstance(part, str):
            text.append(part)
            continue
        value = value_of(part, scope)
        if FORBIDDEN_IN_XML.search(value):
            raise ParameterError(f"{part} holds a character XML 1.0 cannot carry")
        text.append(escape(value, XML_ENTITIES))
    return "".join(text)


@dataclass(frozen=True)
class Whole:
    """A JSON string that is exactly one placeholder: it becomes the typed value."""

    placeholder: Placeholder


@dataclass(frozen=True)
class Mixed:
    """A JSON string with text and placeholders: it stays a string."""

    parts: tuple[Part, ...]


@dataclass(frozen=True)
class Members:
    """A JSON object: its keys render as text."""

    items: tuple[tuple["JsonTemplate", "JsonTemplate"], ...]


JsonTemplate = Whole | Mixed | Members | tuple[Any, ...] | str | int | float | bool | None


def compile_json(value: Any) -> JsonTemplate:
    """A parsed JSON body as a template, built once per plan:

    {"id": "${id}", "note": "call ${call.id}", "tags": ["a"]}
    -> Members((("id", Whole(${id})), ("note", Mixed(("call ", ${call.id}))),
                ("tags", ("a",))))
    """
    if isinstance(value, str):
        parts = parse(value)
        if len(parts) == 1 and isinstance(parts[0], Placeholder):
            return Whole(parts[0])
        if any(isinstance(p, Placeholder) for p in parts):
            return Mixed(parts)
        return "".join(p for p in parts if isinstance(p, str))
    if isinstance(value, list):
        return tuple(compile_json(v) for v in value)
    if isinstance(value, dict):
        return Members(tuple((compile_json(k), compile_json(v)) for k, v in value.items()))
    if value is None or isinstance(value, bool | int | float):
        return value
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def json_of(template: JsonTemplate, scope: Scope) -> Any:
    """The JSON structure with values in place, ready for `json.dumps` (which escapes)."""
    if isinstance(template, Whole):
        return lookup(template.placeholder, scope)
    if isinstance(template, Mixed):
        return text_of(template.parts, scope)
    if isinstance(template, Members):
        return {to_text(json_of(k, scope)): json_of(v, scope) for k, v in template.items}
    if isinstance(template, tuple):
        return [json_of(v, scope) for v in template]
    return template


def a_kind(kind: str) -> str:
    """A value type with its article, for messages: "a string", "an object"."""
    return f"an {kind}" if kind[:1] in "aeiou" else f"a {kind}"
