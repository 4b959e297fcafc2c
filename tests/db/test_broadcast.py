"""Commits heard by every process through Redis: two real `callout serve` processes on one
database, each trusting its cached plans for a minute (CALLOUT_PLAN_TTL=60), so only the
message can explain that one calls what was just edited through the other; and Redis lost
in the middle, through a loopback proxy the test cuts and mends."""

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from callout.db.broadcast import Broadcast
from callout.db.engine import Changes
from callout.invocations import prometheus
from tests.cli import KEY, callout, callout_serve, free_port, wait_up
from tests.redis_peer import RedisProxy
from tests.upstream import Upstream


@dataclass
class Process:
    root: str
    log: Path

    def logged(self, text: str) -> int:
        return self.log.read_text().count(text)


@dataclass
class Pair:
    """Processes A (edits) and B (calls), an echoing upstream, and an API whose one request
    answers with the path it was sent to."""

    a: Process
    b: Process
    http: aiohttp.ClientSession
    api: str
    invoke: str
    version: int = 1

    async def runtime(self, process: Process) -> dict[str, Any]:
        async with self.http.get(f"{process.root}/api/v1/clients/demo/runtime") as answer:
            assert answer.status == 200
            state: dict[str, Any] = await answer.json()
            return state

    async def until_redis(self, process: Process, state: str, within: float = 10.0) -> None:
        deadline = time.monotonic() + within
        while (await self.runtime(process))["redis"] != state:
            assert time.monotonic() < deadline, f"redis never became {state}"
            await asyncio.sleep(0.05)

    async def called_path(self) -> str:
        """Invoke through B: the path the upstream saw."""
        async with self.http.post(self.b.root + self.invoke, json={}) as answer:
            result = await answer.json()
            assert answer.status == 200, result
            path: str = result["outputs"]["path"]
            return path

    async def edit_base(self, base_url: str) -> float:
        """Change the API's base URL through A; when A answered."""
        async with self.http.put(
            self.a.root + self.api,
            json={"name": "Echo", "base_url": base_url},
            headers={"If-Match": f'"{self.version}"'},
        ) as answer:
            assert answer.status == 200, await answer.text()
            self.version += 1
            return time.monotonic()

    async def heard_within(self, answered: float, path: str, bound: float) -> float:
        """Seconds from A's answer until B calls `path`; at most `bound`."""
        while (seen := await self.called_path()) != path:
            assert time.monotonic() - answered < bound, f"B still calls {seen}"
        return time.monotonic() - answered


