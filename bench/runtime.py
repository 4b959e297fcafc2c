"""Runtime benchmark: requests/s through the executor against a bare aiohttp loop.

Starts a loopback upstream that answers every request with the same small JSON body, in its
own process (pinned to its own CPU when there are two), then sends the same `--requests` calls
at `--concurrency` in flight, alternating in `--rounds` rounds:

    a  bare      one aiohttp session (HttpClient's connector settings), a bearer header,
                 the body read and JSON-decoded
    b  executor  `Executor(HttpClient())` with a compiled plan: bearer authorization, two path
                 placeholders and a query placeholder, two JSONPath outputs, tracing off

It prints the median rate of each, the ratio b/a against the goal of 0.8, and the executor's
cost per call in microseconds (1/b - 1/a).

    .venv/bin/python bench/runtime.py [--requests 5000] [--concurrency 32] [--rounds 3]
"""

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp

from callout.apis.schemas import ApiWrite, RequestWrite
from callout.runtime.executor import Executor
from callout.runtime.http import USER_AGENT, HttpClient
from callout.runtime.plan import Plan, PlanKey, compile_plan

GOAL_RATIO = 0.8
TOKEN = "bench-token-7d1f0c2a9e4b4f6b8a3c5d2e1f0a9b8c"
STATUSES = ("open", "closed", "all")
CUSTOMER = {
    "customer": {
        "id": 4711,
        "name": "Ann Example",
        "email": "ann@example.com",
        "balance": 1234.56,
        "tier": "gold",
    },
    "items": [
        {"sku": "A-100", "quantity": 2, "price": 19.99},
        {"sku": "B-220", "quantity": 1, "price": 249.0},
        {"sku": "C-310", "quantity": 5, "price": 3.5},
    ],
    "updated": "2025-01-31T12:00:00Z",
}
BODY = json.dumps(CUSTOMER, separators=(",", ":")).encode()
RESPONSE = (
    b"HTTP/1.1 200 OK\r\n"
    b"Content-Type: application/json\r\n"
    b"Content-Length: " + str(len(BODY)).encode() + b"\r\n"
    b"Server: bench\r\n"
    b"\r\n" + BODY
)


# The upstream: a process of its own, so its work never takes the client's CPU.


class _Answering(asyncio.Protocol):
    """HTTP/1.1 keep-alive, reduced to what the benchmark sends: each request head (GET, no
    body) gets the same prepared answer. Far cheaper than a general server, so the upstream
    is never what limits the rate (the report shows how busy it was)."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._pending = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        data = self._pending + data
        heads = data.count(b"\r\n\r\n")
        if heads and self._transport is not None:
            self._transport.write(RESPONSE * heads)
            data = data[data.rfind(b"\r\n\r\n") + 4 :]
        self._pending = data


def _serve(ready: Connection, cpu: int | None) -> None:
    """The upstream process: bind a free loopback port, say which, answer until terminated."""
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})

    async def serve() -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        server = await asyncio.get_running_loop().create_server(_Answering, sock=sock)
        ready.send(sock.getsockname()[1])
        await server.serve_forever()

    asyncio.run(serve())


@dataclass(frozen=True)
class Upstream:
    url: str
    pid: int
    cpu: int | None

    def cpu_seconds(self) -> float | None:
        """CPU time the upstream has used so far (Linux), or None when it cannot be read."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def upstream(cpu: int | None) -> Iterator[Upstream]:
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter: nothing shared
    parent, child = spawn.Pipe(duplex=False)
    process = spawn.Process(target=_serve, args=(child, cpu), daemon=True)
    process.start()
    try:
        deadline = time.monotonic() + 30
        while not parent.poll(0.1):
            if not process.is_alive():
                raise RuntimeError(f"the upstream exited with status {process.exitcode}")
            if time.monotonic() > deadline:
                raise RuntimeError("the upstream did not start within 30 s")
        port: int = parent.recv()
        assert process.pid is not None
        yield Upstream(f"http://127.0.0.1:{port}", process.pid, cpu)
    finally:
        process.terminate()
        process.join(10)
        if process.is_alive():
            process.kill()
            process.join()


