"""Building blocks shared by every domain's schemas."""

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

T = TypeVar("T")


class Model(BaseModel):
    """Base of every input and output schema: unknown fields are refused, not ignored,
    so a misspelt field is an error that names it rather than a silent no-op. Inputs are
    left out of error texts: an input may hold a secret."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


class Page(Model, Generic[T]):
    items: list[T]
    total: int = Field(description="How many objects match, across all pages.")
    limit: int
    offset: int


def field_error(loc: str | tuple[str | int, ...], message: str) -> ValidationError:
    """An error to raise from a validator that names the field it is about, not the model."""
    where = (loc,) if isinstance(loc, str) else loc
    rule = PydanticCustomError("rule", "{message}", {"message": message})
    return ValidationError.from_exception_data(
        "input", [InitErrorDetails(type=rule, loc=where, input=None)]
    )
