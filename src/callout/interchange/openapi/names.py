"""Names and text as Callout takes them from an OpenAPI document.

A placeholder names a parameter, and a parameter's name is an identifier, so `user-id`
becomes `user_id`, `2fa` becomes `_2fa`, a name taken twice (ignoring case) is numbered
(`name_2`), and `fields`, a context value, becomes `fields_`. Text loses NUL, which
Callout stores nowhere, and is cut to the limit of where it goes.
"""

import re

from callout.apis.schemas import CONTEXT_ROOTS
from callout.schemas import name_key

MAX_DESCRIPTION = 4000
MAX_IDENTIFIER = 64
NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]")


def text(value: str | None, limit: int = MAX_DESCRIPTION) -> str:
    """Text from the document without NUL, within `limit` (a cut ends in an ellipsis)."""
    value = (value or "").replace("\x00", "")
    return value if len(value) <= limit else value[: limit - 1] + "…"


def describe(*parts: str | None) -> str:
    """A description of the parts given (a summary, a description), a blank line apart."""
    return text("\n\n".join(p.strip() for p in parts if p and p.strip()))


class Identifiers:
    """The identifiers handed out in one namespace (a request's parameters, or its
    outputs), and each that differs from the name it stands for."""

    def __init__(self, reserved: frozenset[str] = CONTEXT_ROOTS) -> None:
        self.reserved = reserved
        self.taken: set[str] = set()
        self.renamed: list[str] = []

    def give(self, wanted: str, place: str = "") -> str:
        """A free identifier for `wanted` (a `place` parameter, for the note)."""
        base = NOT_IDENTIFIER.sub("_", wanted) or "value"
        if base[0].isdigit():
            base = "_" + base
        base = base[:MAX_IDENTIFIER]
        if base in self.reserved:
            base += "_"
        name, number = base, 2
        while name_key(name) in self.taken:
            suffix = f"_{number}"
            name, number = base[: MAX_IDENTIFIER - len(suffix)] + suffix, number + 1
        self.taken.add(name_key(name))
        if name != wanted:
            self.renamed.append(f"{place} {wanted} -> {name}".lstrip())
        return name
