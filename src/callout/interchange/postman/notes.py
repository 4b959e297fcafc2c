"""What a reading says it could not carry, and the names and texts it reads alike."""

from typing import Any

from pydantic import ValidationError

from callout.interchange.postman.variables import description_of, text_of
from callout.interchange.schemas import Note
from callout.schemas import CONTROL

MAX_DESCRIPTION = 4000
NAME_SEPARATOR = " / "  # between a request's folders and its own name


class Notes:
    """What a reading could not carry, each said once."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[Note] = []
        self._said: set[tuple[str, str]] = set()

    def add(self, where: str, message: str) -> None:
        message = CONTROL.sub("\ufffd", message)  # a name quoted may hold anything
        if (where, message) not in self._said:
            self._said.add((where, message))
            self.items.append(Note(source=self.source, where=where, message=message))

    def once(self, where: str, message: str) -> None:
        """A note about the whole file (a variable renamed): said at its first place only."""
        if ("*", message) not in self._said:
            self._said.add(("*", message))
            self.add(where, message)


def clean_name(value: Any, fallback: str) -> str:
    """A name as Callout takes one: one line, no surrounding space."""
    return CONTROL.sub(" ", text_of(value)).strip() or fallback


def description(value: Any, where: str, notes: Notes) -> str:
    text = description_of(value)
    if len(text) > MAX_DESCRIPTION:
        notes.add(where, f"the description is cut to {MAX_DESCRIPTION} characters")
        text = text[:MAX_DESCRIPTION]
    return text


def disabled(entry: dict[str, Any]) -> bool:
    return entry.get("disabled") is True or entry.get("enabled") is False


def problem(error: ValidationError) -> str:
    """A validation error in a line: where and why, never the value."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in error.errors()[:3]
    )
