"""The invocation history through a real `callout serve`, on SQLite and PostgreSQL: calls
buffered at shutdown are written before the process ends (SIGTERM), and every worker of
`--workers 2` writes its own calls to the one history."""

import asyncio
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from tests.cli import KEY, callout, callout_serve, wait_up
from tests.upstream import Upstream


def stop(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM, as an operator or a supervisor stops the server; it must end by itself
    (uvicorn shuts down gracefully, then ends by the signal it caught)."""
    server.terminate()
    assert server.wait(timeout=30) in (0, -signal.SIGTERM)


@asynccontextmanager
async def installed(tmp_path: Path, settings: dict[str, str]) -> AsyncIterator[tuple[Path, str]]:
    data_dir = tmp_path / "data"
    init = callout(data_dir, "init", **settings)
    found = KEY.search(init.stdout)
    assert found, init.stdout + init.stderr
    yield data_dir, found.group(0)


async def crm(session: aiohttp.ClientSession, root: str, upstream: Upstream) -> str:
    """An API with one request on the upstream; its invoke URL."""
    apis = f"{root}/api/v1/clients/demo/apis"
    async with session.post(apis, json={"name": "CRM", "base_url": upstream.url}) as made:
        assert made.status == 201, await made.text()
        api = await made.json()
    async with session.post(
        f"{apis}/{api['id']}/requests", json={"name": "Ping", "endpoint_path": "ping"}
    ) as made:
        assert made.status == 201, await made.text()
        request = await made.json()
    return f"{apis}/{api['id']}/requests/{request['id']}/invoke"


async def invoke(root: str, key: str, url: str) -> str:
    """One invoke on a connection of its own (so the workers share the calls out)."""
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {key}"}) as session,
        session.post(url, json={}) as response,
    ):
        body: dict[str, Any] = await response.json()
        assert response.status == 200, body
        return str(body["invocation_id"])


async def listed(root: str, key: str, wanted: int) -> list[dict[str, Any]]:
    """The history's calls, once `wanted` are there (each worker writes within 0.5 s)."""
    url = f"{root}/api/v1/clients/demo/invocations"
    items: list[dict[str, Any]] = []
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {key}"}) as session:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            items = []
            for offset in range(0, wanted + 200, 200):
                async with session.get(url, params={"limit": 200, "offset": offset}) as page:
                    assert page.status == 200, await page.text()
                    items += (await page.json())["items"]
            if len(items) >= wanted:
                break
            await asyncio.sleep(0.1)
    return items


async def test_calls_buffered_at_shutdown_are_listed_after_a_restart(
    tmp_path: Path, database_url: dict[str, str], upstream: Upstream
) -> None:
    upstream.answer(200, {"ok": True})
    log = tmp_path / "serve.log"
    async with installed(tmp_path, database_url) as (data_dir, key):
        # A flush interval no test waits for: only the shutdown can write these calls.
        idle = database_url | {"CALLOUT_HISTORY_FLUSH_SECONDS": "60"}
        with callout_serve(data_dir, log, **idle) as (server, root):
            await wait_up(root, server)
            async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {key}"}) as s:
                url = await crm(s, root, upstream)
            done = [await invoke(root, key, url) for _ in range(5)]
            stop(server)

        with callout_serve(data_dir, log, **database_url) as (server, root):
            await wait_up(root, server)
            items = await listed(root, key, 5)
            stop(server)

    assert [item["invocation_id"] for item in items] == done[::-1], log.read_text()[-3000:]
    assert {item["outcome"] for item in items} == {"success"}


async def test_every_workers_calls_are_listed(
    tmp_path: Path, database_url: dict[str, str], upstream: Upstream
) -> None:
    # Slow enough answers that calls in flight at once land on both workers.
    upstream.answer(200, {"ok": True}, delay=0.05)
    log = tmp_path / "serve.log"
    async with installed(tmp_path, database_url) as (data_dir, key):
        with callout_serve(data_dir, log, "--workers", "2", **database_url) as (server, root):
            await wait_up(root, server)
            async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {key}"}) as s:
                url = await crm(s, root, upstream)
            # The first worker up answers everything until the second is: wait for both.
            done: list[str] = []
            deadline = time.monotonic() + 20
            while len(_workers(done)) < 2 and time.monotonic() < deadline:
                done += await asyncio.gather(*(invoke(root, key, url) for _ in range(10)))
            done += await asyncio.gather(*(invoke(root, key, url) for _ in range(60)))
            items = await listed(root, key, len(done))
            stop(server)

    assert len(_workers(done)) == 2, log.read_text()[-3000:]
    assert sorted(item["invocation_id"] for item in items) == sorted(done)


def _workers(invocation_ids: list[str]) -> set[str]:
    """The processes that made these calls: an invocation id starts with its process's own
    random prefix (runtime/executor.py)."""
    return {invocation_id[:8] for invocation_id in invocation_ids}