def pin() -> tuple[int | None, int | None]:
    """(client CPU, upstream CPU): one each when two are usable, else no pinning (or no
    affinity calls at all, as on macOS)."""
    if not hasattr(os, "sched_getaffinity"):
        return None, None
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, None
    os.sched_setaffinity(0, {cpus[0]})
    return cpus[0], cpus[1]


# The two loops. Call number i sends the same request in both: customer, order and status
# vary with i, so the executor renders something new each time.


def values(i: int) -> tuple[int, str, str]:
    return 1000 + i % 9000, f"A-{i:06d}", STATUSES[i % len(STATUSES)]


Call = Callable[[int], Awaitable[None]]


async def drive(call: Call, requests: int, concurrency: int) -> float:
    """Seconds to make `requests` calls, `concurrency` in flight (workers sharing a counter)."""
    numbers = iter(range(requests))

    async def worker() -> None:
        for i in numbers:
            await call(i)

    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for _ in range(concurrency):
            group.create_task(worker())
    return time.perf_counter() - started


class Bare:
    """(a) What a client written by hand does: build the URL, send, read, decode, pick."""

    def __init__(self, url: str) -> None:
        self.base = f"{url}/api/customers"
        self.headers = {"Authorization": f"Bearer {TOKEN}"}
        self.session: aiohttp.ClientSession | None = None
        self.read: tuple[Any, Any] = (None, None)

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(  # as HttpClient.start sets it up
            limit=512, limit_per_host=128, ttl_dns_cache=60, enable_cleanup_closed=True
        )
        self.session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
            headers={"User-Agent": USER_AGENT},
        )

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()

    async def call(self, i: int) -> None:
        assert self.session is not None
        customer, order, status = values(i)
        url = f"{self.base}/{customer}/orders/{order}?status={status}"
        async with self.session.get(url, headers=self.headers) as response:
            body = await response.read()
            if response.status != 200:
                raise RuntimeError(f"bare: the upstream answered {response.status}")
        record = json.loads(body)["customer"]
        self.read = (record["name"], record["balance"])  # what the executor's outputs hold


def bench_plan(url: str) -> Plan:
    api = ApiWrite.model_validate(
        {
            "name": "Bench CRM",
            "base_url": f"{url}/api",
            "authorization": {"type": "bearer", "token": TOKEN},
        }
    )
    request = RequestWrite.model_validate(
        {
            "name": "Get order",
            "endpoint_path": "customers/${customerId}/orders/${orderId}",
            "query": [{"name": "status", "value": "${status}"}],
            "parameters": [
                {"name": "customerId", "type": "number", "required": True},
                {"name": "orderId", "type": "string", "required": True},
                {"name": "status", "type": "string", "default": "open"},
            ],
            "outputs": [
                {"name": "customerName", "path": "$.customer.name"},
                {"name": "balance", "path": "$.customer.balance", "type": "number"},
            ],
        }
    )
    return compile_plan(PlanKey(1, 1, 1, 1, 1), api, request)


class ThroughExecutor:
    """(b) The same calls as a script's event makes them: `Executor.run`, tracing off."""

    def __init__(self, url: str) -> None:
        self.plan = bench_plan(url)
        self.http = HttpClient()
        self.executor = Executor(self.http)
        self.context: dict[str, Any] = {}

    async def start(self) -> None:
        await self.http.start()
        outcome = await self.executor.run(self.plan, self.parameters(0), self.context)
        expected = {"customerName": "Ann Example", "balance": 1234.56}
        if outcome.outcome != "success" or outcome.outputs != expected:
            raise RuntimeError(f"executor: unexpected outcome {outcome}")

    async def close(self) -> None:
        await self.http.close()

    @staticmethod
    def parameters(i: int) -> dict[str, Any]:
        customer, order, status = values(i)
        return {"customerId": customer, "orderId": order, "status": status}

    async def call(self, i: int) -> None:
        outcome = await self.executor.run(self.plan, self.parameters(i), self.context)
        if outcome.outcome != "success":
            raise RuntimeError(f"executor: {outcome.outcome} ({outcome.reason}: {outcome.message})")


# Measuring


@dataclass(frozen=True)
class Run:
    round: int
    loop: str
    rate: float  # requests/s
    client_cpu_us: float  # client process CPU per call
    upstream_busy: float | None  # share of one CPU the upstream used


