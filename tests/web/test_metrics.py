"""`GET /metrics` scraped from a real `callout serve --workers 2`, after invokes on both workers.

The scrape is parsed with prometheus-client's own parser, as Prometheus would read it; the
counts must be every call made, whichever worker made it and whichever answers the scrape.
"""

import asyncio
import subprocess
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.cli import KEY, callout, callout_serve, free_port
from tests.conftest import Tenants
from tests.factories import invoke_url
from tests.invocations.test_router import crm, customer
from tests.upstream import Upstream

WORKERS = 2
TOKEN = "upstream-bearer-3f9c1d7e5b2a4c6e8d0f"  # the API's bearer token, sealed in storage
PIN = "pin-value-8e2d4b6f1a3c5e7d9b0a"  # a secret request parameter's value, sent per call
LIVE, DRY_RUNS, MOCKS, REFUSED = 40, 5, 3, 4
SAMPLE = '{"customer": {"name": "Bo", "balance": 1}}'


@dataclass(frozen=True)
class Serving:
    root: str
    admin_key: str  # the demo client's admin
    platform_key: str
    data_dir: Path
    log: Path
    process: subprocess.Popen[bytes]


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[Serving]:
    data_dir = tmp_path / "data"
    init = callout(data_dir, "init")
    admin = KEY.search(init.stdout)
    assert admin, init.stdout + init.stderr
    created = callout(data_dir, "apikey", "create", "--platform", "--name", "prometheus")
    platform = KEY.search(created.stdout)
    assert platform, created.stdout + created.stderr
    log = tmp_path / "serve.log"
    with callout_serve(data_dir, log, "--workers", str(WORKERS)) as (process, root):
        yield Serving(root, admin.group(0), platform.group(0), data_dir, log, process)


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    async with Upstream() as server:
        server.answer(200, {"customer": {"name": "Ann", "balance": 12.5}})
        yield server


async def _up(serving: Serving) -> None:
    """Both workers started: each logs that it is ready."""
    for _ in range(300):
        assert serving.process.poll() is None, serving.log.read_text()
        if serving.log.read_text().count("Application startup complete") == WORKERS:
            return
        await asyncio.sleep(0.1)
    pytest.fail("callout serve did not start its workers within 30 s")


def _session(key: str | None = None) -> aiohttp.ClientSession:
    # A new connection per call: the kernel hands each to whichever worker accepts first.
    return aiohttp.ClientSession(
        headers={"Authorization": f"Bearer {key}"} if key else {},
        connector=aiohttp.TCPConnector(force_close=True),
        timeout=aiohttp.ClientTimeout(total=30),
    )


