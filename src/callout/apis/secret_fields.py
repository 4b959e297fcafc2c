"""Splitting an API's or request's input into what is stored in the clear and what is sealed.

A secret field is named by where it sits: `authorization.password`, `headers.x-api-key`
(header names in lower case). For each one an input either gives a new value, sends the
mask back to keep the stored one, or leaves it out to drop it.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from callout.apis.authorization import SCHEMES, Scheme
from callout.apis.fields import MASK, Header
from callout.errors import FieldProblem, Invalid


@dataclass
class SecretChanges:
    """The outcome of splitting: new values to seal, stored ones to keep, and the clear part."""

    new: dict[str, str] = field(default_factory=dict)
    kept: set[str] = field(default_factory=set)

    @property
    def fields(self) -> set[str]:
        return set(self.new) | self.kept

    def changed(self, stored: set[str]) -> set[str]:
        """Secret fields whose value is new or was dropped: named in the audit, never shown."""
        return set(self.new) | (stored - self.kept)


def header_field(header: Header) -> str:
    return header_field_name(header.name)


def header_field_name(name: str) -> str:
    return f"headers.{name.lower()}"


def _take(
    changes: SecretChanges,
    problems: list[FieldProblem],
    stored: set[str],
    name: str,
    loc: str,
    value: str,
) -> None:
    if value != MASK:
        changes.new[name] = value
    elif name in stored:
        changes.kept.add(name)
    else:
        problems.append(FieldProblem(loc, "the mask keeps a stored secret, but none is stored"))


def split_headers(
    headers: list[Header], stored: set[str], changes: SecretChanges, problems: list[FieldProblem]
) -> list[dict[str, Any]]:
    """Headers as stored: secret values are left out of the row (they go to `changes`)."""
    rows = []
    for index, header in enumerate(headers):
        if header.secret:
            _take(
                changes,
                problems,
                stored,
                header_field(header),
                f"headers[{index}].value",
                header.value,
            )
        rows.append(
            {
                "name": header.name,
                "value": "" if header.secret else header.value,
                "enabled": header.enabled,
                "secret": header.secret,
            }
        )
    return rows


def split_authorization(
    auth: Scheme, stored: set[str], changes: SecretChanges, problems: list[FieldProblem]
) -> dict[str, Any]:
    """The authorization as stored: its settings without the secret values."""
    secrets = auth.secret_fields()
    for name in secrets:
        value: SecretStr | None = getattr(auth, name)
        loc = f"authorization.{name}"
        if value is not None:
            _take(changes, problems, stored, loc, loc, value.get_secret_value())
    reported = {p.field for p in problems}
    for name in auth.required_secrets():
        loc = f"authorization.{name}"
        if loc not in changes.fields and loc not in reported:
            problems.append(FieldProblem(loc, f"is required for {auth.type} authorization"))
    return auth.model_dump(
        mode="json", exclude=set(secrets) | set(type(auth).model_computed_fields)
    )


def raise_problems(problems: list[FieldProblem]) -> None:
    if problems:
        raise Invalid("; ".join(f"{p.field}: {p.message}" for p in problems), problems)


def headers_of(rows: list[dict[str, Any]], secrets: Mapping[str, str] | None) -> list[Header]:
    """Stored headers as a schema: secret values from `secrets` (opened for the runtime),
    or the mask when `secrets` is None (a read)."""
    return [
        Header.model_validate(
            row | {"value": _secret_value(secrets, header_field_name(row["name"]))}
            if row["secret"]
            else row
        )
        for row in rows
    ]


def authorization_of(row: dict[str, Any], secrets: Mapping[str, str]) -> Scheme:
    """The stored authorization as a schema, its secret fields taken from `secrets`: the
    opened values for the runtime, or the mask for each stored field for a read."""
    scheme = SCHEMES[row["type"]]
    values = {
        name: secrets[f"authorization.{name}"]
        for name in scheme.secret_fields()
        if f"authorization.{name}" in secrets
    }
    return scheme.model_validate(row | values)


def masks(stored: set[str]) -> dict[str, str]:
    return dict.fromkeys(stored, MASK)


def _secret_value(secrets: Mapping[str, str] | None, field: str) -> str:
    return MASK if secrets is None else secrets.get(field, "")
