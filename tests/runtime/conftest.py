"""Runtime fixtures: plans compiled from plain dicts, and an executor on a real HTTP client.

plan = compile_from(api_def(), request_def(endpoint_path="customers/${customerId}"))
plan = on_upstream(request_def(...), api={"authorization": {...}})  # base URL on loopback
"""

import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack
from typing import Any

import pytest
import redis.asyncio as redis

from callout.apis.schemas import ApiWrite, RequestWrite
from callout.db.crypto import KeySource, generate_entry, parse_keys
from callout.invocations.compile import compile_plan
from callout.invocations.shared import KeyringSealer
from callout.runtime.executor import Executor
from callout.runtime.http import HttpClient
from callout.runtime.plan import Plan, PlanKey
from callout.runtime.shared.link import Link
from callout.runtime.shared.tokens import RedisTokenStore
from tests.upstream import Upstream

BASE_URL = "https://crm.example.com/api"
KEY = PlanKey(client_id=1, api_id=1, request_id=1, api_version=1, request_version=1)


def api_def(**changes: Any) -> dict[str, Any]:
    """An API definition as the REST API takes it, with `changes` on top."""
    return {"name": "CRM", "base_url": BASE_URL} | changes


def request_def(**changes: Any) -> dict[str, Any]:
    """A request under it: `GET v1/customers/${customerId}`, one required string parameter."""
    body: dict[str, Any] = {
        "name": "Get customer",
        "method": "GET",
        "url_path": "v1",
        "endpoint_path": "customers/${customerId}",
        "parameters": [{"name": "customerId", "type": "string", "required": True}],
    }
    return body | changes


def compile_from(api: Mapping[str, Any], request: Mapping[str, Any]) -> Plan:
    """A plan, through the same schemas and compiler the service uses."""
    return compile_plan(KEY, ApiWrite.model_validate(api), RequestWrite.model_validate(request))


def plan_of(**request_changes: Any) -> Plan:
    """A plan on `BASE_URL` for `request_def(**request_changes)`."""
    return compile_from(api_def(), request_def(**request_changes))


PlanFactory = Callable[..., Plan]


@pytest.fixture
def on_upstream(upstream: Upstream) -> PlanFactory:
    """Builds plans whose API's base URL is `<upstream>/api`:
    `on_upstream(endpoint_path=..., api={"authorization": ...})`."""

    def build(api: Mapping[str, Any] | None = None, **request_changes: Any) -> Plan:
        definition = api_def(base_url=f"{upstream.url}/api", **(api or {}))
        return compile_from(definition, request_def(**request_changes))

    return build


@pytest.fixture
def executor(outbound: HttpClient) -> Executor:
    """An executor on a started HTTP client that may reach loopback."""
    return Executor(outbound)


Stores = Callable[..., Awaitable[list[RedisTokenStore]]]


@pytest.fixture
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeySource:
    folder = tmp_path_factory.mktemp("keys")
    return KeySource(folder / "key", parse_keys(generate_entry(), "test"))


@pytest.fixture
async def stores(redis_url: str, keys: KeySource) -> AsyncIterator[Stores]:
    """`await stores(n)`: n token stores in Redis of one installation, as n processes
    hold them, each with its own link (`await stores(1, url)`: through another address;
    `clock=`: the stores' clock)."""
    namespace = f"callout-test-{secrets.token_hex(6)}"
    async with AsyncExitStack() as stack:

        async def make(
            count: int, url: str = redis_url, clock: Callable[[], float] = time.time
        ) -> list[RedisTokenStore]:
            made = []
            for _ in range(count):
                link = Link(url, namespace)
                store = RedisTokenStore(link, KeyringSealer(keys), clock)
                await link.start()
                stack.push_async_callback(link.close)
                made.append(store)
            return made

        yield make
        plain = redis.Redis.from_url(redis_url)
        names = [name async for name in plain.scan_iter(f"{namespace}:*")]
        if names:
            await plain.delete(*names)
        await plain.aclose()
