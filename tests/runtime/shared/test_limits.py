"""Real calls through executors whose breakers and caps are shared through the real Redis:
what a healthy API costs in round trips to Redis, and what a failing one does."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from time import perf_counter

from callout.runtime.executor import Executor
from callout.runtime.guard import Guard
from callout.runtime.http import HttpClient
from callout.runtime.plan import Plan
from tests.conftest import LOOPBACK
from tests.runtime.conftest import api_def, compile_from, request_def
from tests.runtime.shared.conftest import Node, Nodes
from tests.upstream import Upstream

CUSTOMER = {"customerId": "7"}


@asynccontextmanager
async def executor_of(node: Node) -> AsyncIterator[Executor]:
    http = HttpClient(Guard.from_entries(LOOPBACK))
    await http.start()
    try:
        yield Executor(
            http,
            breakers=node.breakers,
            in_flight=node.in_flight,
            max_in_flight=node.in_flight.cap,
        )
    finally:
        await http.close()


def plan_at(upstream: Upstream) -> Plan:
    return compile_from(api_def(base_url=f"{upstream.url}/api"), request_def())


async def test_a_healthy_api_at_steady_concurrency_costs_almost_no_round_trip_per_call(
    nodes: Nodes, upstream: Upstream
) -> None:
    node = await nodes(cap=100)
    plan = plan_at(upstream)
    async with executor_of(node) as executor:
        await executor.run(plan, CUSTOMER, {})  # reads the circuit: once per API and process
        before = node.link.round_trips
        queue = asyncio.Queue[None]()
        for _ in range(1000):
            queue.put_nowait(None)

        async def worker() -> None:
            while not queue.empty():
                queue.get_nowait()
                outcome = await executor.run(plan, CUSTOMER, {})
                assert outcome.outcome == "success", outcome

        started = perf_counter()
        await asyncio.gather(*(worker() for _ in range(16)))
        took = perf_counter() - started
        round_trips = node.link.round_trips - before

    print(
        f"1,000 calls at 16 in flight in {took:.2f} s: {round_trips} round trips to Redis "
        f"({round_trips / 1000:.3f} per call)"
    )
    # Slots are asked for as concurrency first grows, idle ones given back and the lease
    # renewed a few times a second; the breaker asks nothing.
    assert round_trips / 1000 < 0.05


async def test_a_failing_api_costs_one_round_trip_per_call_until_its_circuit_opens(
    nodes: Nodes, upstream: Upstream
) -> None:
    upstream.answer(500)
    node = await nodes()
    await node.limits.close()  # no lease renewed, no slot given back: its slot is kept
    plan = plan_at(upstream)
    async with executor_of(node) as executor:
        await executor.run(plan, CUSTOMER, {})  # the first failure: the circuit is dirty
        before = node.link.round_trips
        for _ in range(4):  # failures 2 to 5: the fifth opens it
            await executor.run(plan, CUSTOMER, {})
        opened = node.link.round_trips - before
        refused = [await executor.run(plan, CUSTOMER, {}) for _ in range(10)]

    assert opened == 4  # one per failure
    assert node.link.round_trips - before == opened  # refused at once, no round trip
    assert {outcome.reason for outcome in refused} == {"circuit_open"}
