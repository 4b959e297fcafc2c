"""Designer fire benchmark: an event with three chained FUNCTION CALLs against the three
invokes alone.

Starts, each in a process of its own, the loopback upstream of bench/runtime.py (the same
small JSON for every request) and `callout serve` on a fresh data dir (`callout init`;
SQLite, or a fresh PostgreSQL database). Over REST, with the admin key `init` printed, it
creates one API on the upstream (bearer authorization), three requests whose outputs chain

    Customer  GET customers/${customerId}  ->  accountId  ($.customer.id, 4711)
    Account   GET accounts/${accountId}    ->  sku        ($.items[0].sku, "A-100")
    Item      GET items/${sku}             ->  price, tier

and a designer whose In Call event has one condition (`${call.customerId} > 0`) running the
three as FUNCTION CALLs, each call's parameter mapped from the one before's response.

It then measures, at one call in flight and at `--concurrency`, in `--rounds` rounds that
swap which goes first, after a warm-up of each:

    invokes  `POST .../invoke` of Customer, Account and Item, one after another, with the
             parameters the chain would give them, each timed on its own
    fire     `POST .../designers/{id}/events/In%20Call/fire` with `{"context": {"call":
             {"customerId": n}}}`, which makes the same three calls

and prints p50 and p95 per kind, the sum of the three invokes' medians, the fire's median,
and the ratio fire / sum against the goal of 1.1 (MET or MISSED; the exit code is 0 either
way), with the rate of fires and of invoke chains and the server's CPU time per each.

    .venv/bin/python bench/fire.py [--database sqlite|postgresql] [--calls 300]
                                   [--rounds 5] [--warmup 100] [--concurrency 8]
"""

import argparse
import json
import re
import socket
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from runtime import TOKEN, Upstream, machine, upstream
from serving import (
    callout_env,
    database,
    database_options,
    free_port,
    serve_command,
    serving,
    set_up,
    tree_cpu,
    wait_up,
)

GOAL = 1.1  # a fire's median at most 1.1 times the sum of its calls' invoke medians
CLIENT = "/api/v1/clients/demo"
EVENT = "In Call"
INVOKES = ("Customer", "Account", "Item")
FIRE = "fire"
# What the upstream's JSON (bench/runtime.py's CUSTOMER) gives each request.
OUTPUTS: dict[str, dict[str, Any]] = {
    "Customer": {"accountId": 4711},
    "Account": {"sku": "A-100"},
    "Item": {"price": 19.99, "tier": "gold"},
}


# The library: one API, three chained requests, one designer


@dataclass(frozen=True)
class Library:
    """Where each call is posted."""

    invoke: dict[str, str]  # request name -> its invoke path
    fire: str


def library(root: str, key: str, target: Upstream) -> Library:
    """The API, its three requests and the designer, created over REST."""
    http = httpx.Client(base_url=root, headers={"Authorization": f"Bearer {key}"}, timeout=10)
    with http:

        def post(path: str, body: dict[str, Any]) -> int:
            answer = http.post(path, json=body)
            if answer.status_code != 201:
                raise RuntimeError(f"POST {path} answered {answer.status_code}: {answer.text}")
            made: int = answer.json()["id"]
            return made

        api = post(
            f"{CLIENT}/apis",
            {
                "name": "Bench CRM",
                "base_url": f"{target.url}/api",
                "authorization": {"type": "bearer", "token": TOKEN},
            },
        )
        # (name, endpoint path, its parameter and type, outputs); each call's parameter is
        # mapped from the previous call's first output.
        shapes: list[tuple[str, str, str, str, list[dict[str, str]]]] = [
            (
                "Customer",
                "customers/${customerId}",
                "customerId",
                "number",
                [{"name": "accountId", "path": "$.customer.id", "type": "number"}],
            ),
            (
                "Account",
                "accounts/${accountId}",
                "accountId",
                "number",
                [{"name": "sku", "path": "$.items[0].sku"}],
            ),
            (
                "Item",
                "items/${sku}",
                "sku",
                "string",
                [
                    {"name": "price", "path": "$.items[0].price", "type": "number"},
                    {"name": "tier", "path": "$.customer.tier"},
                ],
            ),
        ]
        requests: dict[str, int] = {}
        calls: list[dict[str, Any]] = []
        source = "call.customerId"
        for name, endpoint, parameter, kind, outputs in shapes:
            requests[name] = post(
                f"{CLIENT}/apis/{api}/requests",
                {
                    "name": name,
                    "endpoint_path": endpoint,
                    "parameters": [{"name": parameter, "type": kind, "required": True}],
                    "outputs": outputs,
                },
            )
            calls.append(
                {
                    "kind": "function_call",
                    "api_id": api,
                    "request_id": requests[name],
                    "parameters": [{"name": parameter, "path": source}],
                }
            )
            source = f"responses.{name}.{outputs[0]['name']}"  # what the next call reads
        designer = post(
            f"{CLIENT}/designers",
            {
                "name": "Bench desk",
                "pages": [{"name": "Main"}],
                "events": [
                    {
                        "type": "system",
                        "name": EVENT,
                        "page": "Main",
                        "conditions": [
                            {"expression": "${call.customerId} > 0", "actions": calls},
                        ],
                    }
                ],
            },
        )
    return Library(
        invoke={
            name: f"{CLIENT}/apis/{api}/requests/{request}/invoke"
            for name, request in requests.items()
        },
        fire=f"{CLIENT}/designers/{designer}/events/{quote(EVENT)}/fire",
    )


