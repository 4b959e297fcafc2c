"""Runtime benchmark: requests/s through the executor against a bare aiohttp loop.

Starts a loopback upstream that answers every request with the same small JSON body (and a
`POST /token` with an OAuth 2.0 token, for bench/scale.py), in its own process (pinned to its
own CPU when there are two), then sends the same `--requests` calls
at `--concurrency` in flight, alternating in `--rounds` rounds:

    a  bare      one aiohttp session (HttpClient's connector settings), a bearer header,
                 the body read and JSON-decoded
    b  executor  `Executor(HttpClient())` with a compiled plan: bearer authorization, two path
                 placeholders and a query placeholder, two JSONPath outputs, tracing off

It prints the median rate of each, the ratio b/a against the goal of 0.8, and the executor's
cost per call in microseconds (1/b - 1/a).

Then two OAuth 2.0 runs against a real authorization server on loopback (tests/oauth2_server.py,
oauthlib's server classes, in this process), client_credentials, the token endpoint holding
each answer back `--token-delay` seconds:

    oauth2 cold          `--cold-calls` calls at once on an empty token store: token requests
                         seen (goal 1), calls that succeeded, wall time
    oauth2 across expiry tokens of `--token-lifetime` seconds, `--concurrency` calls in flight
                         for 2.5 lifetimes: token requests, calls made, failed (goal 0), and
                         waited on a token request (goal 0)

    .venv/bin/python bench/runtime.py [--requests 5000] [--concurrency 32] [--rounds 3]
                                      [--only executor|oauth2]
"""

import argparse
import asyncio
import itertools
import json
import multiprocessing
import os
import re
import socket
import statistics
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp

from callout.apis.schemas import ApiWrite, RequestWrite
from callout.invocations.compile import compile_plan
from callout.runtime.auth.tokens import Credential, MemoryTokenStore, lifetime
from callout.runtime.executor import Executor
from callout.runtime.guard import Guard, Verdict
from callout.runtime.http import USER_AGENT, HttpClient
from callout.runtime.plan import Plan, PlanKey

if TYPE_CHECKING:
    from tests.oauth2_server import OAuth2Server

ROOT = Path(__file__).resolve().parent.parent
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
# The token endpoint's one answer (RFC 6749 section 5.1): a token for an hour, so a run of a
# benchmark never sees it expire.
ISSUED = json.dumps(
    {"access_token": "bench-issued-5e0c8f3a1d7b4c2e", "token_type": "Bearer", "expires_in": 3600}
).encode()
TOKEN_RESPONSE = (
    b"HTTP/1.1 200 OK\r\n"
    b"Content-Type: application/json\r\n"
    b"Cache-Control: no-store\r\n"
    b"Content-Length: " + str(len(ISSUED)).encode() + b"\r\n"
    b"Server: bench\r\n"
    b"\r\n" + ISSUED
)
_CONTENT_LENGTH = re.compile(rb"(?im)^content-length:[ \t]*(\d+)")


# The upstream: a process of its own, so its work never takes the client's CPU.


class _Answering(asyncio.Protocol):
    """HTTP/1.1 keep-alive, reduced to what the benchmarks send: each request head (GET, no
    body) gets the same prepared answer, and a `POST /token` (a form body) a token, counted
    in `tokens`. Far cheaper than a general server, so the upstream is never what limits the
    rate (the report shows how busy it was)."""

    def __init__(self, tokens: Any) -> None:
        self._transport: asyncio.Transport | None = None
        self._pending = b""
        self._tokens = tokens  # a shared integer (multiprocessing.RawValue): token requests

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        data = self._pending + data
        if b"POST " in data:
            self._pending = self._one_by_one(data)
            return
        heads = data.count(b"\r\n\r\n")
        if heads and self._transport is not None:
            self._transport.write(RESPONSE * heads)
            data = data[data.rfind(b"\r\n\r\n") + 4 :]
        self._pending = data

    def _one_by_one(self, data: bytes) -> bytes:
        """Answer each complete request in `data`, a body read by its Content-Length; what is
        left is the start of the next one."""
        while (end := data.find(b"\r\n\r\n")) >= 0:
            head, length = data[:end], 0
            if head.startswith(b"POST "):
                found = _CONTENT_LENGTH.search(head)
                length = int(found.group(1)) if found else 0
            if len(data) < end + 4 + length:
                break
            data = data[end + 4 + length :]
            answer = RESPONSE
            if head.startswith(b"POST /token "):
                self._tokens.value += 1
                answer = TOKEN_RESPONSE
            if self._transport is not None:
                self._transport.write(answer)
        return data