async def _create(session: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> Any:
    async with session.post(url, json=body) as response:
        assert response.status == 201, await response.text()
        return await response.json()


async def _library(serving: Serving, upstream: Upstream) -> tuple[str, str]:
    """An API with a bearer token, a request with a path placeholder, a secret parameter and
    two outputs, and a second API nobody answers; the invoke URL of each."""
    apis = f"{serving.root}/api/v1/clients/demo/apis"
    async with _session(serving.admin_key) as session:
        crm = await _create(
            session,
            apis,
            {
                "name": "CRM",
                "base_url": f"{upstream.url}/api",
                "authorization": {"type": "bearer", "token": TOKEN},
            },
        )
        lookup = await _create(
            session,
            f"{apis}/{crm['id']}/requests",
            {
                "name": "Customer lookup",
                "endpoint_path": "customers/${customerId}",
                "query": [{"name": "pin", "value": "${pin}"}],
                "parameters": [
                    {"name": "customerId", "type": "number", "required": True},
                    {"name": "pin", "type": "string", "secret": True},
                ],
                "outputs": [
                    {"name": "name", "path": "$.customer.name"},
                    {"name": "balance", "path": "$.customer.balance", "type": "number"},
                ],
                "samples": [{"name": "found", "body": SAMPLE}],
            },
        )
        gone = await _create(
            session, apis, {"name": "Gone", "base_url": f"http://127.0.0.1:{free_port()}"}
        )
        ping = await _create(session, f"{apis}/{gone['id']}/requests", {"name": "Ping"})
    return (
        f"{apis}/{crm['id']}/requests/{lookup['id']}/invoke",
        f"{apis}/{gone['id']}/requests/{ping['id']}/invoke",
    )


async def _invoke_all(serving: Serving, lookup: str, gone: str | None) -> Counter[int]:
    """Every kind of call at once; with `gone` None, only the live lookups."""
    parameters = {"customerId": 7, "pin": PIN}
    bodies: list[tuple[str, dict[str, Any]]] = [(lookup, {"parameters": parameters})] * LIVE
    if gone is not None:
        bodies += (
            [(lookup, {"parameters": parameters, "mode": "dry_run"})] * DRY_RUNS
            + [(lookup, {"parameters": parameters, "mode": "mock", "sample": "found"})] * MOCKS
            + [(gone, {})] * REFUSED
        )
    async with _session(serving.admin_key) as session:

        async def one(url: str, body: dict[str, Any]) -> int:
            async with session.post(url, json=body) as response:
                await response.read()
                return response.status

        return Counter(await asyncio.gather(*(one(url, body) for url, body in bodies)))


async def _scrape(serving: Serving, key: str | None) -> tuple[int, str, str]:
    async with (
        _session(key) as session,
        session.get(f"{serving.root}/metrics") as response,
    ):
        return response.status, response.headers.get("Content-Type", ""), await response.text()


def _samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The value of each sample called `name`, by its labels (`le` aside)."""
    found: dict[tuple[tuple[str, str], ...], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


async def test_scrape_sums_both_workers_invocations_and_names_no_secret(
    serving: Serving, upstream: Upstream
) -> None:
    await _up(serving)
    lookup, gone = await _library(serving, upstream)
    statuses = await _invoke_all(serving, lookup, gone)
    assert statuses == {200: LIVE + DRY_RUNS + MOCKS, 502: REFUSED}, statuses
    # Which worker accepts a connection is the kernel's choice, and on a loaded machine one
    # may take a whole round: live lookups go on, on new connections, until both have calls
    # (the failing calls are not repeated: their breaker would open).
    rounds = 1
    counted = list(serving.data_dir.glob("metrics/serve-*/counter_*.db"))
    while len(counted) < WORKERS and rounds < 10:
        assert await _invoke_all(serving, lookup, None) == {200: LIVE}
        rounds += 1
        # Each worker keeps its counts in its own file.
        counted = list(serving.data_dir.glob("metrics/serve-*/counter_*.db"))
    assert len(counted) == WORKERS, counted
    assert len(upstream.received) == LIVE * rounds

    # Whichever worker answers, the scrape is the sum of both.
    for _ in range(4):
        status, media_type, text = await _scrape(serving, serving.platform_key)
        assert status == 200
        assert media_type.startswith("text/plain; version=0.0.4")
        calls = _samples(text, "callout_invocations_total")
        durations = _samples(text, "callout_invocation_duration_seconds_count")
        by = Counter[tuple[str, str, str]]()
        for labels, value in calls.items():
            named = dict(labels)
            by[(named["request"], named["mode"], named["outcome"])] += int(value)
        assert by == {
            ("Customer lookup", "live", "success"): LIVE * rounds,
            ("Customer lookup", "mock", "success"): MOCKS,
            ("Ping", "live", "failure"): REFUSED,
        }
        assert durations == calls
        success = next(
            dict(k) for k in calls if dict(k)["mode"] == "live" and dict(k)["outcome"] == "success"
        )
        assert success | {"api_id": "", "request_id": ""} == {
            "client": "demo",
            "api_id": "",
            "api": "CRM",
            "request_id": "",
            "request": "Customer lookup",
            "mode": "live",
            "outcome": "success",
            "reason": "",
        }
        assert lookup.endswith(f"/apis/{success['api_id']}/requests/{success['request_id']}/invoke")
        for secret in (TOKEN, PIN, serving.admin_key, serving.platform_key):
            assert secret not in text

    # Every worker logs, through the redaction filter: a line per failed call (a success is
    # logged at DEBUG only; the history and these metrics record it).
    log = serving.log.read_text()
    assert log.count(" mode=live outcome=failure") == REFUSED
    assert log.count(" mode=live outcome=success") == 0
    assert TOKEN not in log
    assert PIN not in log


async def test_only_a_platform_admin_may_scrape_and_each_run_leaves_no_files(
    serving: Serving,
) -> None:
    await _up(serving)
    assert (await _scrape(serving, None))[0] == 401
    assert (await _scrape(serving, serving.admin_key))[0] == 403
    assert (await _scrape(serving, serving.platform_key))[0] == 200

    runs = list(serving.data_dir.glob("metrics/serve-*"))
    assert len(runs) == 1
    serving.process.terminate()
    assert serving.process.wait(timeout=20) == 0
    assert not runs[0].exists()


async def test_one_process_answers_its_own_counts_without_dry_runs(
    http: httpx.AsyncClient, tenants: Tenants, upstream: Upstream
) -> None:
    a = tenants.a
    api_id, request_id = await crm(http, a, upstream)

    async def counts() -> Counter[tuple[str, str]]:
        response = await http.get("/metrics", headers=tenants.platform)
        assert response.status_code == 200
        found = Counter[tuple[str, str]]()
        for labels, value in _samples(response.text, "callout_invocations_total").items():
            named = dict(labels)
            if (named["client"], named["api_id"]) == (a.code, str(api_id)):
                found[(named["mode"], named["outcome"])] += int(value)
        return found

    before = await counts()  # counters live as long as the process: other tests count too
    for action, body in [
        ("invoke", customer()),
        ("test", customer()),
        ("invoke", customer(mode="dry_run")),
    ]:
        answer = await http.post(
            invoke_url(a, api_id, request_id, action), json=body, headers=a.editor
        )
        assert answer.status_code == 200, answer.text

    assert (await counts()) - before == {("live", "success"): 1, ("test", "success"): 1}