# The calls. Call number i asks about customer 1000 + i % 9000 in both kinds.


def customer(i: int) -> int:
    return 1000 + i % 9000


def invoke_bodies(i: int) -> list[tuple[str, dict[str, Any]]]:
    """The three invokes with the parameters the fire's chain would give them."""
    return [
        ("Customer", {"parameters": {"customerId": customer(i)}}),
        ("Account", {"parameters": {"accountId": OUTPUTS["Customer"]["accountId"]}}),
        ("Item", {"parameters": {"sku": OUTPUTS["Account"]["sku"]}}),
    ]


def fire_body(i: int) -> dict[str, Any]:
    return {"context": {"call": {"customerId": customer(i)}}}


def answered(kind: str, status: int, data: bytes) -> str | None:
    """What is wrong with an answer, or None when it is what the benchmark means to measure:
    an invoke that succeeded, a fire whose three calls did."""
    if status != 200:
        return f"status {status}"
    answer = json.loads(data)
    if kind == FIRE:
        if answer["outcome"] != "completed":
            return f"fire {answer['outcome']}"
        failed = [a for a in answer["actions"] if a["outcome"] != "success"]
        return f"a call {failed[0]['outcome']}: {failed[0]['reason']}" if failed else None
    return None if answer["outcome"] == "success" else f"{answer['outcome']}: {answer['reason']}"


def check(port: int, key: str, paths: Library) -> None:
    """One of each answers what the chain gives, or the benchmark would measure errors."""
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    headers = {"Authorization": f"Bearer {key}"}
    with http:
        for name, body in invoke_bodies(0):
            answer = http.post(paths.invoke[name], json=body, headers=headers)
            if answer.status_code != 200 or answer.json().get("outputs") != OUTPUTS[name]:
                raise RuntimeError(f"invoke {name} answered {answer.status_code}: {answer.text}")
        answer = http.post(paths.fire, json=fire_body(0), headers=headers)
        result = answer.json() if answer.status_code == 200 else {}
        if result.get("outcome") != "completed" or result.get("responses") != OUTPUTS:
            raise RuntimeError(f"the fire answered {answer.status_code}: {answer.text}")


# Measuring. Each worker thread keeps one keep-alive connection and sends one call at a
# time. The client's time is inside every timed call, three times in an invoke chain and once
# in a fire, so it is kept small: a request is bytes made before its timer starts, and the
# answer is read by its Content-Length alone. (With http.client the client took twice the
# CPU a call, about 0.2 ms, a fifth of an invoke: enough to flatter the fire.)


class Connection:
    """HTTP/1.1 keep-alive POSTs on one loopback socket, reduced to what Callout answers
    here: a status line, headers with a Content-Length, and that many bytes of body."""

    def __init__(self, port: int, key: str) -> None:
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.head = (
            f"Host: 127.0.0.1:{port}\r\nAuthorization: Bearer {key}\r\n"
            "Content-Type: application/json\r\n"
        ).encode()
        self.pending = b""

    def request(self, path: str, body: dict[str, Any]) -> bytes:
        data = json.dumps(body).encode()
        return (
            f"POST {path} HTTP/1.1\r\n".encode()
            + self.head
            + f"Content-Length: {len(data)}\r\n\r\n".encode()
            + data
        )

    def post(self, request: bytes) -> tuple[int, bytes]:
        """Send a request made by `request`; (status, body) of its answer."""
        self.socket.sendall(request)
        while (end := self.pending.find(b"\r\n\r\n")) < 0:
            self.pending += self._receive()
        head, rest = self.pending[:end], self.pending[end + 4 :]
        found = LENGTH.search(head)
        if found is None:
            raise RuntimeError(f"an answer without a Content-Length: {head!r}")
        length = int(found.group(1))
        while len(rest) < length:
            rest += self._receive()
        self.pending = rest[length:]
        return int(head[9:12]), rest[:length]

    def _receive(self) -> bytes:
        chunk = self.socket.recv(65536)
        if not chunk:
            raise RuntimeError("the server closed the connection")
        return chunk

    def close(self) -> None:
        self.socket.close()


LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)

Unit = Callable[[int], list[tuple[str, str, dict[str, Any]]]]  # number -> (kind, path, body)s


def units(paths: Library) -> dict[str, Unit]:
    """`invokes`: the chain's three invokes in order; `fire`: one fire."""

    def invokes(i: int) -> list[tuple[str, str, dict[str, Any]]]:
        return [(n, paths.invoke[n], body) for n, body in invoke_bodies(i)]

    def fire(i: int) -> list[tuple[str, str, dict[str, Any]]]:
        return [(FIRE, paths.fire, fire_body(i))]

    return {"invokes": invokes, FIRE: fire}


@dataclass(frozen=True)
class Served:
    port: int
    key: str
    pid: int


@dataclass
class Run:
    round: int
    unit: str  # invokes or fire
    concurrency: int
    units: int
    wall: float  # seconds
    timings: dict[str, list[float]] = field(default_factory=dict)  # kind -> ms per call
    errors: Counter[str] = field(default_factory=Counter)
    server_cpu: float = 0.0  # seconds, its workers included
    client_cpu: float = 0.0


def drive(unit: Unit, count: int, concurrency: int, served: Served) -> Run:
    """`count` units, `concurrency` at a time, each call timed."""

    def worker(offset: int) -> tuple[dict[str, list[float]], Counter[str]]:
        timings: dict[str, list[float]] = {}
        errors: Counter[str] = Counter()
        connection = Connection(served.port, served.key)
        try:
            for i in range(offset, count, concurrency):
                for kind, path, body in unit(i):
                    request = connection.request(path, body)
                    started = time.perf_counter()
                    status, data = connection.post(request)
                    elapsed = time.perf_counter() - started
                    timings.setdefault(kind, []).append(elapsed * 1000)
                    wrong = answered(kind, status, data)
                    if wrong is not None:
                        errors[f"{kind}: {wrong}"] += 1
        finally:
            connection.close()
        return timings, errors

    server_cpu, client_cpu = tree_cpu(served.pid), time.process_time()
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        done = list(pool.map(worker, range(concurrency)))
    run = Run(0, "", concurrency, count, time.perf_counter() - started)
    run.server_cpu = tree_cpu(served.pid) - server_cpu
    run.client_cpu = time.process_time() - client_cpu
    for timings, errors in done:
        for kind, values in timings.items():
            run.timings.setdefault(kind, []).extend(values)
        run.errors += errors
    return run


def measure(
    paths: Library, served: Served, concurrency: int, args: argparse.Namespace
) -> list[Run]:
    """Warm-up, then `--rounds` rounds of `--calls` units of each, swapping which goes first."""
    kinds = units(paths)
    for name in kinds:
        if args.warmup:
            drive(kinds[name], args.warmup, concurrency, served)
    runs = []
    for number in range(1, args.rounds + 1):
        order = ["invokes", FIRE] if number % 2 else [FIRE, "invokes"]
        for name in order:
            run = drive(kinds[name], args.calls, concurrency, served)
            run.round, run.unit = number, name
            runs.append(run)
        print(f"  {concurrency} in flight, round {number}: {round_line(runs[-2:])}", flush=True)
    return runs


# Report


