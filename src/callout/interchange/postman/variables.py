"""Postman's `{{name}}` variables and Callout's `${name}` placeholders, each way.

Postman fills `{{name}}` from the collection's variables, or from an environment the file
does not hold; Callout fills `${name}` from a request parameter or the call's context. So a
variable becomes a request parameter, with the collection's value as its default:

    "/users/{{user-id}}?on={{$timestamp}}" -> "/users/${user_id}?on=${timestamp}"

A name that is not an identifier is renamed (`user-id` -> `user_id`; a dynamic variable such
as `{{$timestamp}}` has no Callout equivalent and becomes an ordinary parameter), the same
in every request. `{{loginData.agentId}}` names the call's context and stays one. A literal
`${` in Postman text is written `$${`, Callout's escape, so it stays text.
"""

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from callout.apis.fields import IDENTIFIER
from callout.apis.schemas import CONTEXT_ROOTS
from callout.runtime import templates
from callout.schemas import name_key

VARIABLE = re.compile(r"\{\{([^{}]+)\}\}")  # as Postman matches them: no brace inside
# Names that say their value is a credential, by their last word or two (`clientSecret`,
# `X-API-Key`, but not `token_type`): such a parameter is masked and has no default.
SECRET_WORDS = frozenset(
    {"password", "passwd", "passphrase", "secret", "token", "signature", "credential", "apikey"}
)
SECRET_PAIRS = frozenset({("api", "key"), ("access", "key"), ("private", "key"), ("secret", "key")})
WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
MAX_NAME = 64  # as apis.fields.Identifier allows
# Postman fills a variable's value in again when it holds variables, up to some depth.
MAX_NESTING = 10


class Problem(ValueError):
    """A value that cannot be carried as it is; the message says why (never the value)."""


@dataclass(frozen=True)
class Variable:
    """A variable the collection declares: its value (None: declared without one)."""

    value: Any
    kind: str = "string"
    description: str = ""


Scope = Mapping[str, Variable]


def description_of(value: Any) -> str:
    """A Postman description: text, or `{content, type}`."""
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) else ""


def scope_of(entries: Any, outer: Scope) -> dict[str, Variable]:
    """The variables a collection, folder or request declares, over those of its parents."""
    scope = dict(outer)
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or entry.get("disabled") is True:
            continue
        key = entry.get("key", entry.get("id"))
        if isinstance(key, str) and key:
            kind = entry.get("type")
            scope[key] = Variable(
                entry.get("value"),
                kind if isinstance(kind, str) else "string",
                description_of(entry.get("description")),
            )
    return scope


def text_of(value: Any) -> str:
    """A Postman value as the text it sends: JSON spellings for anything but text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def has_value(variable: Variable | None) -> bool:
    return variable is not None and text_of(variable.value) != ""


def resolve(text: str, scope: Scope) -> str | None:
    """The text with the collection's variables filled in, as Postman sends it; None when
    a variable has no value in the collection (an environment would give it)."""
    for _ in range(MAX_NESTING):
        if not VARIABLE.search(text):
            return text
        missing = False

        def fill(match: re.Match[str]) -> str:
            nonlocal missing
            variable = scope.get(match.group(1))
            if variable is None or not has_value(variable):
                missing = True
                return match.group(0)
            return text_of(variable.value)

        text = VARIABLE.sub(fill, text)
        if missing:
            return None
    return None


def context_path(name: str) -> str | None:
    """`loginData.agentId` as a Callout context placeholder's path, or None."""
    root = name.split(".", 1)[0].strip()
    if root not in CONTEXT_ROOTS or "." not in name:
        return None
    try:
        parts = templates.parse("${" + name + "}")
    except templates.TemplateError:
        return None
    return name if len(parts) == 1 else None


def escape(text: str) -> str:
    """Literal text as a Callout template: `${` written `$${`."""
    return text.replace("${", "$${")


def is_secret_name(name: str) -> bool:
    words = [w.lower() for w in WORD.findall(name)]
    return bool(words) and (
        words[-1].rstrip("s") in SECRET_WORDS or tuple(words[-2:]) in SECRET_PAIRS
    )


class Names:
    """The parameter name each Postman variable takes, the same in every request.

    `seed` are names known to be in use (the collection's own variables), so a variable
    already named as an identifier keeps its name rather than losing it to a renamed one.
    """

    def __init__(self, seed: Iterable[str] = ()) -> None:
        self._names: dict[str, str] = {}
        self._taken: set[str] = set()
        for name in seed:
            if _usable(name) and name_key(name) not in self._taken:
                self._names[name] = name
                self._taken.add(name_key(name))

    def of(self, variable: str) -> str:
        known = self._names.get(variable)
        if known is not None:
            return known
        name = variable if _usable(variable) else _identifier(variable)
        candidate, number = name, 2
        while name_key(candidate) in self._taken:
            suffix = f"_{number}"
            candidate = name[: MAX_NAME - len(suffix)] + suffix
            number += 1
        self._names[variable] = candidate
        self._taken.add(name_key(candidate))
        return candidate


def _usable(name: str) -> bool:
    return bool(IDENTIFIER.match(name)) and len(name) <= MAX_NAME and name not in CONTEXT_ROOTS


def _identifier(name: str) -> str:
    """`user-id` -> `user_id`, `$guid` -> `guid`, `2fa` -> `_2fa`, `call` -> `call_`."""
    text = re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_") or "value"
    if text[0].isdigit():
        text = "_" + text
    if text in CONTEXT_ROOTS:
        text += "_"
    return text[:MAX_NAME]


class Placing:
    """Turns one request's Postman text into Callout templates, and remembers which
    variables it placed (they become the request's parameters) and which of them carry a
    secret (their parameters are masked)."""

    def __init__(self, names: Names) -> None:
        self.names = names
        self.used: dict[str, None] = {}  # Postman names, in order of first use
        self.secret: set[str] = set()
        self.bare: set[str] = set()  # placed as a whole JSON value: typed by its value
        self.path: dict[str, Variable] = {}  # path variables (`:id`) by parameter name

    def template(self, text: str, *, secret: bool = False) -> str:
        if "${{" in text:
            raise Problem(
                "a `$` right before a {{variable}} cannot be kept: Callout reads `$${` as a "
                "literal `${`"
            )

        def swap(match: re.Match[str]) -> str:
            variable = match.group(1)
            path = context_path(variable)
            if path is not None:
                return "${" + path + "}"
            self.used.setdefault(variable)
            if secret:
                self.secret.add(variable)
            return "${" + self.names.of(variable) + "}"

        return VARIABLE.sub(swap, escape(text))

    def placeholder(self, variable: str, *, secret: bool = False) -> str:
        """`${name}` for one variable, used as a whole value."""
        return self.template("{{" + variable + "}}", secret=secret)


def to_postman(template: str) -> str:
    """A Callout template as Postman text: `${name}` -> `{{name}}`, `$${` -> `${`."""
    return "".join(
        part if isinstance(part, str) else "{{" + ".".join(part.path) + "}}"
        for part in templates.parse(template)
    )