async def measure(target: Upstream, args: argparse.Namespace) -> list[Run]:
    bare, through = Bare(target.url), ThroughExecutor(target.url)
    await bare.start()
    await through.start()
    loops: dict[str, Call] = {"bare": bare.call, "executor": through.call}
    try:
        for call in loops.values():  # connections opened, caches and branch paths warm
            await drive(call, args.warmup, args.concurrency)
        runs = []
        for number in range(1, args.rounds + 1):
            # Each round swaps who goes first, so a drift in the machine favours neither.
            order = list(loops) if number % 2 else list(reversed(loops))
            for name in order:
                cpu, busy = time.process_time(), target.cpu_seconds()
                seconds = await drive(loops[name], args.requests, args.concurrency)
                cpu = time.process_time() - cpu
                done = target.cpu_seconds()
                share = None if busy is None or done is None else (done - busy) / seconds
                runs.append(
                    Run(number, name, args.requests / seconds, cpu / args.requests * 1e6, share)
                )
                print(f"  round {number}: {name:<8} {args.requests / seconds:>8,.0f} req/s")
        return runs
    finally:
        await bare.close()
        await through.close()


# Report


def machine() -> str:
    """CPUs, CPU model and load: figures mean little without them."""
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return f"{os.cpu_count()} CPUs, {model}; load average {load}"


def report(runs: list[Run], args: argparse.Namespace, client: int | None, target: Upstream) -> None:
    print()
    print(f"machine: {machine()}")
    if client is None:
        print("placement: fewer than 2 CPUs usable, client and upstream share them")
    else:
        print(f"placement: client pinned to CPU {client}, upstream to CPU {target.cpu}")
    print(
        f"load: {args.requests} requests per run, {args.concurrency} in flight, "
        f"{args.rounds} rounds after {args.warmup} warm-up calls per loop"
    )
    print()
    header = f"{'round':<7}{'loop':<10}{'req/s':>9}{'client CPU us/call':>20}{'upstream busy':>15}"
    print(header)
    print("-" * len(header))
    for run in runs:
        busy = "-" if run.upstream_busy is None else f"{run.upstream_busy:.0%}"
        print(f"{run.round:<7}{run.loop:<10}{run.rate:>9,.0f}{run.client_cpu_us:>20.0f}{busy:>15}")
    bare = statistics.median(r.rate for r in runs if r.loop == "bare")
    through = statistics.median(r.rate for r in runs if r.loop == "executor")
    ratio = through / bare
    print()
    print(f"(a) bare aiohttp   {bare:>9,.0f} req/s  (median of {args.rounds})")
    print(f"(b) executor       {through:>9,.0f} req/s  (median of {args.rounds})")
    verdict = "met" if ratio >= GOAL_RATIO else "MISSED"
    print(f"ratio b/a          {ratio:>9.2f}        goal >= {GOAL_RATIO}: {verdict}")
    print(f"executor overhead  {(1 / through - 1 / bare) * 1e6:>9.1f} us per call (1/b - 1/a)")
    # The client is CPU-bound, so its CPU per call tells the same story; it shifts less when
    # a neighbour takes CPU time, as it counts only the time the client actually ran.
    cpu_bare = statistics.median(r.client_cpu_us for r in runs if r.loop == "bare")
    cpu_through = statistics.median(r.client_cpu_us for r in runs if r.loop == "executor")
    print(
        f"client CPU         {cpu_bare:>9.0f} us per call bare, {cpu_through:.0f} executor "
        f"(a/b {cpu_bare / cpu_through:.2f}, +{cpu_through - cpu_bare:.0f} us)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=5000, help="calls per run (5000)")
    parser.add_argument("--concurrency", type=int, default=32, help="calls in flight (32)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each loop (3)")
    parser.add_argument("--warmup", type=int, default=1000, help="untimed calls per loop (1000)")
    args = parser.parse_args()
    if args.requests < 1 or args.concurrency < 1 or args.rounds < 1 or args.warmup < 0:
        parser.error("--requests, --concurrency and --rounds must be positive")

    client, upstream_cpu = pin()
    print(f"machine: {machine()}", flush=True)
    with upstream(upstream_cpu) as target:
        runs = asyncio.run(measure(target, args))
        report(runs, args, client, target)


if __name__ == "__main__":
    main()
