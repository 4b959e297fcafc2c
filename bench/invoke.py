"""End-to-end invoke benchmark: Callout's `POST .../invoke` against a minimal FastAPI route.

Starts, each in a process of its own:

    upstream   a loopback HTTP server answering every request with the same small JSON
               (bench/runtime.py's), so it never shares the load generator's process
    callout    `callout serve` on a fresh data dir (`callout init`), SQLite or PostgreSQL;
               one API with bearer authorization and one request with a path placeholder
               and two outputs, created over REST with the admin key `init` printed
    minimal    bench/minimal_invoke.py: a FastAPI route on the same path making the same
               upstream call with aiohttp and answering the same two outputs, under the
               same server settings

then alternates rounds of both, `--concurrency` calls in flight from `wrk` (a separate
process, C and epoll: a fraction of the CPU per call an asyncio client takes, so the load
generator takes little of the 2 CPUs from the server it measures), and prints req/s and
p50/p95/p99 of each, and the ratios Callout/minimal of req/s and p99 against the goals.

    .venv/bin/python bench/invoke.py [--database sqlite|postgresql] [--seconds 10]
                                     [--rounds 3] [--concurrency 32] [--workers 1]
                                     [--server serve|uvicorn-h11|uvicorn-uvloop|granian]

`--server serve` (the default) runs Callout as shipped and the minimal route under the same
uvicorn options; the others run both apps under that server's command line, access logs off,
to compare server stacks.
"""

import argparse
import dataclasses
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

from callout import logging as callout_logging
from callout.cli.installation import UVICORN_OPTIONS
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

BENCH = Path(__file__).resolve().parent
WRK = shutil.which("wrk") or "wrk"
GOAL_RATE, GOAL_P99 = 0.8, 1.5
INVOKE = "/api/v1/clients/demo/apis/{api}/requests/{request}/invoke"
WRK_SCRIPT = """
local counter = 0
local key = nil
function init(args)
  key = args[1]
end
function request()
  counter = counter + 1
  local headers = {["Content-Type"] = "application/json"}
  if key ~= "-" then headers["Authorization"] = "Bearer " .. key end
  local body = '{"parameters":{"customerId":' .. (1000 + counter % 9000) .. '}}'
  return wrk.format("POST", nil, headers, body)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %d %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), e.status,
    e.connect + e.read + e.write + e.timeout))
end
"""


# The servers


def server_command(kind: str, target: str, port: int, workers: int, log_config: Path) -> list[str]:
    """How `kind` serves `target` (`module:app`, or `module:factory()` for a factory)."""
    factory = target.endswith("()")
    target = target.removesuffix("()")
    python = [sys.executable, "-m"]
    common = ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    if kind == "serve":  # the minimal route under the options `callout serve` uses
        options = [f"--{name.replace('_', '-')}={value}" for name, value in UVICORN_OPTIONS.items()]
        return [*python, "uvicorn", target, *common, *options, "--log-config", str(log_config)]
    if kind in ("uvicorn-h11", "uvicorn-uvloop"):
        loop = ["--loop", "asyncio", "--http", "h11"]
        if kind == "uvicorn-uvloop":
            loop = ["--loop", "uvloop", "--http", "httptools"]
        extra = ["--factory"] if factory else []
        return [*python, "uvicorn", target, *common, *loop, "--no-access-log", *extra]
    if kind == "granian":
        extra = ["--factory"] if factory else []
        return [
            *python,
            "granian",
            "--interface",
            "asgi",
            *common,
            "--no-access-log",
            *extra,
            target,
        ]
    raise ValueError(kind)


def library(
    root: str,
    key: str,
    target: Upstream,
    name: str = "Bench CRM",
    authorization: dict[str, Any] | None = None,
) -> str:
    """The API and request the benchmark invokes, created over REST; the invoke path. The API
    has bearer authorization unless `authorization` says otherwise (bench/scale.py)."""
    headers = {"Authorization": f"Bearer {key}"}
    apis = f"{root}/api/v1/clients/demo/apis"
    api = httpx.post(
        apis,
        headers=headers,
        json={
            "name": name,
            "base_url": f"{target.url}/api",
            "authorization": authorization or {"type": "bearer", "token": TOKEN},
        },
    )
    api.raise_for_status()
    request = httpx.post(
        f"{apis}/{api.json()['id']}/requests",
        headers=headers,
        json={
            "name": "Get customer",
            "endpoint_path": "customers/${customerId}",
            "parameters": [{"name": "customerId", "type": "number", "required": True}],
            "outputs": [
                {"name": "customerName", "path": "$.customer.name"},
                {"name": "balance", "path": "$.customer.balance", "type": "number"},
            ],
        },
    )
    request.raise_for_status()
    return INVOKE.format(api=api.json()["id"], request=request.json()["id"])


