"""Tokens in Redis (runtime/shared/tokens.py) against the real Redis: several stores, each
with a link of its own, stand for several processes of one installation (a namespace per
test). What the processes do through it, end to end, is in tests/test_fleet.py."""

import asyncio
import time

import pytest
import redis.asyncio as redis

from callout.db.crypto import KeySource
from callout.invocations.shared import KeyringSealer
from callout.runtime.auth.tokens import Credential, held_off, note_refusal
from callout.runtime.errors import AuthError
from callout.runtime.shared import tokens
from callout.runtime.shared.link import Link
from callout.runtime.shared.tokens import RedisTokenStore
from tests.cli import free_port
from tests.redis_peer import RedisProxy
from tests.runtime.conftest import Stores

KEY = "oauth2:1:2:3"


def token(value: str, seconds: float = 3600, refresh: str | None = None) -> Credential:
    now = time.time()
    return Credential(value, now, now + seconds * 0.8, now + seconds, refresh)


async def cold_call(store: RedisTokenStore, fetched: list[str]) -> str:
    """What a scheme does on a call (auth/oauth2/scheme.py): the cached token, or one
    fetched by a single flight."""
    cached = await store.get(KEY)
    if cached is not None and cached.usable(store.now()):
        return cached.value
    async with store.flight(KEY):
        cached = await store.get(KEY)
        if cached is not None and cached.usable(store.now()):
            return cached.value
        await asyncio.sleep(0.05)  # the token endpoint's answer takes a while
        fetched.append(f"at-{len(fetched)}")
        await store.put(KEY, token(fetched[-1]))
        return fetched[-1]


async def test_a_thousand_cold_calls_over_four_processes_fetch_one_token(
    stores: Stores,
) -> None:
    four = await stores(4)
    fetched: list[str] = []
    got = await asyncio.gather(*(cold_call(four[n % 4], fetched) for n in range(1000)))
    assert fetched == ["at-0"]
    assert set(got) == {"at-0"}


async def test_redis_holds_the_token_sealed_and_bound_to_its_key(
    stores: Stores, redis_url: str
) -> None:
    (store,) = await stores(1)
    await store.put(KEY, token("at-plain-value", refresh="rt-plain-value"))
    plain = redis.Redis.from_url(redis_url)
    name = store.link.key("credential", KEY)
    raw = await plain.get(name)
    assert raw is not None
    assert b"plain-value" not in raw
    ttl = await plain.pttl(name)
    assert 24 * 3600_000 < ttl <= (24 * 3600 + 3600) * 1000  # the refresh token a day longer

    other = store.link.key("credential", "oauth2:1:2:4")  # moved under another API version
    await plain.set(other, raw)
    await plain.aclose()
    assert await store.get("oauth2:1:2:4") is None
    found = await store.get(KEY)
    assert found is not None
    assert found.refresh_token == "rt-plain-value"
    assert await store.get(KEY) is found  # unchanged: the same credential, not opened again


async def test_a_holder_that_lost_its_lease_cannot_overwrite_the_newer_token(
    stores: Stores, redis_url: str
) -> None:
    a, b = await stores(2)
    plain = redis.Redis.from_url(redis_url)
    async with a.flight(KEY):
        await plain.delete(a.link.key("lock", KEY))  # A stalled past its lease
        async with b.flight(KEY):
            await b.put(KEY, token("at-new", refresh="rt-new"))
        await a.put(KEY, token("at-stale", refresh="rt-stale"))
    await plain.aclose()
    current = await b.get(KEY)
    assert current is not None
    assert (current.value, current.refresh_token) == ("at-new", "rt-new")


async def test_expiring_a_refused_token_leaves_a_newer_one_alone(stores: Stores) -> None:
    a, b = await stores(2)
    await a.put(KEY, token("at-1"))
    sent = await a.get(KEY)
    assert sent is not None
    async with b.flight(KEY):
        await b.put(KEY, token("at-2"))  # B renewed meanwhile
    await a.expire(KEY, sent)  # A's call was refused with the old token
    current = await a.get(KEY)
    assert current is not None
    assert current.value == "at-2"
    assert current.usable(a.now())

    await a.expire(KEY, current)
    expired = await b.get(KEY)
    assert expired is None  # no refresh token to keep: nothing left


async def test_a_value_taken_by_processes_at_once_is_taken_by_one(stores: Stores) -> None:
    # An authorization's state (invocations/authorize.py): callbacks through several
    # processes at once.
    processes = await stores(4)
    await processes[0].put(KEY, token("state"))

    taken = await asyncio.gather(*(store.take(KEY) for store in processes for _ in range(5)))

    assert [found.value for found in taken if found is not None] == ["state"]
    assert await processes[1].get(KEY) is None


async def test_a_refusal_noted_in_one_process_holds_off_the_others(stores: Stores) -> None:
    a, b = await stores(2)
    await held_off(b, KEY, 3)
    await note_refusal(a, KEY, "the token endpoint refused the client_credentials grant")
    with pytest.raises(AuthError, match="not sent again"):
        await held_off(b, KEY, 3)


async def test_waiters_in_other_processes_wake_when_the_flight_ends(stores: Stores) -> None:
    a, b = await stores(2)
    released = asyncio.Event()

    async def hold() -> float:
        async with a.flight(KEY):
            released.set()
            await asyncio.sleep(0.3)
        return time.monotonic()

    holder = asyncio.create_task(hold())
    await released.wait()
    async with b.flight(KEY):
        woke = time.monotonic()
    assert woke - await holder < tokens.POLL  # the message woke it, not a poll


async def test_calls_go_on_with_their_own_tokens_while_redis_is_lost(stores: Stores) -> None:
    proxy = RedisProxy()
    await proxy.mend()
    shared, (cut,) = await stores(1), await stores(1, proxy.url)
    fetched: list[str] = []
    assert await cold_call(cut, fetched) == "at-0"

    await proxy.cut()
    started = time.monotonic()
    assert await cold_call(cut, fetched) == "at-1"  # its own: the shared one is out of reach
    assert cut.link.state == "disconnected"
    await asyncio.gather(*(cold_call(cut, fetched) for _ in range(100)))
    assert time.monotonic() - started < 2 * tokens.POLL + 1
    assert fetched == ["at-0", "at-1"]  # one of its own, fetched once for the hundred

    await proxy.mend()
    deadline = time.monotonic() + 10
    while not cut.link.up:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    assert await cold_call(cut, fetched) == "at-0"  # the shared one again
    assert await cold_call(shared[0], fetched) == "at-0"
    await proxy.cut()


async def test_a_store_whose_redis_refuses_from_the_start_goes_on_alone(keys: KeySource) -> None:
    states: list[bool] = []
    link = Link(f"redis://127.0.0.1:{free_port()}/0", "callout-test", on_state=states.append)
    store = RedisTokenStore(link, KeyringSealer(keys), time.time)
    await link.start()
    try:
        assert (link.state, states) == ("disconnected", [False])
        fetched: list[str] = []
        started = time.monotonic()
        assert await cold_call(store, fetched) == "at-0"
        assert await cold_call(store, fetched) == "at-0"
        assert time.monotonic() - started < 0.5  # the down link is not tried for each call
    finally:
        await link.close()