def percentile(values: list[float], share: float) -> float:
    """Nearest rank: the smallest value at least `share` of them do not exceed."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


def medians(runs: list[Run]) -> tuple[float, float]:
    """(sum of the three invokes' medians, the fire's median) over these runs, in ms."""

    def pooled(kind: str) -> list[float]:
        return [t for r in runs for t in r.timings.get(kind, [])]

    total = sum(statistics.median(pooled(n)) for n in INVOKES)
    return total, statistics.median(pooled(FIRE))


def round_line(pair: list[Run]) -> str:
    total, fire = medians(pair)
    errors = sum(sum(r.errors.values()) for r in pair)
    return (
        f"invokes p50 {total:.2f} ms (sum of 3), fire p50 {fire:.2f} ms, "
        f"fire/sum {fire / total:.2f}" + (f"  {errors} errors" if errors else "")
    )


def verdict(ratio: float) -> str:
    return "MET" if ratio <= GOAL else "MISSED"


def report(runs: list[Run], concurrency: int, args: argparse.Namespace) -> float:
    """The figures at one concurrency; returns the ratio fire / sum of invoke medians."""
    print()
    print(
        f"{concurrency} call(s) in flight: {args.rounds} rounds of {args.calls} fires and "
        f"{args.calls} invoke chains (3 invokes each), after {args.warmup} of each"
    )
    header = f"  {'call':<18}{'calls':>7}{'p50 ms':>9}{'p95 ms':>9}   p50 per round (ms)"
    print(header)
    print("  " + "-" * (len(header) - 2))
    for kind in (*INVOKES, FIRE):
        pooled = [t for r in runs for t in r.timings.get(kind, [])]
        per_round = ", ".join(
            f"{statistics.median(r.timings[kind]):.2f}" for r in runs if kind in r.timings
        )
        label = f"invoke {kind}" if kind != FIRE else "fire (3 calls)"
        print(
            f"  {label:<18}{len(pooled):>7,}{statistics.median(pooled):>9.2f}"
            f"{percentile(pooled, 0.95):>9.2f}   {per_round}"
        )
    total, fire = medians(runs)
    ratio = fire / total
    rounds = [medians([r for r in runs if r.round == n]) for n in range(1, args.rounds + 1)]
    ratios = ", ".join(f"{f / s:.2f}" for s, f in rounds)
    print(f"  sum of the 3 invoke medians {total:.2f} ms, fire median {fire:.2f} ms")
    print(f"  fire / sum {ratio:.2f}  goal <= {GOAL}: {verdict(ratio)}   (per round: {ratios})")

    def per_unit(unit: str) -> tuple[float, float, float]:
        mine = [r for r in runs if r.unit == unit]
        count = sum(r.units for r in mine)
        wall = sum(r.wall for r in mine)
        server = sum(r.server_cpu for r in mine) / count * 1000
        client = sum(r.client_cpu for r in mine) / count * 1000
        return count / wall, server, client

    fires, fire_server, fire_client = per_unit(FIRE)
    chains, chain_server, chain_client = per_unit("invokes")
    print(
        f"  rate: {fires:,.0f} fires/s, {chains:,.0f} invoke chains/s (fires/chains "
        f"{fires / chains:.2f})"
    )
    print(
        f"  server CPU: {fire_server:.2f} ms per fire, {chain_server:.2f} ms per 3 invokes "
        f"(fire/invokes {fire_server / chain_server:.2f}); client CPU {fire_client:.2f} ms per "
        f"fire, {chain_client:.2f} ms per 3 invokes"
    )
    errors = sum((r.errors for r in runs), Counter[str]())
    if errors:
        print("  errors: " + ", ".join(f"{what} x{n}" for what, n in errors.most_common()))
    return ratio


def callout(args: argparse.Namespace, stack: ExitStack) -> Served:
    """`callout serve` on a fresh data dir and database, its admin key, until `stack` ends."""
    scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="callout-bench-")))
    settings = stack.enter_context(database(args.database, args.postgres))
    env = callout_env(scratch / "data", settings)
    key = set_up(env)
    port = free_port()
    log = scratch / "callout.log"
    pid = stack.enter_context(serving(serve_command(port, args.workers), env, log))
    wait_up(f"http://127.0.0.1:{port}", log)
    return Served(port, key, pid)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    database_options(parser)
    parser.add_argument("--workers", type=int, default=1, help="callout serve's workers (1)")
    parser.add_argument("--calls", type=int, default=300, help="fires and chains per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=100, help="untimed fires and chains")
    parser.add_argument(
        "--concurrency", type=int, default=8, help="calls in flight for the second set; 0: none"
    )
    args = parser.parse_args()
    if args.calls < 1 or args.rounds < 1 or args.warmup < 0 or args.concurrency < 0:
        parser.error("--calls and --rounds must be positive")

    with ExitStack() as stack:
        target = stack.enter_context(upstream(None))
        served = callout(args, stack)
        paths = library(f"http://127.0.0.1:{served.port}", served.key, target)
        check(served.port, served.key, paths)
        print(f"machine: {machine()}", flush=True)
        print(f"callout serve, {args.workers} worker(s), database {args.database}", flush=True)
        levels = [1] + ([args.concurrency] if args.concurrency > 1 else [])
        results = {level: measure(paths, served, level, args) for level in levels}
        ratios = {level: report(runs, level, args) for level, runs in results.items()}
    print()
    for level, ratio in ratios.items():
        print(
            f"{verdict(ratio)}: fire / sum of the 3 invokes' medians {ratio:.2f} at {level} in "
            f"flight (goal <= {GOAL})"
        )


if __name__ == "__main__":
    main()
