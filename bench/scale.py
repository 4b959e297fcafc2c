"""Scale benchmark: bench/invoke.py's invoke load against 1, 2 and 4 Callout processes sharing
PostgreSQL and Redis.

For each process count N, on a fresh PostgreSQL database and a fresh Redis namespace, it starts
`callout serve --workers N` (each worker a fresh interpreter with its own Runtime and link to
Redis, as on N machines, with no balancer in front of wrk) and bench/minimal_invoke.py under the
same options, and loads, one wrk run each: the minimal route; a bearer API, nothing kept between
calls; an OAuth 2.0 client_credentials API, its token from the upstream's `POST /token`. It
prints req/s, latencies, CPU per call and per worker, Redis round trips and commands per call,
token requests, the goals (at most 1 round trip per call on a warm token, 1 token request
however many processes) and ratios of req/s.

Redis is one of its own (`redis-server` on a free loopback port, no persistence, stopped at the
end), so its INFO before and after a run, less that INFO, counts Callout alone (the keep-alive
PINGs of its subscriptions are listed, not counted as the calls' round trips); `--redis-url`
names another, whose other clients then count too.

    .venv/bin/python bench/scale.py [--processes 1,2,4] [--seconds 10] [--concurrency 64]
                                    [--database-url URL] [--redis-url URL]
"""

import argparse
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import redis
from redis.backoff import ConstantBackoff
from redis.retry import Retry
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
WRK, REDIS_SERVER = shutil.which("wrk"), shutil.which("redis-server")
APIS = ("minimal", "bearer", "oauth2")
GOAL_ROUND_TRIPS = 1.0  # Redis round trips per call, on a warm token
GOAL_TOKENS = 1  # token requests per installation, however many processes
OAUTH2 = {  # the oauth2 API's authorization, less the upstream's token URL
    "type": "oauth2",
    "grant": "client_credentials",
    "client_id": "bench-client",
    "client_secret": "bench-secret-4c1e9a7f",
}


@contextmanager
def own_redis(scratch: Path) -> Iterator[str]:
    """A Redis for this benchmark alone on a free loopback port, with no persistence; its URL."""
    assert REDIS_SERVER is not None
    port, home = free_port(), scratch / "redis"
    home.mkdir()
    command = [REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(port)]
    command += ["--save", "", "--appendonly", "no", "--dir", str(home)]
    with serving(command, dict(os.environ), scratch / "redis.log"):
        yield f"redis://127.0.0.1:{port}/0"


