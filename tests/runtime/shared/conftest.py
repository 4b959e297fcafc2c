"""Processes sharing breakers and caps, in one test process: each `Node` has a `Link` of its
own to the real Redis (directly, or through a `RedisProxy` to cut, as Redis loses a process
that crashed or is cut off), and its own `SharedLimits`, as a `callout serve` process has.
A test's nodes share a namespace of their own, deleted afterwards.

    a, b = await nodes(), await nodes(cap=8, url=proxy.url)
"""

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import pytest
import redis.asyncio as redis

from callout.runtime.breaker import BreakerPolicy
from callout.runtime.shared.caps import LEASE, SharedInFlight
from callout.runtime.shared.circuits import SharedBreakers
from callout.runtime.shared.limits import SharedLimits
from callout.runtime.shared.link import Link
from tests.redis_peer import forget

T = TypeVar("T")


class CountingLink(Link):
    """A link that counts the commands it sends to Redis (a pipeline is one)."""

    round_trips = 0

    async def call(self, command: Callable[[Any], Awaitable[T]]) -> T:
        if self.up:
            self.round_trips += 1
        return await super().call(command)


@dataclass
class Node:
    """One process's link and limits."""

    link: CountingLink
    limits: SharedLimits

    @property
    def breakers(self) -> SharedBreakers:
        return self.limits.breakers

    @property
    def in_flight(self) -> SharedInFlight:
        return self.limits.in_flight


class Nodes(Protocol):
    async def __call__(
        self,
        *,
        url: str | None = None,
        cap: int = 8,
        policy: BreakerPolicy | None = None,
        lease: float = LEASE,
    ) -> Node: ...


@pytest.fixture
async def namespace(redis_url: str) -> AsyncIterator[str]:
    """A namespace of this test's own; its keys are deleted afterwards."""
    name = f"callout-test-{secrets.token_hex(6)}"
    yield name
    await forget(redis_url, name)


@pytest.fixture
async def nodes(redis_url: str, namespace: str) -> AsyncIterator[Nodes]:
    """Makes started nodes in the test's namespace, stopped when the test ends."""
    async with AsyncExitStack() as stack:

        async def node(
            *,
            url: str | None = None,
            cap: int = 8,
            policy: BreakerPolicy | None = None,
            lease: float = LEASE,
        ) -> Node:
            link = CountingLink(url or redis_url, namespace)
            limits = SharedLimits(link, cap, policy, lease)
            channel = link.key("circuits")
            before = await listeners(channel)
            await link.start()
            limits.start()
            stack.push_async_callback(link.close)
            stack.push_async_callback(limits.close)
            while await listeners(channel) == before:  # subscribed: it hears the others
                await asyncio.sleep(0.005)
            return Node(link, limits)

        async def listeners(channel: str) -> int:
            [(_, count)] = await watcher.pubsub_numsub(channel)
            return int(count)

        watcher = redis.Redis.from_url(redis_url)
        stack.push_async_callback(watcher.aclose)
        yield node


async def until(condition: Callable[[], bool], within: float = 5.0) -> float:
    """Seconds until `condition()` holds; fails past `within`."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < within, "never came to pass"
        await asyncio.sleep(0.001)
    return time.monotonic() - started