def _serve(ready: Connection, cpu: int | None, tokens: Any) -> None:
    """The upstream process: bind a free loopback port, say which, answer until terminated."""
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})

    async def serve() -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        server = await asyncio.get_running_loop().create_server(
            lambda: _Answering(tokens), sock=sock
        )
        ready.send(sock.getsockname()[1])
        await server.serve_forever()

    asyncio.run(serve())


@dataclass(frozen=True)
class Upstream:
    url: str
    pid: int
    cpu: int | None
    tokens: Any  # multiprocessing.RawValue written by the upstream process

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    def token_requests(self) -> int:
        """Token requests answered so far."""
        return int(self.tokens.value)

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
    tokens = spawn.RawValue("Q", 0)  # written by the upstream alone: no lock
    process = spawn.Process(target=_serve, args=(child, cpu, tokens), daemon=True)
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
        yield Upstream(f"http://127.0.0.1:{port}", process.pid, cpu, tokens)
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


class CountingGuard(Guard):
    """The guard as production has it, loopback allowed (the peers here are on loopback;
    CALLOUT_OUTBOUND_ALLOW does the same), counting its judgements: one per socket opened.
    The count shows what the guard costs a call on a pooled connection: nothing runs."""

    judged = 0

    def judge(self, address: str) -> Verdict:
        self.judged += 1
        return super().judge(address)


def loopback_client() -> HttpClient:
    return HttpClient(CountingGuard(Guard.from_entries(["127.0.0.0/8"]).allow))


class ThroughExecutor:
    """(b) The same calls as a script's event makes them: `Executor.run`, tracing off."""

    def __init__(self, url: str) -> None:
        self.plan = bench_plan(url)
        self.http = loopback_client()
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


async def measure(target: Upstream, args: argparse.Namespace) -> tuple[list[Run], int]:
    """Each loop's runs, and the sockets the executor's guard judged in all of them."""
    bare, through = Bare(target.url), ThroughExecutor(target.url)
    loops: dict[str, Call] = {"bare": bare.call, "executor": through.call}
    try:
        await bare.start()
        await through.start()
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
        guard = through.http.guard
        assert isinstance(guard, CountingGuard)
        return runs, guard.judged
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


def report(
    runs: list[Run], judged: int, args: argparse.Namespace, client: int | None, target: Upstream
) -> None:
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
    calls = 1 + args.warmup + args.rounds * args.requests
    print(
        f"outbound guard     {judged:>9,} sockets judged over {calls:,} executor calls "
        "(once per new connection; a call on a pooled connection runs none of it)"
    )


# OAuth 2.0: the token cache under load, against a real authorization server. The server is
# tests/oauth2_server.py (oauthlib's server classes on aiohttp), run in this process and this
# event loop: it counts token requests by grant, and its resource checks every bearer token.

ONE_TOKEN = 1  # goal: a cold start makes one token request, however many calls wait


class WatchedStore(MemoryTokenStore):
    """The in-process token store, noting which tasks entered a token flight and when a
    token was stored.

    A call enters `flight` (from `OAuth2.access_token`, in the call's own task) only when it
    has no usable token: it then waits for the lock and a token request, its own or another
    call's. A background renewal enters it too, but in a task of its own, never a call's.
    So "this call's task entered a flight" is exactly "this call waited on a token"."""

    def __init__(self) -> None:
        super().__init__()
        self.entered: set[asyncio.Task[Any]] = set()
        self.stored: list[float] = []  # time.perf_counter() of each credential put

    @asynccontextmanager
    async def flight(self, key: str) -> AsyncIterator[None]:
        task = asyncio.current_task()
        if task is not None:
            self.entered.add(task)
        async with super().flight(key):
            yield

    async def put(self, key: str, credential: Credential) -> None:
        self.stored.append(time.perf_counter())
        await super().put(key, credential)

    def waited(self) -> bool:
        """Whether the current task entered a flight since it last asked; forgets it."""
        task = asyncio.current_task()
        if task not in self.entered:
            return False
        self.entered.discard(task)
        return True


