"""Expected failures of Callout's use cases, each carrying the HTTP status it answers with.

One handler (`web/problems.py`) renders them as RFC 9457 problem+json (`problem_body`); the
CLI prints them, as one line or, with --json, as that same body.

    CalloutError
      + Invalid              input broke a rule; names each field (422)
      + Conflict             the input clashes with what is stored, e.g. a name taken (409)
      + NotFound             no such object for this client (404), also for other clients' objects
      + Unauthenticated      no API key, or an unknown one (401)
      + Forbidden            the key's role may not do this (403)
      + ReadOnly             a system API cannot be changed; copy it instead (403)
      + PreconditionRequired a write without If-Match (428)
      + PreconditionFailed   a write whose If-Match is stale (412)
      + Busy                 the database has more work queued than it can start in time (503)
      + SecretUnreadable     a stored secret failed to decrypt: wrong key or moved ciphertext (500)
      + InvocationFailed     an invoked request ended in failure or timeout (422, 502, 504)
"""

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Self


@dataclass(frozen=True)
class FieldProblem:
    """One broken rule: where (dotted path, e.g. `authorization.token_url`) and why."""

    field: str
    message: str


def field_path(loc: Sequence[str | int]) -> str:
    """Where a field sits, as every error names it: ("headers", 2, "name") -> "headers[2].name"."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


class CalloutError(Exception):
    status = 500
    type = "error"
    title = "Error"
    headers: dict[str, str] = {}

    def __init__(
        self,
        detail: str,
        problems: list[FieldProblem] | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.problems = problems or []
        self.extensions = extensions or {}  # RFC 9457 extension members

    @classmethod
    def field(cls, field: str, message: str) -> Self:
        """The error about one field, e.g. `Conflict.field("name", "is taken")`."""
        return cls.of([FieldProblem(field, message)])

    @classmethod
    def of(cls, problems: Sequence[FieldProblem], hint: str = "") -> Self:
        """The error about each of `problems`, its detail naming them all in one line:
        `name: is required; base_url: must be https` (then `hint`, if any)."""
        return cls(detail_of(problems) + hint, list(problems))

    def body(self) -> dict[str, Any]:
        """The error as REST answers it: its problem+json body."""
        return problem_body(
            self.status, self.type, self.title, self.detail, self.problems, self.extensions
        )

    def at(self, where: str) -> Self:
        """The same error about a part of something larger: `at("requests[3]")` makes the
        problem of `method` one of `requests[3].method`; `at("crm.yaml: ")`, one of a file."""
        moved = copy.copy(self)
        moved.problems = [FieldProblem(_joined(where, p.field), p.message) for p in self.problems]
        moved.detail = detail_of(moved.problems) or (f"{where.removesuffix(': ')}: {self.detail}")
        moved.args = (moved.detail,)
        return moved


def detail_of(problems: Iterable[FieldProblem]) -> str:
    """Problems as one line, each with its field: `name: is required; type: ...`."""
    return "; ".join(f"{p.field}: {p.message}" for p in problems)


def problem_body(
    status: int,
    kind: str,
    title: str,
    detail: str,
    problems: Sequence[FieldProblem] = (),
    extensions: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An error as RFC 9457 problem details: `type`, `title`, `status`, `detail`, each broken
    rule in `errors`, then any extension members."""
    content: dict[str, Any] = {
        "type": f"/problems/{kind}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if problems:
        content["errors"] = [{"field": p.field, "message": p.message} for p in problems]
    return content | (extensions or {})


def _joined(where: str, field: str) -> str:
    if not where:
        return field
    if where.endswith(": "):  # a file's name: "crm.yaml: name"
        return where + field
    return where + field if field.startswith("[") else f"{where}.{field}"


class Invalid(CalloutError):
    status = 422
    type = "invalid"
    title = "Invalid input"


class Conflict(CalloutError):
    status = 409
    type = "conflict"
    title = "Conflict"


class NotFound(CalloutError):
    status = 404
    type = "not-found"
    title = "Not found"


class Unauthenticated(CalloutError):
    status = 401
    type = "unauthenticated"
    title = "Unauthenticated"
    headers = {"WWW-Authenticate": 'Bearer realm="callout"'}  # RFC 9110 section 15.5.2


class Forbidden(CalloutError):
    status = 403
    type = "forbidden"
    title = "Forbidden"


class ReadOnly(CalloutError):
    status = 403
    type = "read-only"
    title = "System APIs are read-only"


class PreconditionRequired(CalloutError):
    status = 428
    type = "precondition-required"
    title = "If-Match required"


class PreconditionFailed(CalloutError):
    status = 412
    type = "precondition-failed"
    title = "Changed since you read it"


class Busy(CalloutError):
    status = 503
    type = "busy"
    title = "Busy"
    headers = {"Retry-After": "1"}


class SecretUnreadable(CalloutError):
    status = 500
    type = "secret-unreadable"
    title = "A stored secret could not be decrypted"


class InvocationFailed(CalloutError):
    """The call ran and did not succeed; the problem carries its outcome and reason."""

    type = "invocation-failed"
    title = "The call did not succeed"
    # Bad input is the caller's (422); too many calls at once, 429; a circuit open, 503;
    # a timeout is the upstream's (504); the rest is 502.
    STATUS_BY_REASON = {
        "invalid_parameters": 422,
        "too_many_calls": 429,
        "circuit_open": 503,
        "timeout": 504,
    }

    def __init__(self, detail: str, reason: str, extensions: dict[str, Any]) -> None:
        super().__init__(detail, extensions=extensions)
        self.status = self.STATUS_BY_REASON.get(reason, 502)