@pytest.fixture
async def pair(
    tmp_path: Path, database_url: dict[str, str], redis_url: str
) -> AsyncIterator[tuple[Pair, Upstream, RedisProxy]]:
    data_dir = tmp_path / "data"
    init = callout(data_dir, "init", **database_url)
    found = KEY.search(init.stdout)
    assert found, init.stdout + init.stderr
    proxy = RedisProxy()
    await proxy.mend()
    shared = database_url | {
        "CALLOUT_PLAN_TTL": "60",
        "CALLOUT_ACCESS_TTL": "60",
        "CALLOUT_REDIS_NAMESPACE": f"callout-test-{secrets.token_hex(6)}",
    }
    async with AsyncExitStack() as stack:
        upstream = await stack.enter_async_context(Upstream())
        upstream.echo()
        a_log, b_log = tmp_path / "a.log", tmp_path / "b.log"
        a_server, a_root = stack.enter_context(
            callout_serve(data_dir, a_log, **shared, CALLOUT_REDIS_URL=redis_url)
        )
        b_server, b_root = stack.enter_context(
            callout_serve(data_dir, b_log, **shared, CALLOUT_REDIS_URL=proxy.url)
        )
        await asyncio.gather(wait_up(a_root, a_server), wait_up(b_root, b_server))
        http = await stack.enter_async_context(
            aiohttp.ClientSession(headers={"Authorization": f"Bearer {found.group(0)}"})
        )
        apis = "/api/v1/clients/demo/apis"
        async with http.post(
            a_root + apis, json={"name": "Echo", "base_url": f"{upstream.url}/v1"}
        ) as answer:
            assert answer.status == 201, await answer.text()
            api_id = (await answer.json())["id"]
        async with http.post(
            f"{a_root}{apis}/{api_id}/requests",
            json={
                "name": "Ping",
                "endpoint_path": "ping",
                "outputs": [{"name": "path", "path": "$.raw_path"}],
            },
        ) as answer:
            assert answer.status == 201, await answer.text()
            request_id = (await answer.json())["id"]
        pair = Pair(
            Process(a_root, a_log),
            Process(b_root, b_log),
            http,
            f"{apis}/{api_id}",
            f"{apis}/{api_id}/requests/{request_id}/invoke",
        )
        await pair.until_redis(pair.a, "connected")
        await pair.until_redis(pair.b, "connected")
        yield pair, upstream, proxy
        await proxy.cut()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_an_edit_through_one_process_is_called_by_another_within_100_ms(
    pair: tuple[Pair, Upstream, RedisProxy],
) -> None:
    processes, upstream, _ = pair
    assert await processes.called_path() == "/v1/ping"  # B has compiled and cached the plan
    assert await processes.called_path() == "/v1/ping"

    answered = await processes.edit_base(f"{upstream.url}/v2")
    delay = await processes.heard_within(answered, "/v2/ping", bound=0.1)

    print(f"B called the edited API {delay * 1000:.1f} ms after A answered the edit")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_calls_go_on_while_redis_is_lost_and_edits_are_heard_once_it_is_back(
    pair: tuple[Pair, Upstream, RedisProxy],
) -> None:
    processes, upstream, proxy = pair
    assert await processes.called_path() == "/v1/ping"

    await proxy.cut()
    await processes.until_redis(processes.b, "disconnected")
    await processes.edit_base(f"{upstream.url}/v2")
    # B falls back on its own cache, trusted for plan_ttl (60 s): the call succeeds, as before
    assert [await processes.called_path() for _ in range(3)] == ["/v1/ping"] * 3
    await asyncio.sleep(1.0)  # B tries again, and fails, several times meanwhile
    assert await processes.called_path() == "/v1/ping"

    await proxy.mend()
    await processes.until_redis(processes.b, "connected")
    assert await processes.called_path() == "/v2/ping"  # nothing cached while lost is trusted
    answered = await processes.edit_base(f"{upstream.url}/v3")
    await processes.heard_within(answered, "/v3/ping", bound=0.1)

    # Once each way, by what heard the commits and by what shares the runtime's state
    assert processes.b.logged("lost Redis on channel") == 1
    assert processes.b.logged("Redis is connected on channel") == 2
    assert processes.b.logged("lost Redis (") == 1
    assert processes.b.logged("Redis is connected: tokens") == 2


async def test_a_refused_redis_is_shown_and_commits_do_not_wait_for_it() -> None:
    class Cache:
        def forget(self, changes: Changes) -> None:
            raise AssertionError("nothing can be heard from a Redis that refuses")

        def clear(self) -> None:
            """Nothing is cached here."""

    states: list[bool] = []

    def shown(connected: bool) -> None:
        states.append(connected)
        prometheus.redis_connected(connected)

    broadcast = Broadcast(
        f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
        "callout:test:refused",
        [Cache()],
        on_state=shown,
    )
    broadcast.start()
    try:
        deadline = time.monotonic() + 5
        while not states:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)
        started = time.perf_counter()
        for _ in range(1000):
            broadcast.committed(Changes(apis=frozenset({1})))
        assert time.perf_counter() - started < 0.05
        assert broadcast.state == "disconnected"
        assert states == [False]
        assert (
            'callout_redis_connected{purpose="invalidation"} 0.0'
            in prometheus.exposition(None).decode()
        )
    finally:
        await broadcast.close()
