"""The per-client cap over several processes (nodes, each with its own link to the real
Redis): the sum of calls in flight never passes it, idle slots go back to the others, a
crashed process's slots come back after its lease, and a lost Redis leaves each process its
own cap until it is back."""

import asyncio
import random
import statistics
from time import perf_counter

import pytest
import redis.asyncio as redis

from callout.runtime.errors import TooManyCalls
from callout.runtime.shared.caps import TICK
from tests.redis_peer import RedisProxy
from tests.runtime.shared.conftest import Node, Nodes, until

CLIENT = 7


async def held(redis_url: str, node: Node, client_id: int = CLIENT) -> int:
    """Slots every process holds for the client in Redis."""
    client = redis.Redis.from_url(redis_url)
    try:
        values = await client.hvals(node.link.key("in-flight", client_id))
    finally:
        await client.aclose()
    return sum(int(value) for value in values)


async def test_the_sum_over_processes_never_passes_the_cap(nodes: Nodes, redis_url: str) -> None:
    processes = [await nodes(cap=8) for _ in range(4)]
    in_flight = busiest = admitted = 0
    refusals: list[float] = []

    async def call(node: Node) -> None:
        nonlocal in_flight, busiest, admitted
        await asyncio.sleep(random.uniform(0, 0.2))  # arriving over 0.2 s
        started = perf_counter()
        try:
            slots = await node.in_flight.enter(CLIENT)
        except TooManyCalls:
            refusals.append(perf_counter() - started)
            return
        in_flight += 1
        admitted += 1
        busiest = max(busiest, in_flight)
        await asyncio.sleep(random.uniform(0.005, 0.02))
        in_flight -= 1
        slots.leave(CLIENT)

    await asyncio.gather(*(call(processes[i % 4]) for i in range(500)))

    print(f"{admitted} admitted, busiest {busiest}")
    assert busiest == 8
    assert admitted + len(refusals) == 500
    assert admitted > 2 * 8  # slots are used again and again, across processes
    # Refused at once (after one more try), never queued for a slot: the typical refusal is
    # far below the tick that gives idle slots back. (The slowest is not the measure: with
    # 500 calls on one loop, a loaded runner delays a few of them by hundreds of ms.)
    assert statistics.median(refusals) < TICK, sorted(refusals)[-5:]
    # Idle slots go back to the pool within two ticks.
    await asyncio.sleep(2.5 * TICK)
    assert await held(redis_url, processes[0]) == 0


async def test_a_call_that_finds_the_cap_full_of_idle_slots_gets_one_at_once(
    nodes: Nodes,
) -> None:
    a, b = await nodes(cap=4), await nodes(cap=4)
    taken = [await a.in_flight.enter(CLIENT) for _ in range(4)]
    for slots in taken:
        slots.leave(CLIENT)  # idle in a, which would keep them until a tick found them unused
    left = perf_counter()

    # Refused at first, b tells every process; a gives its idle slots back, b asks again.
    await b.in_flight.enter(CLIENT)

    assert perf_counter() - left < TICK  # sooner than any tick could give them back


async def test_a_process_that_stops_gives_its_slots_back_at_once(
    nodes: Nodes, redis_url: str
) -> None:
    a, stopping = await nodes(cap=4), await nodes(cap=4)
    for _ in range(4):
        await stopping.in_flight.enter(CLIENT)

    await stopping.limits.close()

    assert await held(redis_url, a) == 0
    await a.in_flight.enter(CLIENT)


async def test_a_crashed_process_frees_its_slots_after_its_lease(
    nodes: Nodes, redis_url: str
) -> None:
    proxy = RedisProxy()
    await proxy.mend()
    a, crashed = await nodes(cap=4, lease=0.5), await nodes(url=proxy.url, cap=4, lease=0.5)
    for _ in range(4):
        await crashed.in_flight.enter(CLIENT)  # never left
    await proxy.cut()  # as Redis sees a crash: no slot given back, no lease renewed
    started = perf_counter()
    with pytest.raises(TooManyCalls):
        await a.in_flight.enter(CLIENT)

    while True:
        try:
            await a.in_flight.enter(CLIENT)
            break
        except TooManyCalls:
            await asyncio.sleep(0.02)
    freed = perf_counter() - started

    assert 0.3 < freed < 1.0
    assert await held(redis_url, a) == 1  # the crashed process's field is gone


async def test_a_lost_redis_leaves_each_process_its_own_cap_and_sharing_resumes_when_back(
    nodes: Nodes, redis_url: str
) -> None:
    proxy = RedisProxy()
    await proxy.mend()
    lost, other = await nodes(url=proxy.url, cap=2), await nodes(cap=2)
    out = [await lost.in_flight.enter(CLIENT) for _ in range(2)]

    await proxy.cut()
    await until(lambda: not lost.link.up)
    for slots in out:  # they end while Redis is away: their slots stay counted there
        slots.leave(CLIENT)
    # Calls go on, capped by this process alone.
    alone = [await lost.in_flight.enter(CLIENT) for _ in range(2)]
    with pytest.raises(TooManyCalls):
        await lost.in_flight.enter(CLIENT)
    assert alone == [lost.in_flight.local] * 2
    for slots in alone:
        slots.leave(CLIENT)
    with pytest.raises(TooManyCalls):  # the other process shares what Redis holds
        await other.in_flight.enter(CLIENT)

    await proxy.mend()
    await until(lambda: lost.link.up)
    # Back, the process sets its slots right (none in use) before any call asks for more.
    assert await lost.in_flight.count(CLIENT) == 0
    assert await held(redis_url, lost) == 0
    others = [await other.in_flight.enter(CLIENT) for _ in range(2)]
    with pytest.raises(TooManyCalls):  # shared again: the other process holds the cap
        await lost.in_flight.enter(CLIENT)
    for slots in others:
        slots.leave(CLIENT)
    await asyncio.sleep(2.5 * TICK)
    assert await lost.in_flight.enter(CLIENT) is lost.in_flight.held
    await proxy.cut()


async def test_the_count_is_over_every_process(nodes: Nodes) -> None:
    a, b = await nodes(cap=8), await nodes(cap=8)
    for _ in range(3):
        await a.in_flight.enter(CLIENT)
    await b.in_flight.enter(CLIENT)

    assert await a.in_flight.count(CLIENT) == 4
    assert await b.in_flight.count(CLIENT) == 4
