"""What a call did, step by step, with every secret masked: the trace a test returns.

Masking happens here, once, on the way out: header values by name (authorization headers and
the headers the API marks secret), then every stored secret wherever it still appears
(a token echoed in a body, a key placed in a query).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from time import perf_counter
from typing import Any
from urllib.parse import urlencode

from callout.runtime.credential_headers import CREDENTIAL_HEADERS
from callout.runtime.http import Outgoing, Received
from callout.schemas import MASK

PREVIEW_BYTES = 4096


class Redactor:
    """Replaces each known secret, and each secret header's value, with the mask.

    What a call shows of itself (`text`: the trace, errors, alerts) masks every secret it
    was given: Callout's own of 4 characters or more (a shorter one would mask half of any
    text), a caller's secret parameter of any length (a 3-digit PIN is still a PIN). The
    outputs returned to the caller (`data`) mask only secrets of 4 characters or more: a
    shorter one would corrupt them ("123" in "12345").
    """

    def __init__(
        self, secrets: Iterable[str], secret_headers: Iterable[str] = (), *, shortest: int = 4
    ) -> None:
        # Longest first, so a secret that contains another is masked whole.
        self._secrets = sorted({s for s in secrets if len(s) >= shortest}, key=len, reverse=True)
        self._known = frozenset(self._secrets)
        self._in_data = [s for s in self._secrets if len(s) >= 4]
        self._headers = CREDENTIAL_HEADERS | {h.lower() for h in secret_headers}

    def including(self, secrets: Iterable[str], *, shortest: int = 4) -> "Redactor":
        """This redactor, or one that masks these secrets as well (those of `shortest`
        characters or more)."""
        extra = [s for s in secrets if len(s) >= shortest and s not in self._known]
        if not extra:
            return self
        # Every secret here was admitted once already: none is left out again.
        return Redactor([*self._secrets, *extra], self._headers, shortest=1)

    def text(self, value: str) -> str:
        return _masked(value, self._secrets)

    def cut(self, body: bytes, limit: int) -> str:
        """The start of `body` as text, masked before it is cut: a secret that crosses the
        cut is masked whole, not left as a prefix."""
        longest = len(self._secrets[0]) if self._secrets else 0
        text = body[: limit + 4 * longest].decode("utf-8", "replace")  # 4: UTF-8's widest
        return self.text(text)[:limit]

    def data(self, value: Any) -> Any:
        """Strings anywhere in a JSON-like value, masked: an upstream may echo a secret."""
        kind = type(value)
        if kind is str:
            return _masked(value, self._in_data)
        if not self._in_data:
            return value
        if kind is dict:
            return {k: self.data(v) for k, v in value.items()}
        if kind is list:
            return [self.data(v) for v in value]
        return value

    def headers(self, headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        return [
            (name, MASK if name.lower() in self._headers else self.text(value))
            for name, value in headers
        ]


@dataclass(frozen=True)
class Step:
    name: str
    duration_ms: float
    detail: str = ""


@dataclass(frozen=True)
class RequestView:
    method: str
    url: str
    headers: list[tuple[str, str]]
    body: str | None


@dataclass(frozen=True)
class ResponseView:
    status: int
    headers: list[tuple[str, str]]
    body: str
    truncated: bool


class Recorder:
    """Times each step of one call; keeps the masked request and response when tracing.

    Not tracing, it does nothing but hold the call's redactor: the hot path pays no clock.
    """

    __slots__ = ("_mark", "redactor", "request", "response", "steps", "tracing")

    def __init__(self, redactor: Redactor, tracing: bool) -> None:
        self.redactor = redactor
        self.tracing = tracing
        self.steps: list[Step] = []
        self.request: RequestView | None = None
        self.response: ResponseView | None = None
        self._mark = perf_counter() if tracing else 0.0

    def step(self, name: str, *detail: object) -> None:
        """Close the step begun at the last one; `detail` is joined only when tracing."""
        if not self.tracing:
            return
        now = perf_counter()
        text = self.redactor.text(" ".join(str(d) for d in detail))
        self.steps.append(Step(name, round((now - self._mark) * 1000, 3), text))
        self._mark = now

    def view(self, outgoing: Outgoing) -> RequestView:
        """The request as it goes out, masked."""
        body = outgoing.body
        if outgoing.form is not None:
            body = urlencode(outgoing.form).encode()  # multipart shown as its fields
        return RequestView(
            outgoing.method,
            self.redactor.text(outgoing.url),
            self.redactor.headers(outgoing.headers),
            self._preview(body) if body is not None else None,
        )

    def sent(self, outgoing: Outgoing) -> None:
        if self.tracing:
            self.request = self.view(outgoing)

    def received(self, received: Received) -> None:
        if self.tracing:
            self.response = ResponseView(
                received.status,
                self.redactor.headers(received.headers.items()),
                self._preview(received.body),
                len(received.body) > PREVIEW_BYTES,
            )

    def _preview(self, body: bytes) -> str:
        return self.redactor.cut(body, PREVIEW_BYTES)


def _masked(value: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret in value:
            value = value.replace(secret, MASK)
    return value
