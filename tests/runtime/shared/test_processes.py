"""Breakers and caps over real `callout serve` processes: three of them on one PostgreSQL
database and one Redis, started once for the module (each takes seconds of CPU to start),
with a cap of 8 calls in flight per client. The cap holds over the sum of their calls (a
slow upstream counts how many reach it at once), and a circuit opened by failures seen
through one process refuses calls through the others."""

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from time import perf_counter
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from tests.cli import KEY, callout, callout_serve, wait_up
from tests.conftest import empty_postgres
from tests.redis_peer import forget
from tests.upstream import Upstream

pytestmark = pytest.mark.asyncio(loop_scope="module")

PROCESSES = 3
CAP = 8
APIS = "/api/v1/clients/demo/apis"


@dataclass
class Cluster:
    roots: list[str]
    http: aiohttp.ClientSession
    slow: Upstream  # answers after a pause: calls stay in flight
    failing: Upstream
    slow_invoke: str
    failing_invoke: str

    async def invoke(self, root: str, path: str) -> tuple[int, str | None, float]:
        """Status, reason and seconds of one invoke through the process at `root`."""
        started = perf_counter()
        async with self.http.post(root + path, json={}) as answer:
            body: dict[str, Any] = await answer.json()
            return answer.status, body.get("reason"), perf_counter() - started

    async def runtime(self, root: str) -> dict[str, Any]:
        async with self.http.get(f"{root}/api/v1/clients/demo/runtime") as answer:
            assert answer.status == 200
            state: dict[str, Any] = await answer.json()
            return state

    async def request_of(self, upstream: Upstream, name: str) -> str:
        """An API on `upstream` with one request, made through the first process: its
        invoke path."""
        async with self.http.post(
            self.roots[0] + APIS, json={"name": name, "base_url": upstream.url}
        ) as answer:
            assert answer.status == 201, await answer.text()
            api_id = (await answer.json())["id"]
        async with self.http.post(
            f"{self.roots[0]}{APIS}/{api_id}/requests",
            json={"name": "Ping", "endpoint_path": "ping"},
        ) as answer:
            assert answer.status == 201, await answer.text()
            request_id = (await answer.json())["id"]
        return f"{APIS}/{api_id}/requests/{request_id}/invoke"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def cluster(
    tmp_path_factory: pytest.TempPathFactory, redis_url: str
) -> AsyncIterator[Cluster]:
    folder = tmp_path_factory.mktemp("processes")
    with empty_postgres() as database_url:
        database = {"CALLOUT_DATABASE_URL": database_url}
        data_dir = folder / "data"
        init = callout(data_dir, "init", **database)
        found = KEY.search(init.stdout)
        assert found, init.stdout + init.stderr
        namespace = f"callout-test-{secrets.token_hex(6)}"
        shared = database | {
            "CALLOUT_REDIS_URL": redis_url,
            "CALLOUT_REDIS_NAMESPACE": namespace,
            "CALLOUT_CLIENT_MAX_IN_FLIGHT": str(CAP),
        }
        async with AsyncExitStack() as stack:
            stack.push_async_callback(forget, redis_url, namespace)  # once they have stopped
            started = [
                stack.enter_context(callout_serve(data_dir, folder / f"{n}.log", **shared))
                for n in range(PROCESSES)
            ]
            await asyncio.gather(*(wait_up(root, server) for server, root in started))
            slow = await stack.enter_async_context(Upstream())
            failing = await stack.enter_async_context(Upstream())
            http = await stack.enter_async_context(
                aiohttp.ClientSession(
                    headers={"Authorization": f"Bearer {found.group(0)}"},
                    connector=aiohttp.TCPConnector(limit=0),  # every call at once
                )
            )
            cluster = Cluster([root for _, root in started], http, slow, failing, "", "")
            cluster.slow_invoke = await cluster.request_of(slow, "Slow")
            cluster.failing_invoke = await cluster.request_of(failing, "Failing")
            for root in cluster.roots:  # each has checked the key and compiled the plan
                assert (await cluster.invoke(root, cluster.slow_invoke))[0] == 200
            yield cluster


async def test_the_cap_holds_over_the_calls_of_every_process(cluster: Cluster) -> None:
    cluster.slow.answer(200, {"ok": True}, delay=1.0)
    calls = asyncio.gather(
        *(cluster.invoke(cluster.roots[n % PROCESSES], cluster.slow_invoke) for n in range(200))
    )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while cluster.slow.busy < CAP:
        assert loop.time() < deadline, f"only {cluster.slow.busy} calls reached the upstream"
        await asyncio.sleep(0.01)
    shown = [await cluster.runtime(root) for root in cluster.roots]
    results = await calls

    succeeded = [result for result in results if result[0] == 200]
    refused = [result for result in results if result[0] == 429]
    assert cluster.slow.busiest == CAP  # never more at once, whichever process sent them
    assert len(succeeded) >= CAP
    assert len(succeeded) + len(refused) == 200
    assert {reason for _, reason, _ in refused} == {"too_many_calls"}
    slowest = max(took for _, _, took in refused)
    assert slowest < 1.0  # at once: not queued behind the calls in flight (1 s each)
    # Every process shows the calls in flight over all of them.
    assert [(s["in_flight"], s["max_in_flight"]) for s in shown] == [(CAP, CAP)] * PROCESSES
    print(f"{len(succeeded)} succeeded, {len(refused)} refused, the slowest in {slowest:.3f} s")


async def test_a_circuit_opened_through_one_process_refuses_through_the_others(
    cluster: Cluster,
) -> None:
    first, heard, read = cluster.roots
    cluster.failing.answer(200)  # a first call through `heard`: it knows the circuit, closed
    cluster.failing.answer(503)
    assert (await cluster.invoke(heard, cluster.failing_invoke))[0] == 200

    failures = [await cluster.invoke(first, cluster.failing_invoke) for _ in range(5)]
    # `heard` is told by the message; `read` reads the circuit on its first call.
    refusals = [await cluster.invoke(root, cluster.failing_invoke) for root in (heard, read)]
    state = await cluster.runtime(read)

    assert [(status, reason) for status, reason, _ in failures] == [(502, "status")] * 5
    assert [(status, reason) for status, reason, _ in refusals] == [(503, "circuit_open")] * 2
    assert max(took for _, _, took in refusals) < 0.5
    assert len(cluster.failing.received) == 1 + 5 * 3  # a GET answered 503 is tried 3 times
    [circuit] = [c for c in state["circuits"] if f"/apis/{c['api_id']}/" in cluster.failing_invoke]
    assert circuit["state"] == "open"
    assert circuit["retry_at"] is not None
