"""Scale benchmark: bench/invoke.py's invoke load against 1, 2 and 4 Callout processes sharing
PostgreSQL and Redis.

For each process count N it starts, on a fresh PostgreSQL database (created beside
`--database-url`, dropped afterwards) and a fresh Redis namespace (its keys deleted afterwards):

    callout   `callout serve --workers N` with CALLOUT_REDIS_URL and CALLOUT_REDIS_NAMESPACE;
              two APIs on the loopback upstream of bench/runtime.py (a process of its own,
              shared by every N), each with bench/invoke.py's request:
                bearer   a static bearer token: nothing kept between calls, the baseline
                oauth2   OAuth 2.0 client_credentials, tokens from the upstream's `POST /token`
    minimal   bench/minimal_invoke.py, N workers under the same uvicorn options

then, after a warm-up of each, one wrk run of `--seconds` per API at `--concurrency` calls in
flight. It prints req/s, p50/p95/p99, the servers' CPU per call and each worker's share of a
CPU; Redis round trips per call (goal: at most 1 on a warm token); the token requests the
upstream answered from the first call on (goal: 1 for the installation, however many
processes); Callout/minimal req/s; and req/s at N against the first count.

Why `--workers N` and not N `callout serve`s on N ports: each uvicorn worker is a fresh
interpreter that runs the app factory and its lifespan, so each builds its own Runtime (plan
cache, HTTP client, token store, breakers, caps) and its own link to Redis. N workers are N
Callout processes sharing PostgreSQL and Redis, as N machines behind a balancer are, without
the network. N ports would need a balancer in front of wrk, and on a 2-CPU machine a proxy
copying every byte takes CPU from the servers it fronts. What the kernel does not do as a
balancer would: spread connections evenly (each worker accepts when it is free), so each
worker's share of a CPU is printed.

Redis round trips are counted twice:

    rt/call      what Callout's own processes sent: the kernel's count of data segments sent
                 on each of their TCP connections to Redis (`ss -ti`), one per command,
                 pipeline or script on loopback (a segment holds 64 KB; checked against
                 redis-py: 5,000 GETs on a warm pool, 1,000 MULTI/EXEC pipelines and 2,000
                 EVALSHAs sent as many segments). Other clients of a shared Redis do not count.
    server       Redis's own `INFO stats` before and after each run: total_reads_processed
                 (round trips) and total_commands_processed (a pipeline's, a MULTI/EXEC's or
                 a script's commands one by one), less the script's own INFO and less the
                 rate measured while Callout idled (IDLE seconds before the runs). This counts
                 every client of that Redis: exact on a Redis of its own, noise on a busy one
                 (the idle rate is printed, and the minimal route, which never uses Redis,
                 shows what noise is left).

    .venv/bin/python bench/scale.py [--processes 1,2,4] [--seconds 10] [--concurrency 64]
                                    [--database-url URL] [--redis-url URL]
"""

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Collection, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import redis
from sqlalchemy import create_engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from callout import logging as callout_logging
from invoke import WRK_SCRIPT, Run, check, library, load, server_command
from runtime import Upstream, machine, upstream
from serving import (
    POSTGRES,
    callout_env,
    database,
    free_port,
    serve_command,
    serving,
    set_up,
    tree_times,
    wait_up,
)

BENCH = Path(__file__).resolve().parent
WRK, SS = shutil.which("wrk"), shutil.which("ss")
REDIS = "redis://127.0.0.1:6379/0"
APIS = ("minimal", "bearer", "oauth2")
GOAL_ROUND_TRIPS = 1.0  # Redis round trips per call, on a warm token
GOAL_TOKENS = 1  # token requests per installation, however many processes
IDLE = 2.0  # seconds of Redis traffic measured with Callout idle, subtracted from each run
# Round trips per call by which Redis's count may pass Callout's own before the report says
# other clients were using Redis during that run.
NOISE = 0.05
CLIENT_ID, CLIENT_SECRET = "bench-client", "bench-secret-4c1e9a7f"


# Redis, as Callout's processes used it


