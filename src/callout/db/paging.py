"""One page of a query, with the total it is taken from: what every list answers."""

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")


def escape_like(text: str) -> str:
    """`text` for a LIKE pattern with escape `\\`: its own `%` and `_` match themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def page(
    session: Session, stmt: Select[T], order: Sequence[Any], limit: int, offset: int
) -> tuple[Sequence[T], int]:
    """The rows of `stmt` in `order` from `offset` on, at most `limit`, and how many match.

    The page is read only when the offset lies inside the total: a far offset costs one count.
    """
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    if offset >= total:
        return [], total
    rows = session.scalars(stmt.order_by(*order).limit(limit).offset(offset)).all()
    return rows, total