def check(url: str, key: str | None) -> None:
    """One call answers the two outputs, or the benchmark would measure errors."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    answer = httpx.post(url, headers=headers, json={"parameters": {"customerId": 1}}, timeout=10)
    outputs = answer.json().get("outputs") if answer.status_code == 200 else None
    if outputs != {"customerName": "Ann Example", "balance": 1234.56}:
        raise RuntimeError(f"{url} answered {answer.status_code}: {answer.text[:500]}")


# Measuring


@dataclasses.dataclass(frozen=True)
class Run:
    round: int
    name: str
    requests: int
    rate: float
    p50: float  # ms
    p95: float
    p99: float
    errors: int  # non-2xx answers, and socket errors or timeouts
    wrk_cpu: float  # share of one CPU the load generator took
    server_us: float = 0.0  # server CPU per call, its workers included


def load(
    url: str, key: str | None, seconds: int, concurrency: int, script: Path, server: int
) -> Run:
    """One wrk run against `url`; `server` is the pid whose CPU time is counted."""
    server_cpu = tree_cpu(server)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603
        [
            WRK,
            "-t1",
            f"-c{concurrency}",
            f"-d{seconds}s",
            "--timeout",
            "60s",
            "-s",
            str(script),
            url,
            "--",
            key or "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_cpu = tree_cpu(server) - server_cpu
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) / wall
    line = next(x for x in done.stdout.splitlines() if x.startswith("BENCH "))
    requests, duration, p50, p95, p99, status, socket = (int(x) for x in line.split()[1:])
    return Run(
        0,
        "",
        requests,
        requests / (duration / 1e6),
        p50 / 1000,
        p95 / 1000,
        p99 / 1000,
        status + socket,
        cpu,
        server_cpu / max(requests, 1) * 1e6,
    )


def report(runs: list[Run], args: argparse.Namespace) -> None:
    print()
    print(f"machine: {machine()}")
    print(
        f"load: wrk, {args.concurrency} in flight, {args.rounds} rounds of {args.seconds:g} s "
        f"each after a {args.warmup:g} s warm-up; server {args.server}, {args.workers} "
        f"worker(s); database {args.database}"
    )
    print()
    header = (
        f"{'round':<7}{'route':<9}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'errors':>8}{'wrk CPU':>9}{'server CPU us/call':>20}"
    )
    print(header)
    print("-" * len(header))
    for r in runs:
        print(
            f"{r.round:<7}{r.name:<9}{r.rate:>9,.0f}{r.p50:>9.1f}{r.p95:>9.1f}{r.p99:>9.1f}"
            f"{r.errors:>8}{r.wrk_cpu:>9.0%}{r.server_us:>20.0f}"
        )

    def median(name: str, field: str) -> float:
        return float(statistics.median(getattr(r, field) for r in runs if r.name == name))

    print()
    for name in ("callout", "minimal"):
        print(
            f"{name:<9}{median(name, 'rate'):>9,.0f} req/s  p50 {median(name, 'p50'):.1f}  "
            f"p95 {median(name, 'p95'):.1f}  p99 {median(name, 'p99'):.1f} ms  "
            f"server CPU {median(name, 'server_us'):,.0f} us/call  (medians of {args.rounds})"
        )
    rate = median("callout", "rate") / median("minimal", "rate")
    p99 = median("callout", "p99") / median("minimal", "p99")
    print(
        f"Callout/minimal req/s {rate:.2f}  goal >= {GOAL_RATE}: "
        f"{'met' if rate >= GOAL_RATE else 'MISSED'}"
    )
    print(
        f"Callout/minimal p99   {p99:.2f}  goal <= {GOAL_P99}: "
        f"{'met' if p99 <= GOAL_P99 else 'MISSED'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    database_options(parser)
    parser.add_argument(
        "--server", choices=("serve", "uvicorn-h11", "uvicorn-uvloop", "granian"), default="serve"
    )
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    if not Path(WRK).is_absolute():
        sys.exit("bench/invoke.py needs wrk: apt-get install wrk")

    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="callout-bench-")))
        script = scratch / "invoke.lua"
        script.write_text(WRK_SCRIPT)
        log_config = scratch / "logging.json"
        log_config.write_text(json.dumps(callout_logging.config()))
        target = stack.enter_context(upstream(None))
        settings = stack.enter_context(database(args.database, args.postgres))
        env = callout_env(scratch / "data", settings)
        env |= {
            "BENCH_UPSTREAM": target.url,
            "PYTHONPATH": os.pathsep.join([str(BENCH), env.get("PYTHONPATH", "")]),
        }
        key = set_up(env)

        ports = {"callout": free_port(), "minimal": free_port()}
        targets = {"callout": "callout.web.app:create_app()", "minimal": "minimal_invoke:app"}
        pids: dict[str, int] = {}
        for name in ("callout", "minimal"):
            if args.server == "serve" and name == "callout":
                command = serve_command(ports[name], args.workers)
            else:
                command = server_command(
                    args.server, targets[name], ports[name], args.workers, log_config
                )
            log = scratch / f"{name}.log"
            pids[name] = stack.enter_context(serving(command, env, log))
            wait_up(f"http://127.0.0.1:{ports[name]}", log)

        root = f"http://127.0.0.1:{ports['callout']}"
        path = library(root, key, target)
        urls = {name: f"http://127.0.0.1:{port}{path}" for name, port in ports.items()}
        keys = {"callout": key, "minimal": None}
        for name in ("callout", "minimal"):
            check(urls[name], keys[name])
            load(urls[name], keys[name], args.warmup, args.concurrency, script, pids[name])

        runs = []
        for number in range(1, args.rounds + 1):
            # Each round swaps who goes first, so a drift in the machine favours neither.
            order = ["callout", "minimal"] if number % 2 else ["minimal", "callout"]
            for name in order:
                run = load(
                    urls[name], keys[name], args.seconds, args.concurrency, script, pids[name]
                )
                run = dataclasses.replace(run, round=number, name=name)
                runs.append(run)
                print(
                    f"  round {number}: {name:<8} {run.rate:>7,.0f} req/s  p99 {run.p99:.1f} ms"
                    + (f"  {run.errors} errors" if run.errors else ""),
                    flush=True,
                )
        report(runs, args)


if __name__ == "__main__":
    main()