@dataclass
class CallStats:
    """What a run of calls came to."""

    calls: int = 0
    failed: Counter[str] = field(default_factory=Counter)  # by reason
    waited: int = 0  # entered a token flight (see WatchedStore)
    durations: list[float] = field(default_factory=list)  # seconds, each call

    def slower_than(self, seconds: float) -> int:
        return sum(1 for d in self.durations if d > seconds)

    def percentile(self, share: float) -> float:
        ordered = sorted(self.durations)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


@dataclass
class OAuth2Bench:
    """One server, one executor and one plan for an OAuth 2.0 run."""

    server: "OAuth2Server"
    store: WatchedStore
    executor: Executor
    plan: Plan
    stats: CallStats = field(default_factory=CallStats)

    async def call(self, i: int) -> None:
        started = time.perf_counter()
        outcome = await self.executor.run(self.plan, {"customerId": 1000 + i % 9000}, {})
        self.stats.durations.append(time.perf_counter() - started)
        self.stats.calls += 1
        if outcome.outcome != "success":
            self.stats.failed[outcome.reason or outcome.outcome] += 1
        self.stats.waited += self.store.waited()


def oauth2_plan(server: "OAuth2Server", client_id: str, client_secret: str) -> Plan:
    api = ApiWrite.model_validate(
        {
            "name": "Bench OAuth2",
            "base_url": server.api_url,
            "authorization": {
                "type": "oauth2",
                "grant": "client_credentials",
                "token_url": server.token_url,
                "client_id": client_id,
                "client_secret": client_secret,
            },
        }
    )
    request = RequestWrite.model_validate(
        {
            "name": "Get customer",
            "endpoint_path": "v1/customers/${customerId}",
            "parameters": [{"name": "customerId", "type": "number", "required": True}],
            "outputs": [{"name": "ok", "path": "$.ok"}],
        }
    )
    return compile_plan(PlanKey(2, 2, 2, 1, 1), api, request)