@dataclass(frozen=True)
class Counters:
    """Redis's own counters, from INFO stats and commandstats."""

    reads: int  # requests read off a socket: a round trip each (a command, pipeline or script)
    calls: Counter[str]  # commands by name; a script's or a MULTI's one by one, beside it

    @classmethod
    def read(cls, client: redis.Redis) -> "Counters":
        info = client.info("stats", "commandstats")
        prefix = "cmdstat_"  # cmdstat_get: {"calls": 3, ...}
        calls = {k[len(prefix) :]: int(v["calls"]) for k, v in info.items() if k.startswith(prefix)}
        return cls(int(info["total_reads_processed"]), Counter(calls))

    @property
    def round_trips(self) -> int:
        """Reads less PINGs: those are the subscriptions' keep-alives, each process's every 5 s,
        no call's (they show among the commands)."""
        return self.reads - self.calls["ping"]

    def __sub__(self, before: "Counters") -> "Counters":
        """What Redis handled since `before`, less the INFOs that read the two: this one's
        read was counted already, and `before`'s command once it had run."""
        return Counters(self.reads - before.reads - 1, self.calls - before.calls - Counter(info=1))


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
    """Exit with a clear message unless PostgreSQL and Redis (within 5 s) answer; a Redis
    client."""
    engine = create_engine(database_url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect():
            pass
    except SQLAlchemyError as error:
        shown = make_url(database_url).render_as_string(hide_password=True)
        sys.exit(f"bench/scale.py: PostgreSQL is not reachable at {shown}: {first_line(error)}")
    finally:
        engine.dispose()
    retry = Retry(ConstantBackoff(0.1), 50)  # a fresh redis-server takes a moment
    try:
        client = redis.Redis.from_url(redis_url, socket_timeout=10, retry=retry)
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


@dataclass(frozen=True)
class Result:
    processes: int
    api: str
    run: Run
    cpu: list[float]  # share of one CPU each worker took, busiest first
    redis: Counters  # what Redis handled during the run
    tokens: int | None = None  # oauth2: token requests the upstream answered at this N


@dataclass(frozen=True)
class Target:
    """One API to load: where, with which key, served by which process tree."""

    url: str
    key: str | None
    pid: int


@dataclass(frozen=True)
class Bench:
    """What every process count shares: the options, the upstream, Redis."""

    args: argparse.Namespace
    upstream: Upstream
    redis_url: str
    redis: redis.Redis
    scratch: Path

    def load(self, target: Target, seconds: int) -> Run:
        script = self.scratch / "invoke.lua"
        return load(target.url, target.key, seconds, self.args.concurrency, script, target.pid)

    def measure(self, processes: int, api: str, target: Target) -> Result:
        """One wrk run of `--seconds`: its figures, each worker's CPU, what Redis handled."""
        before, started = tree_times(target.pid), time.perf_counter()
        counted = Counters.read(self.redis)
        run = self.load(target, self.args.seconds)
        counted = Counters.read(self.redis) - counted
        wall, after = time.perf_counter() - started, tree_times(target.pid)
        shares = sorted(((t - before.get(p, t)) / wall for p, t in after.items()), reverse=True)
        return Result(processes, api, run, shares[:processes], counted)

    def processes(self, processes: int, index: int) -> list[Result]:
        """Every API at `processes` processes, on a fresh database and Redis namespace; each
        row printed once measured."""
        args, upstream = self.args, self.upstream
        with ExitStack() as stack:
            settings = stack.enter_context(database("postgresql", args.database_url))
            settings |= {
                "CALLOUT_REDIS_URL": self.redis_url,
                "CALLOUT_REDIS_NAMESPACE": stack.enter_context(namespace(self.redis)),
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

            root, minimal = (f"http://127.0.0.1:{ports[name]}" for name in ("callout", "minimal"))
            bearer = library(root, key, upstream)
            oauth2 = library(
                root, key, upstream, "Bench OAuth2", OAUTH2 | {"token_url": upstream.token_url}
            )
            targets = {
                "minimal": Target(f"{minimal}{bearer}", None, pids["minimal"]),
                "bearer": Target(f"{root}{bearer}", key, pids["callout"]),
                "oauth2": Target(f"{root}{oauth2}", key, pids["callout"]),
            }
            tokens = upstream.token_requests()
            for target in targets.values():  # every worker's connections, plan and token warm
                check(target.url, target.key)
                self.load(target, args.warmup)
            linked(root, key)

            results = []
            for api in APIS:
                result = self.measure(processes, api, targets[api])
                if api == "oauth2":
                    result = replace(result, tokens=upstream.token_requests() - tokens)
                print(row(result), flush=True)
                results.append(result)
        return results


def per_call(value: float, run: Run) -> str:
    return f"{value / max(run.requests, 1):.2f}"


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


HEADER = (
    f"{'procs':<6}{'API':<9}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'errors':>7}"
    f"{'CPU us/call':>12}  {'CPU per worker':<16}{'Redis rt/call':>14}{'tokens':>7}"
    "  Redis commands/call"
)


def row(r: Result) -> str:
    shares = " ".join(f"{s:.0%}" for s in r.cpu)
    commands = ", ".join(f"{c} {per_call(n, r.run)}" for c, n in r.redis.calls.most_common())
    return (
        f"{r.processes:<6}{r.api:<9}{r.run.rate:>8,.0f}{r.run.p50:>8.1f}{r.run.p95:>8.1f}"
        f"{r.run.p99:>8.1f}{r.run.errors:>7}{r.run.server_us:>12,.0f}  {shares:<16}"
        f"{per_call(r.redis.round_trips, r.run):>14}{'-' if r.tokens is None else r.tokens:>7}"
        f"  {commands or '-'}"
    )


def introduce(args: argparse.Namespace) -> None:
    """What is measured how, and the table's header."""
    print(f"machine: {machine()}")
    database_shown = make_url(args.database_url).render_as_string(hide_password=True)
    print(
        f"load: wrk, {args.concurrency} in flight, one run of {args.seconds} s per API after a "
        f"{args.warmup} s warm-up; `callout serve --workers N` on PostgreSQL (a fresh database "
        f"beside {database_shown} per N) with Redis {args.redis_url or 'of its own'} (a fresh "
        "namespace per N): its INFO before and after each run; a round trip is a request it read"
    )
    if args.redis_url:
        print(
            f"warning: Redis at {args.redis_url} may have other clients: what they send "
            "during a run counts in its figures too"
        )
    print(f"\n{HEADER}\n{'-' * len(HEADER)}", flush=True)


def summarize(results: list[Result], counts: list[int]) -> None:
    """The goals, met or not, and ratios of req/s."""
    by = {(r.processes, r.api): r for r in results}
    oauth2 = {n: by[n, "oauth2"] for n in counts}
    # Judged as printed: wrk counts the calls answered within its run, while the calls still in
    # flight when it stopped (up to --concurrency) made their round trips too.
    trips = {n: round(r.redis.round_trips / max(r.run.requests, 1), 2) for n, r in oauth2.items()}
    print(
        f"\ngoal: at most {GOAL_ROUND_TRIPS:g} Redis round trip per call on a warm token (oauth2): "
        + "; ".join(f"{n} proc {t:.2f} {verdict(t <= GOAL_ROUND_TRIPS)}" for n, t in trips.items())
    )
    print(
        f"goal: {GOAL_TOKENS} token request per installation, however many processes: "
        + "; ".join(
            f"{n} proc {r.tokens} {verdict(r.tokens == GOAL_TOKENS)}" for n, r in oauth2.items()
        )
    )

    def ratios(n: int, apis: tuple[str, ...], to: int | None = None) -> str:
        """req/s of `apis` at `n` against the minimal route, or against themselves at `to`."""
        base = [by[n, "minimal"] if to is None else by[to, api] for api in apis]
        return ", ".join(
            f"{by[n, a].run.rate / max(b.run.rate, 1):.2f}" for a, b in zip(apis, base, strict=True)
        )

    print(
        "Callout/minimal req/s (bearer, oauth2): "
        + "; ".join(f"{n} proc {ratios(n, APIS[1:])}" for n in counts)
    )
    if len(counts) > 1:
        print(
            f"req/s against {counts[0]} proc (minimal, bearer, oauth2): "
            + "; ".join(f"{n} proc {ratios(n, APIS, counts[0])}" for n in counts[1:])
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
    parser.add_argument(
        "--redis-url", help="another Redis (its other clients count too); by default its own"
    )
    args = parser.parse_args()
    if args.seconds < 1 or args.warmup < 1 or args.concurrency < 1:
        parser.error("--seconds, --warmup and --concurrency must be positive")
    try:
        if make_url(args.database_url).get_backend_name() != "postgresql":
            parser.error("--database-url must be a PostgreSQL URL")
    except ArgumentError:
        parser.error("--database-url is not a database URL")
    if WRK is None:
        sys.exit("bench/scale.py needs wrk: apt-get install wrk")
    if REDIS_SERVER is None and not args.redis_url:
        sys.exit("bench/scale.py needs redis-server (apt-get install redis-server) or --redis-url")

    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="callout-bench-")))
        (scratch / "invoke.lua").write_text(WRK_SCRIPT)
        (scratch / "logging.json").write_text(json.dumps(callout_logging.config()))
        redis_url = args.redis_url or stack.enter_context(own_redis(scratch))
        client = reach(args.database_url, redis_url)
        bench = Bench(args, stack.enter_context(upstream(None)), redis_url, client, scratch)
        introduce(args)
        results = []
        for index, processes in enumerate(args.processes):
            results += bench.processes(processes, index)
    summarize(results, args.processes)


if __name__ == "__main__":
    main()
