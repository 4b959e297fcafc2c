"""What a call did, step by step, with every secret masked: the trace a test returns.

Masking happens here, once, on the way out: header values by name (authorization headers and
the headers the API marks secret), then every stored secret wherever it still appears
(a token echoed in a body, a key placed in a query).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any
from urllib.parse import urlencode

from callout.runtime.http import Outgoing, Received
from callout.schemas import MASK

PREVIEW_BYTES = 4096
ALWAYS_SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "lv-access", "lv-session"}
)


class Redactor:
    """Replaces each known secret, and each secret header's value, with the mask."""

    def __init__(self, secrets: Iterable[str], secret_headers: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is masked whole.
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)
        self._headers = ALWAYS_SECRET_HEADERS | {h.lower() for h in secret_headers}

    def text(self, value: str) -> str:
        for secret in self._secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        return value

    def data(self, value: Any) -> Any:
        """Strings anywhere in a JSON-like value, masked: an upstream may echo a secret."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.data(v) for v in value]
        if isinstance(value, dict):
            return {k: self.data(v) for k, v in value.items()}
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


@dataclass
class Recorder:
    """Times each step of one call; keeps the masked request and response when tracing."""

    redactor: Redactor
    tracing: bool
    steps: list[Step] = field(default_factory=list)
    request: RequestView | None = None
    response: ResponseView | None = None
    _mark: float = field(default_factory=perf_counter)

    def step(self, name: str, detail: str = "") -> None:
        now = perf_counter()
        if self.tracing:
            self.steps.append(
                Step(name, round((now - self._mark) * 1000, 3), self.redactor.text(detail))
            )
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
                self.redactor.headers(received.headers),
                self._preview(received.body),
                len(received.body) > PREVIEW_BYTES,
            )

    def _preview(self, body: bytes) -> str:
        return self.redactor.text(body[:PREVIEW_BYTES].decode("utf-8", "replace"))
