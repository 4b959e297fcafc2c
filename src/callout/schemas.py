"""Building blocks shared by every domain's schemas."""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

# What a secret looks like when read back; sending it back in a write keeps the stored value.
from callout.runtime.trace import MASK as MASK

T = TypeVar("T")

CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# How deep a value may nest (a list in a dict in a list...): a script's data is shallow,
# and an unbounded depth would exhaust the stack of whatever walks it next.
MAX_DEPTH = 32


def _check_text_tree(value: Any) -> None:
    """Refuse NUL anywhere in a value (keys included) and nesting past MAX_DEPTH; walked
    with a stack of its own, so no depth can exhaust Python's."""
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise ValueError("must not contain NUL characters")
        elif isinstance(item, list | tuple | dict):
            if depth == MAX_DEPTH:
                raise ValueError(f"nests deeper than {MAX_DEPTH} levels")
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)


def no_control(value: str) -> str:
    if CONTROL.search(value):
        raise ValueError("must not contain control characters (CR, LF, NUL, ...)")
    return value


def name_key(name: str) -> str:
    """The form in which names are compared: Unicode compatibility forms folded (NFKC),
    case and surrounding space ignored, so "ECHO", " echo" and a fullwidth "Echo" (U+FF25
    U+FF43 U+FF48 U+FF4F) are one name.

    Casefolding can undo a normalization (and NFKC can make new cased letters), hence
    NFKC on both sides of it, as Unicode's NFKC_Casefold does.
    """
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold()).strip()


MAX_NAME = 100


def _key_fits(name: str) -> str:
    if len(name_key(name)) > MAX_NAME:
        raise ValueError(
            f"must be at most {MAX_NAME} characters with its ligatures and other "
            "compatibility characters spelled out"
        )
    return name


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME),
    AfterValidator(no_control),
    AfterValidator(_key_fits),
]
Description = Annotated[str, StringConstraints(max_length=4000)]
# Row ids are 32-bit on PostgreSQL: a larger one names nothing, and must not reach a query.
MAX_ID = 2**31 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def id_named(ref: str) -> int | None:
    """The id a CLI argument gives when it is one: ASCII digits within MAX_ID (`str.isdigit`
    also takes `²`, which `int` refuses; a larger number would overflow the query, and one
    of thousands of digits is more than `int` reads)."""
    if not (ref.isascii() and ref.isdigit()) or len(ref.lstrip("0")) > len(str(MAX_ID)):
        return None
    number = int(ref)
    return number if 1 <= number <= MAX_ID else None


# No list holds more rows than there are ids: a larger offset is past every page, and at
# 2**63 would overflow the database's integer.
MAX_OFFSET = MAX_ID


class Model(BaseModel):
    """Base of every input and output schema: unknown fields are refused, not ignored,
    so a misspelt field is an error that names it rather than a silent no-op. Inputs are
    left out of error texts: an input may hold a secret."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        """No text anywhere may hold NUL: PostgreSQL cannot store it, and no wire format
        Callout speaks needs it. Nor may a value nest past MAX_DEPTH."""
        _check_text_tree(value)
        return value


@dataclass(frozen=True)
class IfMatch:
    """An If-Match header (RFC 9110 section 13.1.1): `*`, or the strong ETags it lists.

    A weak ETag (`W/"3"`) never matches: If-Match compares strongly.
    """

    versions: frozenset[int]
    anything: bool = False

    def matches(self, version: int) -> bool:
        return self.anything or version in self.versions

    def __str__(self) -> str:
        if len(self.versions) == 1:
            return f"version {next(iter(self.versions))}"
        if self.versions:
            return "versions " + ", ".join(str(v) for v in sorted(self.versions))
        return "only weak ETags, which never match"


class Page(Model, Generic[T]):
    items: list[T]
    total: int = Field(description="How many objects match, across all pages.")
    limit: int
    offset: int


def field_error(loc: str | tuple[str | int, ...], message: str) -> ValidationError:
    """An error to raise from a validator that names the field it is about, not the model."""
    return field_errors([(loc, message)])


def field_errors(problems: Iterable[tuple[str | tuple[str | int, ...], str]]) -> ValidationError:
    """One error naming several fields, each with its own message."""
    details = [
        InitErrorDetails(
            type=PydanticCustomError("rule", "{message}", {"message": message}),
            loc=(loc,) if isinstance(loc, str) else loc,
            input=None,
        )
        for loc, message in problems
    ]
    return ValidationError.from_exception_data("input", details)
