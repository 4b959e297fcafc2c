"""Splitting an API's or request's input into what is stored in the clear and what is sealed.

A secret field is named by where it sits: `authorization.password`, `headers.x-api-key`
(header names in lower case). For each one an input either gives a new value, sends the
mask back to keep the stored one, or leaves it out to drop it. A secret header given no
value has none stored: a read shows it empty and a call is refused until one is entered.
"""

from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from callout.apis.authorization import SCHEMES, Scheme
from callout.apis.fields import Header
from callout.errors import FieldProblem, Invalid
from callout.schemas import MASK, name_key

# How stored headers are read: a row written before a rule tightened still loads.
STORED = {"stored": True}


@dataclass
class SecretSplit:
    """Splitting one object's input (an API's or a request's) into what is stored in the
    clear and the secrets to seal, against the secrets it already has stored.

    `headers_resent` and `authorization_resent` say why the mask may not keep a stored
    secret this time (the API now sends it somewhere else); each masked secret of that
    kind is then refused by name. `incomplete` takes an input that leaves secrets out (an
    import without them): a required one missing, or a secret header without a value, is
    stored as not set, for the admin to enter before calling.
    """

    stored: set[str]
    headers_resent: str | None = None
    authorization_resent: str | None = None
    incomplete: bool = False
    new: dict[str, str] = field(default_factory=dict)
    kept: set[str] = field(default_factory=set)
    problems: list[FieldProblem] = field(default_factory=list)

    @property
    def fields(self) -> set[str]:
        return set(self.new) | self.kept

    def changed(self) -> set[str]:
        """Secret fields whose value is new or was dropped: named in the audit, never shown."""
        return set(self.new) | (self.stored - self.kept)

    def headers(self, headers: list[Header]) -> list[dict[str, Any]]:
        """Headers as stored: secret values are left out of the row."""
        rows = []
        for index, header in enumerate(headers):
            if header.secret and header.value:  # no value: none stored, calls refused
                loc = f"headers[{index}].value"
                self._take(header_field(header.name), loc, header.value, self.headers_resent)
            rows.append(
                {
                    "name": header.name,
                    "value": "" if header.secret else header.value,
                    "enabled": header.enabled,
                    "secret": header.secret,
                }
            )
        return rows

    def authorization(self, auth: Scheme) -> dict[str, Any]:
        """The authorization as stored: its settings without the secret values."""
        secrets = auth.secret_fields()
        for name in secrets:
            value: SecretStr | None = getattr(auth, name)
            if value is not None:
                loc = f"authorization.{name}"
                self._take(loc, loc, value.get_secret_value(), self.authorization_resent)
        reported = {p.field for p in self.problems}
        for name in () if self.incomplete else auth.required_secrets():
            loc = f"authorization.{name}"
            if loc not in self.fields and loc not in reported:
                self.problems.append(
                    FieldProblem(loc, f"is required for {auth.type} authorization")
                )
        return auth.model_dump(
            mode="json", exclude=set(secrets) | set(type(auth).model_computed_fields)
        )

    def check(self) -> None:
        """Raise every problem found, each naming its field."""
        if self.problems:
            raise Invalid.of(self.problems)

    def _take(self, name: str, loc: str, value: str, resend: str | None) -> None:
        if self.incomplete and not value:
            return
        if value != MASK:
            self.new[name] = value
        elif name not in self.stored:
            self.problems.append(
                FieldProblem(loc, "the mask keeps a stored secret, but none is stored")
            )
        elif resend:
            self.problems.append(FieldProblem(loc, f"send this secret again: {resend}"))
        else:
            self.kept.add(name)


def header_field(name: str) -> str:
    """The secret field a header's value is sealed as: `headers.x-api-key`."""
    return f"headers.{name_key(name)}"


def headers_of(
    rows: list[dict[str, Any]], secrets: Mapping[str, str] | None, stored: Set[str] = frozenset()
) -> list[Header]:
    """Stored headers as a schema: secret values from `secrets` (opened for the runtime),
    or, when `secrets` is None (a read), the mask for each one `stored` holds and nothing for
    one whose value was never entered (an import without secrets)."""
    return [
        Header.model_validate(
            row | {"value": _secret_value(secrets, stored, header_field(row["name"]))}
            if row["secret"]
            else row,
            context=STORED,
        )
        for row in rows
    ]


def unset_headers(rows: list[dict[str, Any]], stored: Set[str]) -> frozenset[str]:
    """The secret headers with no value stored, by `name_key`."""
    return frozenset(field.removeprefix("headers.") for field in declared(rows, {}) - stored)


def declared(headers: list[dict[str, Any]], authorization: dict[str, Any]) -> set[str]:
    """The secret fields an API or request needs: its secret headers' and, for an API, the
    secrets its authorization requires (`authorization` is {} for a request)."""
    fields = {header_field(row["name"]) for row in headers if row["secret"]}
    if authorization:
        required = authorization_of(authorization, {}).required_secrets()
        fields |= {f"authorization.{name}" for name in required}
    return fields


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


def masks(stored: Iterable[str]) -> dict[str, str]:
    return dict.fromkeys(stored, MASK)


def _secret_value(secrets: Mapping[str, str] | None, stored: Set[str], field: str) -> str:
    if secrets is None:
        return MASK if field in stored else ""
    return secrets.get(field, "")
