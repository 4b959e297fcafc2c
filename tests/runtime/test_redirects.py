"""Redirects of a call: secrets in a body stay with the API's origin, and a loop has its own
reason."""

import json

import pytest

from callout.runtime.errors import RedirectRefused
from callout.runtime.executor import Executor
from callout.runtime.http import Outgoing, redirected
from tests.runtime.conftest import PlanFactory
from tests.upstream import Upstream

CARD = "4111111111111111"


def card_request(content_type: str = "json") -> dict[str, object]:
    """A POST whose body places a secret parameter (a card number)."""
    changes: dict[str, object] = {
        "method": "POST",
        "endpoint_path": "payments",
        "content_type": content_type,
        "parameters": [
            {"name": "card", "type": "string", "required": True, "secret": True},
            {"name": "note", "type": "string"},
        ],
    }
    if content_type == "form":
        changes["form"] = [{"name": "card", "value": "${card}"}]
    else:
        changes["body"] = json.dumps({"card": "${card}"})
    return changes


@pytest.mark.parametrize("status", [307, 308])
@pytest.mark.parametrize("content_type", ["json", "form"])
async def test_a_body_with_a_secret_parameter_is_not_redirected_to_another_origin(
    upstream: Upstream,
    executor: Executor,
    on_upstream: PlanFactory,
    status: int,
    content_type: str,
) -> None:
    async with Upstream() as other:  # same address, another port: another origin
        upstream.answer(status, headers={"Location": f"{other.url}/collect"})
        outcome = await executor.run(on_upstream(**card_request(content_type)), {"card": CARD}, {})
        assert other.received == []
    assert (outcome.outcome, outcome.reason) == ("failure", "redirect_refused")
    assert outcome.message is not None
    assert "another origin" in outcome.message
    assert "holding secrets" in outcome.message
    assert CARD not in outcome.message
    assert len(upstream.received) == 1


async def test_a_body_with_a_secret_parameter_follows_a_redirect_within_its_origin(
    upstream: Upstream, executor: Executor, on_upstream: PlanFactory
) -> None:
    upstream.answer(307, headers={"Location": "/api/v1/payments/again"})
    upstream.answer(200, {"ok": True})
    outcome = await executor.run(on_upstream(**card_request()), {"card": CARD}, {})
    assert outcome.outcome == "success", outcome.message
    assert [seen.body for seen in upstream.received] == [json.dumps({"card": CARD}).encode()] * 2


async def test_a_body_without_secrets_follows_a_redirect_to_another_origin(
    upstream: Upstream, executor: Executor, on_upstream: PlanFactory
) -> None:
    request = card_request() | {"body": json.dumps({"note": "${note}"})}
    async with Upstream() as other:
        upstream.answer(307, headers={"Location": f"{other.url}/collect"})
        other.answer(200, {"ok": True})
        outcome = await executor.run(on_upstream(**request), {"card": CARD, "note": "hi"}, {})
        assert [seen.body for seen in other.received] == [b'{"note": "hi"}']
    assert outcome.outcome == "success", outcome.message


async def test_a_secret_body_turned_into_a_get_by_a_303_may_go_anywhere(
    upstream: Upstream, executor: Executor, on_upstream: PlanFactory
) -> None:
    async with Upstream() as other:
        upstream.answer(303, headers={"Location": f"{other.url}/receipt"})
        other.answer(200, {"ok": True})
        outcome = await executor.run(on_upstream(**card_request()), {"card": CARD}, {})
        [seen] = other.received
    assert outcome.outcome == "success", outcome.message
    assert (seen.method, seen.body) == ("GET", b"")


async def test_more_than_five_redirects_have_their_own_reason(
    upstream: Upstream, executor: Executor, on_upstream: PlanFactory
) -> None:
    upstream.answer(302, headers={"Location": "/api/v1/customers/again"})
    outcome = await executor.run(on_upstream(), {"customerId": "7"}, {})
    assert (outcome.outcome, outcome.reason) == ("failure", "too_many_redirects")
    assert outcome.message == "more than 5 redirects"
    assert len(upstream.received) == 6


@pytest.mark.parametrize(("method", "status"), [("PUT", 301), ("PATCH", 302), ("POST", 308)])
def test_any_redirect_that_keeps_a_secret_body_stays_within_its_origin(
    method: str, status: int
) -> None:
    outgoing = Outgoing(method, "https://api.example.com/token", body=b"x", secret_body=True)
    with pytest.raises(RedirectRefused):
        redirected(outgoing, status, "https://elsewhere.example.com/token")
    assert redirected(outgoing, status, "/v2/token").body == b"x"