@asynccontextmanager
async def oauth2_bench(
    expires_in: float, delay: float, in_flight: int
) -> AsyncIterator[OAuth2Bench]:
    """A running server whose tokens live `expires_in` s and whose token endpoint holds each
    answer `delay` s, and an executor with an empty store; torn down afterwards."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # tests/ is not installed: it is read from the checkout
    from tests.oauth2_server import CLIENT_ID, CLIENT_SECRET, OAuth2Server

    async with OAuth2Server(expires_in=expires_in) as server:
        server.token_delay = delay
        http = loopback_client()
        await http.start()
        store = WatchedStore()
        # The default cap (100 calls in flight per client, past which calls are refused at
        # once) would refuse most of a thousand simultaneous calls: raised to what is sent.
        executor = Executor(http, store, max_in_flight=max(100, in_flight))
        try:
            yield OAuth2Bench(
                server, store, executor, oauth2_plan(server, CLIENT_ID, CLIENT_SECRET)
            )
        finally:
            # A renewal still running in the background finishes before its client closes.
            await executor.renewals.settled()
            await http.close()


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def row(label: str, value: str, note: str = "") -> None:
    print(f"  {label:<18}{value:>8}  {note}".rstrip())


def failures(stats: CallStats) -> str:
    return ", ".join(f"{reason} {n:,}" for reason, n in stats.failed.most_common())


async def oauth2_cold(args: argparse.Namespace) -> None:
    """A thousand calls at once on an empty token store: one token request, all succeed."""
    calls, delay = args.cold_calls, args.token_delay
    async with oauth2_bench(3600, delay, calls) as bench:
        started = time.perf_counter()
        await asyncio.gather(*(bench.call(i) for i in range(calls)))
        wall = time.perf_counter() - started
        stats, tokens = bench.stats, len(bench.server.token_requests)
        grants = ", ".join(f"{g} {n}" for g, n in sorted(bench.server.grants.items()))
    succeeded = stats.calls - sum(stats.failed.values())
    print()
    print(
        f"oauth2 cold: {calls:,} calls at once (asyncio.gather) on an empty token store, "
        f"token endpoint delay {delay * 1000:.0f} ms"
    )
    row("token requests", f"{tokens:,}", f"({grants})  goal {ONE_TOKEN}: {verdict(tokens == 1)}")
    row("succeeded", f"{succeeded:,}", f"of {calls:,}  {failures(stats)}")
    row("waited on token", f"{stats.waited:,}", "(none cached yet: each call waits once)")
    row(
        "wall time",
        f"{wall:.3f}",
        f"s  (per call: p50 {stats.percentile(0.5) * 1000:.0f} ms, "
        f"slowest {max(stats.durations) * 1000:.0f} ms)",
    )


async def oauth2_across_expiry(args: argparse.Namespace) -> None:
    """Calls at a steady concurrency for 2.5 token lifetimes: renewals happen in the
    background, so no call fails and none waits on a token request."""
    expires_in, delay, concurrency = args.token_lifetime, args.token_delay, args.concurrency
    renew_at, expires_at = lifetime(0.0, expires_in)  # Callout's own rule, from `obtained`
    async with oauth2_bench(expires_in, delay, concurrency) as bench:
        await bench.call(0)  # the first token: one cold call, before the run and not counted
        if bench.stats.failed:
            raise RuntimeError(f"oauth2: the first call failed: {failures(bench.stats)}")
        bench.stats, bench.store.stored = CallStats(), []
        first = len(bench.server.token_requests)
        numbers = itertools.count(1)
        started = time.perf_counter()
        deadline = started + 2.5 * expires_in

        async def worker() -> None:
            for i in numbers:
                if time.perf_counter() >= deadline:
                    return
                await bench.call(i)

        async with asyncio.TaskGroup() as group:
            for _ in range(concurrency):
                group.create_task(worker())
        wall = time.perf_counter() - started
        stats = bench.stats
        tokens = len(bench.server.token_requests) - first
        stored = ", ".join(f"+{t - started:.2f} s" for t in bench.store.stored) or "never"
        refused = sum(1 for r in bench.server.resource_requests if r.status == 401)
    failed = sum(stats.failed.values())
    print()
    print(
        f"oauth2 across expiry: tokens live {expires_in:g} s (renewed in the background from "
        f"{renew_at:g} s, calls would wait from {expires_at:g} s), {concurrency} calls in flight "
        f"for {wall:.1f} s, token endpoint delay {delay * 1000:.0f} ms"
    )
    row("token requests", f"{tokens:,}", f"(new tokens stored at {stored})")
    row("calls", f"{stats.calls:,}", f"({stats.calls / wall:,.0f}/s)")
    row("failed", f"{failed:,}", f"goal 0: {verdict(failed == 0)}  {failures(stats)}")
    row(
        "waited on token",
        f"{stats.waited:,}",
        f"goal 0: {verdict(stats.waited == 0)}  (calls that entered the token flight)",
    )
    row(
        "slower than delay",
        f"{stats.slower_than(delay):,}",
        f"(calls over {delay * 1000:.0f} ms; p99 {stats.percentile(0.99) * 1000:.1f} ms, "
        f"slowest {max(stats.durations) * 1000:.1f} ms)",
    )
    row("401 from resource", f"{refused:,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=5000, help="calls per run (5000)")
    parser.add_argument("--concurrency", type=int, default=32, help="calls in flight (32)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each loop (3)")
    parser.add_argument("--warmup", type=int, default=1000, help="untimed calls per loop (1000)")
    parser.add_argument(
        "--only", choices=("executor", "oauth2"), help="only the executor runs, or only oauth2"
    )
    parser.add_argument("--cold-calls", type=int, default=1000, help="oauth2 cold: calls (1000)")
    parser.add_argument(
        "--token-lifetime", type=float, default=3.0, help="oauth2 across expiry: expires_in (3)"
    )
    parser.add_argument(
        "--token-delay", type=float, default=0.2, help="seconds each token answer is held (0.2)"
    )
    args = parser.parse_args()
    if args.requests < 1 or args.concurrency < 1 or args.rounds < 1 or args.warmup < 0:
        parser.error("--requests, --concurrency and --rounds must be positive")
    if args.cold_calls < 1 or args.token_lifetime <= 0 or args.token_delay < 0:
        parser.error("--cold-calls and --token-lifetime must be positive")

    client, upstream_cpu = pin()
    print(f"machine: {machine()}", flush=True)
    if args.only != "oauth2":
        with upstream(upstream_cpu) as target:
            runs, judged = asyncio.run(measure(target, args))
            report(runs, judged, args, client, target)
    if args.only != "executor":
        asyncio.run(oauth2_cold(args))
        asyncio.run(oauth2_across_expiry(args))


if __name__ == "__main__":
    main()
