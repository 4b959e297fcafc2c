"""Circuit breakers over several processes (nodes, each with its own link to the real Redis):
failures seen through one open the circuit in all, the window counts every process's
verdicts, one probe goes over all, and a lost Redis leaves each process its own breakers
until it is back."""

import asyncio

import pytest

from callout.runtime.breaker import BreakerPolicy, Breakers, Verdict
from callout.runtime.errors import CircuitOpen
from callout.runtime.shared.circuits import Passed
from tests.redis_peer import RedisProxy
from tests.runtime.shared.conftest import Node, Nodes, until

CLIENT, API = 7, 3
SHORT = BreakerPolicy(consecutive=3, open_seconds=0.3)
HEARD = 0.5  # seconds a message may take to reach the other processes (about 1 ms, measured)


async def call(node: Node, failed: bool | None) -> None:
    """One call through the node's circuit, with its verdict."""
    admitted = await node.breakers.admit(CLIENT, API)
    await admitted.record(failed)


async def refuses(node: Node) -> bool:
    try:
        admitted = await node.breakers.admit(CLIENT, API)
    except CircuitOpen:
        return True
    await admitted.record(None)
    return False


async def refusing_within(node: Node, seconds: float) -> None:
    """Until the node refuses calls, for at most `seconds`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await refuses(node):
        assert loop.time() < deadline, "the circuit never opened here"
        await asyncio.sleep(0.001)


async def test_a_circuit_opened_through_one_process_refuses_in_the_others(nodes: Nodes) -> None:
    a, b = await nodes(policy=SHORT), await nodes(policy=SHORT)
    await call(b, False)  # b knows the circuit, closed

    for _ in range(SHORT.consecutive):
        await call(a, True)
    # Only the message can tell b: it makes no call meanwhile.
    heard = await until(lambda: b.breakers.circuits[(CLIENT, API)].state == "open", HEARD)
    started_later = await nodes(policy=SHORT)

    print(f"b heard the circuit open {heard * 1000:.1f} ms after a's last failure")
    assert await refuses(a)
    assert await refuses(b)
    assert await refuses(started_later)  # a process that starts reads the circuit
    [circuit] = (await started_later.breakers.view(CLIENT)).values()
    assert circuit.state == "open"
    assert circuit.retry_at() is not None


async def test_half_of_the_last_20_calls_over_processes_open_the_circuit(nodes: Nodes) -> None:
    processes = [await nodes() for _ in range(4)]  # the default: 5 in a row, or 10 of 20
    # Failures and successes by turns, never two failures in a row, over four processes.
    for turn in range(19):
        await call(processes[turn % 4], turn % 2 == 0)
        await asyncio.sleep(0.005)  # each heard the circuit turn dirty: successes count too
    [before] = (await processes[0].breakers.view(CLIENT)).values()
    await call(processes[3], False)  # the twentieth: 10 failures of the last 20 calls

    assert before.state == "closed"
    for node in processes:
        await refusing_within(node, HEARD)


async def test_successes_while_clean_cost_no_round_trip_and_count_in_the_window(
    nodes: Nodes,
) -> None:
    policy = BreakerPolicy(consecutive=100, window=4)
    a = await nodes(policy=policy)
    await a.limits.close()  # no lease to renew: only the circuit's round trips are counted
    await call(a, False)  # the first call reads the circuit
    round_trips = a.link.round_trips
    for _ in range(10):
        await call(a, False)
    assert a.link.round_trips == round_trips

    # Three successes sent with the first failure, so one failure in the last four calls...
    await call(a, True)
    await call(a, True)  # ...then two: half of them
    assert await refuses(a)


async def test_one_probe_goes_over_every_process_and_its_success_closes_all(
    nodes: Nodes,
) -> None:
    processes = [await nodes(policy=SHORT) for _ in range(4)]
    for _ in range(SHORT.consecutive):
        await call(processes[0], True)
    for node in processes:
        await refusing_within(node, HEARD)
    await asyncio.sleep(SHORT.open_seconds)

    async def admitted(node: Node) -> Verdict | None:
        try:
            return await node.breakers.admit(CLIENT, API)
        except CircuitOpen:
            return None

    tries = await asyncio.gather(*(admitted(node) for node in processes for _ in range(5)))
    [probe] = [verdict for verdict in tries if verdict is not None]
    assert isinstance(probe, Passed)
    assert probe.probe
    await probe.record(False)

    circuits = [node.breakers.circuits[(CLIENT, API)] for node in processes]
    await until(lambda: all(circuit.state == "closed" for circuit in circuits))
    for node in processes:
        await call(node, False)


async def test_a_failed_probe_opens_the_circuit_again_everywhere(nodes: Nodes) -> None:
    a, b = await nodes(policy=SHORT), await nodes(policy=SHORT)
    for _ in range(SHORT.consecutive):
        await call(a, True)
    await refusing_within(b, HEARD)
    await asyncio.sleep(SHORT.open_seconds)

    await call(b, True)  # the probe

    assert await refuses(a)
    assert await refuses(b)
    assert b.breakers.circuits[(CLIENT, API)].openings == 2


async def test_a_probe_given_up_on_frees_its_turn(nodes: Nodes) -> None:
    a, b = await nodes(policy=SHORT), await nodes(policy=SHORT)
    for _ in range(SHORT.consecutive):
        await call(a, True)
    await refusing_within(b, HEARD)
    await asyncio.sleep(SHORT.open_seconds)

    await call(a, None)  # the probe, cancelled
    await call(b, False)  # the next probe

    await until(lambda: a.breakers.circuits[(CLIENT, API)].state == "closed")


async def test_a_lost_redis_leaves_each_process_its_own_breakers_and_sharing_resumes(
    nodes: Nodes,
) -> None:
    proxy = RedisProxy()
    await proxy.mend()
    lost, other = await nodes(url=proxy.url, policy=SHORT), await nodes(policy=SHORT)
    await call(lost, False)

    await proxy.cut()
    await until(lambda: not lost.link.up)
    # No error from Redis reaches a call: the process's own breaker takes the verdicts.
    for _ in range(SHORT.consecutive):
        await call(lost, True)
    assert await refuses(lost)
    assert isinstance(lost.breakers.local, Breakers)
    assert not await refuses(other)  # Redis heard none of it

    await proxy.mend()
    await until(lambda: lost.link.up)
    assert not await refuses(lost)  # shared again: closed, as Redis has it
    for _ in range(SHORT.consecutive):
        await call(other, True)
    await refusing_within(lost, HEARD)
    await proxy.cut()


async def test_a_circuit_open_when_redis_is_lost_stays_open_in_each_process(
    nodes: Nodes,
) -> None:
    proxy = RedisProxy()
    await proxy.mend()
    lost, other = await nodes(url=proxy.url, policy=SHORT), await nodes(policy=SHORT)
    await call(lost, False)
    for _ in range(SHORT.consecutive):
        await call(other, True)
    await refusing_within(lost, HEARD)

    await proxy.cut()
    await until(lambda: not lost.link.up)

    assert await refuses(lost)
    await asyncio.sleep(SHORT.open_seconds)
    await call(lost, False)  # its own probe
    assert not await refuses(lost)
    await proxy.cut()


@pytest.mark.parametrize("failed", [True, False, None])
async def test_a_call_let_through_before_the_circuit_opened_has_no_say(
    nodes: Nodes, failed: bool | None
) -> None:
    a, b = await nodes(policy=SHORT), await nodes(policy=SHORT)
    old = await b.breakers.admit(CLIENT, API)  # out while the circuit opens and probes
    for _ in range(SHORT.consecutive):
        await call(a, True)
    await refusing_within(b, HEARD)
    await asyncio.sleep(SHORT.open_seconds)
    probe = await a.breakers.admit(CLIENT, API)

    await old.record(failed)

    [circuit] = (await a.breakers.view(CLIENT)).values()
    assert circuit.state == "half_open"
    await probe.record(False)
    assert a.breakers.circuits[(CLIENT, API)].state == "closed"
