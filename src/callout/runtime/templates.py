"""Callout's placeholder syntax, `${name}` and `${path.to.value}`, parsed into parts.

This is the platform's own syntax, not a template engine: a template is literal text and
placeholders, nothing runs. `$${` writes a literal `${`. A path segment is any text without
`.`, `{`, `}` or `$`, so earlier responses are reachable by request name:

    parse("/customers/${account.id}/notes")
    -> ("/customers/", Placeholder(("account", "id")), "/notes")
    parse("${responses.Get Customer.email}")
    -> (Placeholder(("responses", "Get Customer", "email")),)
"""

from dataclasses import dataclass

OPEN = "${"
ESCAPED_OPEN = "$${"
FORBIDDEN_IN_PATH = frozenset("{}$")
MAX_PATH_DEPTH = 8


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
    parts: list[Part] = []
    literal: list[str] = []
    i = 0
    while i < len(template):
        if template.startswith(ESCAPED_OPEN, i):
            literal.append(OPEN)
            i += len(ESCAPED_OPEN)
            continue
        if not template.startswith(OPEN, i):
            literal.append(template[i])
            i += 1
            continue
        end = template.find("}", i + len(OPEN))
        if end < 0:
            raise TemplateError(f"placeholder opened at position {i + 1} is never closed")
        inner = template[i + len(OPEN) : end]
        if any(char in FORBIDDEN_IN_PATH for char in inner):
            raise TemplateError(f"placeholder at position {i + 1} holds '{{', '}}' or '$'")
        path = tuple(segment.strip() for segment in inner.split("."))
        if not all(path):
            raise TemplateError(f"placeholder at position {i + 1} has an empty name or segment")
        if len(path) > MAX_PATH_DEPTH:
            raise TemplateError(
                f"placeholder at position {i + 1} is deeper than {MAX_PATH_DEPTH} segments"
            )
        if literal:
            parts.append("".join(literal))
            literal = []
        parts.append(Placeholder(path))
        i = end + 1
    if literal:
        parts.append("".join(literal))
    return tuple(parts)


def placeholders(template: str) -> list[Placeholder]:
    return [part for part in parse(template) if isinstance(part, Placeholder)]
