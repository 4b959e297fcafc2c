"""The sweep: a secret an upstream echoes back, in any spelling it may plausibly use, is
masked in every place Callout shows an upstream's words.

Secrets of every character class (ASCII letters, `+/="\\&%`, `é`, `中`, spaces) are sent as
a stored password (Basic), a secret parameter in a JSON body, and an OAuth 2.0 password; the
upstream echoes each JSON-escaped once and twice (Python, JavaScript, PHP, Jackson and .NET
styles), percent-encoded with `%20` and with `+`, and base64 in Basic credentials.
"""

import base64
import io
import json
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from rich.console import Console

from callout.runtime.executor import Executor, Outcome
from callout.schemas import MASK
from callout.show import show_outcome
from tests.runtime.conftest import api_def, compile_from, request_def
from tests.upstream import Upstream

SECRETS = {
    "letters": "OpenSesameLetters",
    "punctuation": 'pw+/="\\&%x',
    "latin": "mot-de-passé",
    "cjk": "密码中文口令",
    "spaces": "open sesame now",
    "every class": 'Ab+/="\\&% é中 z',
}
USER = "agent"


def dotnet(text: str) -> str:
    """System.Text.Json's default: `"&'+<>` and non-ASCII as uppercase `\\uXXXX`."""
    out = []
    for char in text:
        if char in "\"&'+<>" or not char.isascii():
            units = char.encode("utf-16-be")
            out += [f"\\u{units[i] << 8 | units[i + 1]:04X}" for i in range(0, len(units), 2)]
        elif char == "\\":
            out.append("\\\\")
        else:
            out.append(char)
    return "".join(out)


def echoed(secret: str) -> dict[str, str]:
    """The secret in each spelling, as it appears in the upstream's raw text (each one valid
    inside a JSON string)."""
    once_ascii = json.dumps(secret)[1:-1]
    once_raw = json.dumps(secret, ensure_ascii=False)[1:-1]
    return {
        "once ascii": once_ascii,
        "once raw": once_raw,
        "once php": once_ascii.replace("/", "\\/"),
        "once dotnet": dotnet(secret),
        # httpbin's `data`: the JSON body as sent (raw), quoted again by an ASCII serializer.
        "twice": json.dumps(json.dumps({"card": secret}, ensure_ascii=False))[1:-1],
        "twice ascii": json.dumps(json.dumps(secret))[1:-1],
        "twice raw": json.dumps(json.dumps(secret, ensure_ascii=False), ensure_ascii=False)[1:-1],
        "percent": quote(secret, safe=""),
        "plus": quote_plus(secret),
    }


def basic(password: str) -> str:
    """The Basic credentials of `USER` with `password`: an upstream may echo the header."""
    return base64.b64encode(f"{USER}:{password}".encode()).decode()


def echo_body(secret: str) -> str:
    return "{" + ", ".join(f'"{k}": "{v}"' for k, v in echoed(secret).items()) + "}"


def leaks(secret: str, text: str) -> list[str]:
    """The spellings of `secret` (and the secret itself) still found in `text`."""
    found = [name for name, form in echoed(secret).items() if form in text]
    return found + (["plain"] if secret in text else [])


def shown(outcome: Outcome) -> str:
    """Everything the outcome shows: REST answers, problem bodies and `callout send` output."""
    console = Console(file=io.StringIO(), width=10_000, color_system=None)
    show_outcome(console, outcome)
    assert isinstance(console.file, io.StringIO)
    return "\n".join(
        [
            repr(outcome),
            json.dumps([outcome.outputs, outcome.alerts, outcome.message], ensure_ascii=False),
            json.dumps([outcome.outputs, outcome.alerts, outcome.message]),
            console.file.getvalue(),
        ]
    )


WHOLE_BODY = [
    {"name": "text", "source": "body", "path": ""},
    {"name": "json", "source": "body", "path": "$", "type": "object"},
    {"name": "twice", "source": "body", "path": "$.twice"},
]


@pytest.mark.parametrize("kind", SECRETS)
@pytest.mark.parametrize("status", [200, 500])
@pytest.mark.parametrize("trace", [False, True])
async def test_a_stored_password_and_a_secret_parameter_echoed_are_masked(
    upstream: Upstream, executor: Executor, kind: str, status: int, trace: bool
) -> None:
    password, card = SECRETS[kind], SECRETS[kind][::-1]
    auth = {"type": "basic", "username": USER, "password": password}
    request = request_def(
        method="POST",
        content_type="json",
        body=json.dumps({"card": "${card}"}),
        parameters=[
            {"name": "customerId", "type": "string", "required": True},
            {"name": "card", "type": "string", "required": True, "secret": True},
        ],
        outputs=[*WHOLE_BODY, {"name": "note", "target": "alert", "message": "${text}"}],
    )
    plan = compile_from(api_def(base_url=f"{upstream.url}/api", authorization=auth), request)
    echo = echo_body(password)[:-1] + f', "basic": "{basic(password)}", ' + echo_body(card)[1:]
    upstream.answer(status, echo)

    outcome = await executor.run(plan, {"customerId": "7", "card": card}, {}, trace=trace)

    assert outcome.outcome == ("success" if status == 200 else "failure")
    text = shown(outcome)
    assert leaks(password, text) == []
    assert leaks(card, text) == []
    assert basic(password) not in text
    assert MASK in text
    if trace:
        assert outcome.response is not None
        assert outcome.response.body.count(MASK) >= 2 * len(echoed(password)) - 2


@pytest.mark.parametrize("kind", SECRETS)
async def test_a_messaging_providers_refusal_quoting_a_secret_has_it_masked(
    upstream: Upstream, executor: Executor, kind: str
) -> None:
    token = SECRETS[kind]
    request = request_def(
        name="Post message",
        method="POST",
        endpoint_path="hooks",
        content_type="json",
        body=json.dumps({"text": "${token}"}),
        parameters=[{"name": "token", "type": "string", "required": True, "secret": True}],
        success_statuses=[200],
    )
    plan = compile_from(api_def(base_url=f"{upstream.url}/api", type="slack"), request)
    upstream.answer(400, "invalid_payload: " + echo_body(token))

    outcome = await executor.run(plan, {"token": token}, {})

    assert (outcome.reason, outcome.message is not None) == ("status", True)
    assert outcome.message is not None
    assert outcome.message.startswith("Slack answered 400: invalid_payload: ")
    assert leaks(token, shown(outcome)) == []


@pytest.mark.parametrize("kind", SECRETS)
async def test_a_token_endpoints_error_quoting_the_form_has_the_password_masked(
    upstream: Upstream, executor: Executor, kind: str
) -> None:
    password = SECRETS[kind]
    auth: dict[str, Any] = {
        "type": "oauth2",
        "grant": "password",
        "token_url": f"{upstream.url}/oauth/token",
        "client_id": "callout",
        "client_secret": password[::-1],
        "client_auth": "basic",
        "username": USER,
        "password": password,
    }
    form = f"grant_type=password&username={USER}&password={quote_plus(password)}"
    upstream.answer(
        400,
        {"error": "invalid_grant", "error_description": f"refused {form}; {echo_body(password)}"},
    )
    plan = compile_from(api_def(base_url=f"{upstream.url}/api", authorization=auth), request_def())

    outcome = await executor.run(plan, {"customerId": "7"}, {}, trace=True)

    assert outcome.reason == "authorization"
    assert outcome.message is not None
    assert "invalid_grant: refused grant_type=password" in outcome.message
    assert leaks(password, shown(outcome)) == []