class Sockets:
    """Data segments Callout's processes sent Redis, per TCP connection (`ss -ti`)."""

    PIDS = re.compile(r"pid=(\d+)")
    SENT = re.compile(r"\bdata_segs_out:(\d+)")

    def __init__(self, port: int) -> None:
        self.port = port

    def sent(self, pids: Collection[int]) -> dict[str, int]:
        """Segments sent so far on each connection of `pids` to Redis, by local address."""
        assert SS is not None
        listing = subprocess.run(  # noqa: S603
            [SS, "-tinpH", "state", "established", f"( dport = :{self.port} )"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        wanted, sent = set(pids), {}
        local = None
        for line in listing.splitlines():
            if not line[:1].isspace():  # Recv-Q Send-Q Local Peer users:(("...",pid=N,fd=N))
                owners = {int(pid) for pid in self.PIDS.findall(line)}
                local = line.split()[2] if owners & wanted else None
            elif local is not None:  # the connection's tcp_info
                found = self.SENT.search(line)
                sent[local] = int(found.group(1)) if found else 0
        return sent


@dataclass(frozen=True)
class Own:
    """What Callout's processes sent Redis during a run."""

    round_trips: int
    opened: int  # connections
    closed: int

    @classmethod
    def between(cls, before: dict[str, int], after: dict[str, int]) -> "Own":
        """`sent` before and after; a connection opened in between counts from its start, one
        closed in between is lost (and counted as closed)."""
        trips = sum(n - before.get(local, 0) for local, n in after.items())
        return cls(trips, len(after.keys() - before.keys()), len(before.keys() - after.keys()))


# Redis, as it counts every client


@dataclass(frozen=True)
class Traffic:
    """What Redis handled in `seconds`, from every client it has."""

    reads: float  # requests read off a socket: round trips
    commands: float
    seconds: float

    def less(self, idle: "Traffic") -> "Traffic":
        """This, less what `idle`'s rate would have come to in as long."""
        share = self.seconds / idle.seconds
        return Traffic(
            self.reads - idle.reads * share, self.commands - idle.commands * share, self.seconds
        )


class RedisMeter:
    """Redis's own counters (INFO stats), read on one connection; each `lap` is the traffic
    since the one before, less the INFO that read it."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._last = self._read()

    def _read(self) -> tuple[int, int, float]:
        info = self.client.info("stats")
        return (
            int(info["total_reads_processed"]),
            int(info["total_commands_processed"]),
            time.perf_counter(),
        )

    def lap(self) -> Traffic:
        now, last = self._read(), self._last
        self._last = now
        # The INFO that read `last` was counted once it was answered: one read, one command.
        return Traffic(now[0] - last[0] - 1, now[1] - last[1] - 1, now[2] - last[2])


@contextmanager
def namespace(client: redis.Redis) -> Iterator[str]:
    """A namespace no run has used, so nothing one leaves on Redis reaches another; its keys
    are deleted afterwards."""
    name = f"callout-bench-{secrets.token_hex(4)}"
    try:
        yield name
    finally:
        keys = list(client.scan_iter(match=f"{name}:*", count=1000))
        if keys:
            client.delete(*keys)


def reach(database_url: str, redis_url: str) -> redis.Redis:
    """Exit with a clear message unless PostgreSQL and Redis both answer; a Redis client."""
    shown = make_url(database_url).render_as_string(hide_password=True)
    engine = create_engine(database_url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect():
            pass
    except SQLAlchemyError as error:
        sys.exit(f"bench/scale.py: PostgreSQL is not reachable at {shown}: {first_line(error)}")
    finally:
        engine.dispose()
    try:
        client = redis.Redis.from_url(redis_url, socket_connect_timeout=5, socket_timeout=10)
        client.ping()
    except (redis.RedisError, ValueError) as error:
        sys.exit(f"bench/scale.py: Redis is not reachable at {redis_url}: {first_line(error)}")
    return client


def linked(root: str, key: str) -> None:
    """Exit unless Callout says it is connected to Redis: without it Callout goes on alone,
    and the figures would say nothing of Redis."""
    headers = {"Authorization": f"Bearer {key}"}
    state = httpx.get(f"{root}/api/v1/clients/demo/runtime", headers=headers, timeout=10)
    state.raise_for_status()
    if state.json()["redis"] != "connected":
        sys.exit(f"bench/scale.py: Callout is not connected to Redis: {state.json()['redis']}")


def first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


# Measuring


@dataclass(frozen=True)
class Result:
    processes: int
    api: str
    run: Run
    cpu: list[float]  # share of one CPU each worker took, busiest first
    own: Own
    server: Traffic  # less the idle rate
    tokens: int | None = None  # oauth2: token requests the upstream answered at this N


@dataclass(frozen=True)
class Target:
    """One API to load: where, with which key, served by which process tree."""

    url: str
    key: str | None
    pid: int


@dataclass
class Bench:
    """What every process count shares: the options, the upstream, Redis's counters."""

    args: argparse.Namespace
    upstream: Upstream
    meter: RedisMeter
    sockets: Sockets
    scratch: Path
    idle: dict[int, Traffic] = field(default_factory=dict)  # by process count

    def load(self, target: Target, seconds: int) -> Run:
        script = self.scratch / "invoke.lua"
        return load(target.url, target.key, seconds, self.args.concurrency, script, target.pid)

    def measure(self, processes: int, api: str, target: Target) -> Result:
        """One wrk run of `--seconds`: its figures, each worker's share of a CPU, and what
        Redis handled."""
        before = tree_times(target.pid)
        sent = self.sockets.sent(before)
        started = time.perf_counter()
        self.meter.lap()
        run = self.load(target, self.args.seconds)
        server = self.meter.lap()
        wall = time.perf_counter() - started
        after = tree_times(target.pid)
        own = Own.between(sent, self.sockets.sent(after))
        shares = sorted(((t - before.get(p, t)) / wall for p, t in after.items()), reverse=True)
        return Result(
            processes, api, run, shares[:processes], own, server.less(self.idle[processes])
        )

    def processes(self, processes: int, index: int) -> list[Result]:
        """Every API at `processes` processes, on a fresh database and Redis namespace."""
        args, upstream = self.args, self.upstream
        with ExitStack() as stack:
            settings = stack.enter_context(database("postgresql", args.database_url))
            settings |= {
                "CALLOUT_REDIS_URL": args.redis_url,
                "CALLOUT_REDIS_NAMESPACE": stack.enter_context(namespace(self.meter.client)),
            }
            env = callout_env(self.scratch / f"data-{index}", settings)
            env |= {
                "BENCH_UPSTREAM": upstream.url,
                "PYTHONPATH": os.pathsep.join([str(BENCH), env.get("PYTHONPATH", "")]),
            }
            key = set_up(env)

            ports = {"callout": free_port(), "minimal": free_port()}
            log_config = self.scratch / "logging.json"
            commands = {
                "callout": serve_command(ports["callout"], processes),
                "minimal": server_command(
                    "serve", "minimal_invoke:app", ports["minimal"], processes, log_config
                ),
            }
            pids = {}
            for name, command in commands.items():
                log = self.scratch / f"{name}-{index}.log"
                pids[name] = stack.enter_context(serving(command, env, log))
                wait_up(f"http://127.0.0.1:{ports[name]}", log, processes)

            root = f"http://127.0.0.1:{ports['callout']}"
            oauth2 = {
                "type": "oauth2",
                "grant": "client_credentials",
                "token_url": upstream.token_url,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            }
            bearer = library(root, key, upstream)
            minimal = f"http://127.0.0.1:{ports['minimal']}{bearer}"
            targets = {
                "minimal": Target(minimal, None, pids["minimal"]),
                "bearer": Target(f"{root}{bearer}", key, pids["callout"]),
                "oauth2": Target(
                    f"{root}{library(root, key, upstream, 'Bench OAuth2', oauth2)}",
                    key,
                    pids["callout"],
                ),
            }
            tokens = upstream.token_requests()
            for target in targets.values():  # every worker's connections, plan and token warm
                check(target.url, target.key)
                self.load(target, args.warmup)
            linked(root, key)

            self.meter.lap()
            time.sleep(IDLE)
            self.idle[processes] = self.meter.lap()
            results = []
            for api in APIS:
                results.append(result := self.measure(processes, api, targets[api]))
                print(
                    f"  {processes} process{'es' if processes > 1 else ''}: {api:<8}"
                    f"{result.run.rate:>7,.0f} req/s  p99 {result.run.p99:.1f} ms  "
                    f"Redis {per_call(result.own.round_trips, result.run)} round trips/call"
                    + (f"  {result.run.errors} errors" if result.run.errors else ""),
                    flush=True,
                )
            tokens = upstream.token_requests() - tokens
        results[-1] = replace(results[-1], tokens=tokens)
        return results


# Report


def per_call(value: float, run: Run) -> str:
    return f"{value / max(run.requests, 1) + 0.0:.2f}"  # + 0.0: no "-0.00"


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def report(results: list[Result], bench: Bench) -> None:
    args = bench.args
    print()
    print(f"machine: {machine()}")
    database_shown = make_url(args.database_url).render_as_string(hide_password=True)
    print(
        f"load: wrk, {args.concurrency} in flight, one run of {args.seconds} s per API after a "
        f"{args.warmup} s warm-up; `callout serve --workers N` on PostgreSQL (a fresh database "
        f"beside {database_shown} per N) with Redis {args.redis_url} (a fresh namespace per N)"
    )
    print()
    header = (
        f"{'procs':<6}{'API':<9}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
        f"{'errors':>7}{'CPU us/call':>12}  {'CPU per worker':<16}"
        f"{'Redis rt/call':>14}{'server rt, cmds/call':>22}{'tokens':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        shares = " ".join(f"{s:.0%}" for s in r.cpu)
        server = f"{per_call(r.server.reads, r.run)}, {per_call(r.server.commands, r.run)}"
        print(
            f"{r.processes:<6}{r.api:<9}{r.run.rate:>8,.0f}{r.run.p50:>8.1f}{r.run.p95:>8.1f}"
            f"{r.run.p99:>8.1f}{r.run.errors:>7}{r.run.server_us:>12,.0f}  {shares:<16}"
            f"{per_call(r.own.round_trips, r.run):>14}{server:>22}"
            f"{'-' if r.tokens is None else r.tokens:>7}"
        )
    print()
    counts = sorted(bench.idle)
    rates = {n: bench.idle[n].reads / bench.idle[n].seconds for n in counts}
    print(
        "Redis rt/call: what Callout's processes sent (their sockets' segments); server: "
        "Redis's INFO, every client, less its rate while Callout idled "
        f"({IDLE:g} s; round trips/s: "
        + ", ".join(f"{n} proc {rates[n]:,.1f}" for n in counts)
        + ")"
    )
    for r in results:
        others = (r.server.reads - r.own.round_trips) / max(r.run.requests, 1)
        if abs(others) > NOISE:
            print(
                f"  {r.processes} proc {r.api}: Redis counted {others:+.2f} round trips/call "
                "beside Callout's: other clients used it during the run (rt/call is not affected)"
            )
        if r.own.opened or r.own.closed:
            print(
                f"  {r.processes} proc {r.api}: Callout opened {r.own.opened} and closed "
                f"{r.own.closed} Redis connections during the run"
            )

    def find(n: int, api: str) -> Result:
        return next(r for r in results if r.processes == n and r.api == api)

    print()
    trips = {
        n: find(n, "oauth2").own.round_trips / max(find(n, "oauth2").run.requests, 1)
        for n in counts
    }
    print(
        f"goal: at most {GOAL_ROUND_TRIPS:g} Redis round trip per call on a warm token (oauth2): "
        + "; ".join(f"{n} proc {t:.2f} {verdict(t <= GOAL_ROUND_TRIPS)}" for n, t in trips.items())
    )
    tokens = {n: find(n, "oauth2").tokens for n in counts}
    print(
        f"goal: {GOAL_TOKENS} token request per installation, however many processes: "
        + "; ".join(f"{n} proc {t} {verdict(t == GOAL_TOKENS)}" for n, t in tokens.items())
    )

    def ratio(n: int, api: str, to: Result) -> str:
        return f"{find(n, api).run.rate / max(to.run.rate, 1):.2f}"

    print(
        "Callout/minimal req/s (bearer, oauth2): "
        + "; ".join(
            f"{n} proc {ratio(n, 'bearer', find(n, 'minimal'))}, "
            f"{ratio(n, 'oauth2', find(n, 'minimal'))}"
            for n in counts
        )
    )
    if len(counts) > 1:
        first = counts[0]
        print(
            f"req/s against {first} proc (minimal, bearer, oauth2): "
            + "; ".join(
                f"{n} proc " + ", ".join(ratio(n, api, find(first, api)) for api in APIS)
                for n in counts[1:]
            )
        )


def process_counts(text: str) -> list[int]:
    counts = [int(part) for part in text.split(",") if part.strip()]
    if not counts or len(set(counts)) < len(counts) or any(not 1 <= n <= 64 for n in counts):
        raise argparse.ArgumentTypeError("distinct counts from 1 to 64, separated by commas")
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--processes", type=process_counts, default=[1, 2, 4])
    parser.add_argument("--seconds", type=int, default=10, help="each API's measured run (10)")
    parser.add_argument("--warmup", type=int, default=3, help="each API's warm-up (3)")
    parser.add_argument("--concurrency", type=int, default=64, help="calls in flight (64)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("CALLOUT_BENCH_POSTGRES", POSTGRES),
        help="PostgreSQL; each process count gets a fresh database beside it",
    )
    parser.add_argument("--redis-url", default=REDIS, help=f"Redis over TCP ({REDIS})")
    args = parser.parse_args()
    if args.seconds < 1 or args.warmup < 1 or args.concurrency < 1:
        parser.error("--seconds, --warmup and --concurrency must be positive")
    try:
        if make_url(args.database_url).get_backend_name() != "postgresql":
            parser.error("--database-url must be a PostgreSQL URL")
    except ArgumentError:
        parser.error("--database-url is not a database URL")
    if urlsplit(args.redis_url).scheme != "redis":
        parser.error("--redis-url must be redis://: round trips are counted on TCP connections")
    if WRK is None or SS is None:
        sys.exit("bench/scale.py needs wrk and ss: apt-get install wrk iproute2")
    meter = RedisMeter(reach(args.database_url, args.redis_url))
    sockets = Sockets(urlsplit(args.redis_url).port or 6379)

    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="callout-bench-")))
        (scratch / "invoke.lua").write_text(WRK_SCRIPT)
        (scratch / "logging.json").write_text(json.dumps(callout_logging.config()))
        bench = Bench(args, stack.enter_context(upstream(None)), meter, sockets, scratch)
        results = []
        for index, processes in enumerate(args.processes):
            results += bench.processes(processes, index)
    report(results, bench)


if __name__ == "__main__":
    main()
