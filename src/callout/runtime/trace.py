"""What a call did, step by step, with every secret masked: the trace a test returns.

Masking happens here, once, on the way out: header values by name (the credential headers
and the headers the API marks secret), then every secret wherever it still appears (a token
echoed in a body, a key placed in a query), in every spelling an upstream may echo it in.
"""

import html
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from time import perf_counter
from typing import Any
from urllib.parse import quote, quote_plus, urlencode
from xml.sax.saxutils import escape as xml_escape

from callout.runtime import templates
from callout.runtime.credential_headers import CREDENTIAL_HEADERS
from callout.runtime.http import Outgoing, Received

# What a secret looks like wherever it is shown: in a trace, an error, a log line, and in what
# the REST API reads back (pydantic's own SecretStr rendering, so all of them mask alike).
MASK = "**********"
PREVIEW_BYTES = 4096


# How serializers write a string inside JSON, quotes left off. `é`, `"` and `/` in a secret
# come back as `\u00e9` (Python, PHP), `\u00E9` (Jackson), `é` (JavaScript, Go), `\"` or
# `\u0022` (.NET), `\/` (PHP), and `&` as `\u0026` (Go, .NET).
def _json_ascii(text: str) -> str:
    return json.dumps(text)[1:-1]


def _json_raw(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)[1:-1]


def _php(text: str) -> str:
    return _json_ascii(text).replace("/", "\\/")


def _jackson(text: str) -> str:
    return _UNICODE_ESCAPE.sub(lambda m: "\\u" + m.group(1).upper(), _json_ascii(text))


def _go(text: str) -> str:
    raw = _json_raw(text)
    for char in "<>&\u2028\u2029":
        raw = raw.replace(char, f"\\u{ord(char):04x}")
    return raw


def _dotnet(text: str, upper: bool = True) -> str:
    r"""System.Text.Json's default encoder: HTML-sensitive and non-ASCII characters as
    `\uXXXX` (a character past U+FFFF as its UTF-16 pair)."""
    out = []
    for char in text:
        if char == "\\":
            out.append("\\\\")
        elif char in _DOTNET_ESCAPED or not " " <= char <= "~":
            units = char.encode("utf-16-be")
            for i in range(0, len(units), 2):
                code = f"{int.from_bytes(units[i : i + 2]):04x}"
                out.append("\\u" + (code.upper() if upper else code))
        else:
            out.append(char)
    return "".join(out)


_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-f]{4})")
_DOTNET_ESCAPED = frozenset("\"&'+<>`")
JSON_STYLES: tuple[Callable[[str], str], ...] = (
    _json_ascii,
    _json_raw,
    _php,
    _jackson,
    _go,
    _dotnet,
    lambda text: _dotnet(text, upper=False),
)
# How encoders percent-encode: `%20` or `+` for a space, and what each leaves as it is
# (a path keeps `/`, JavaScript's encodeURIComponent keeps `!*'()`, Java's URLEncoder `*`).
PERCENT_STYLES: tuple[Callable[[str], str], ...] = (
    lambda text: quote(text, safe=""),
    lambda text: quote(text, safe="/"),
    lambda text: quote(text, safe="!*'()"),
    lambda text: quote_plus(text, safe=""),
    lambda text: quote_plus(text, safe="*"),
)


def spellings(secret: str) -> frozenset[str]:
    r"""Every spelling of `secret` an upstream may plausibly echo: as sent (JSON, form, query,
    path, XML), JSON-escaped once or twice (a JSON body quoted as a string, as httpbin's
    `data` does) in each serializer's style, percent-encoded (`%20` or `+`), and XML or HTML
    escaped. Worked out once per secret.

        spellings('p"é') >= {'p"é', 'p\\"\\u00e9', 'p\\\\\\"\\\\u00e9', 'p%22%C3%A9', ...}
    """
    if templates.UNRESERVED(secret):  # no encoding changes it: the common case for tokens
        return frozenset((secret,))
    return _spellings(secret)


@lru_cache(maxsize=1024)
def _spellings(secret: str) -> frozenset[str]:
    percent = {style(secret) for style in PERCENT_STYLES}
    once = {style(text) for text in (secret, *percent) for style in JSON_STYLES}
    twice = {style(text) for text in once for style in JSON_STYLES}
    quoted = {form for text in once for form in (quote(text, safe=""), quote_plus(text))}
    escaped = {
        html.escape(secret),
        html.escape(secret, quote=False),
        xml_escape(secret, templates.XML_ENTITIES),
    }
    return frozenset({secret, *percent, *once, *twice, *quoted, *escaped})


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
        self._headers = CREDENTIAL_HEADERS | {h.lower() for h in secret_headers}
        self._admit(frozenset(s for s in secrets if len(s) >= shortest))

    def _admit(self, known: frozenset[str]) -> None:
        """Mask `known` in all their spellings: worked out here, once, not on each call."""
        self._known = known
        shown: dict[str, bool] = {}  # spelling -> masked in outputs too
        for secret in known:
            whole = len(secret) >= 4
            for form in spellings(secret):
                shown[form] = shown.get(form, False) or whole
        # Longest first, so a secret that contains another is masked whole.
        self._secrets = sorted(shown, key=len, reverse=True)
        self._in_data = [form for form in self._secrets if shown[form]]

    def including(self, secrets: Iterable[str], *, shortest: int = 4) -> "Redactor":
        """This redactor, or one that masks these secrets as well (those of `shortest`
        characters or more)."""
        extra = {s for s in secrets if len(s) >= shortest and s not in self._known}
        if not extra:
            return self
        wider = Redactor.__new__(Redactor)
        wider._headers = self._headers
        wider._admit(self._known | extra)
        return wider

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
        if kind is dict:  # keys too: an upstream may echo a form's fields as keys
            return {self.data(k): self.data(v) for k, v in value.items()}
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
