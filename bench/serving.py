"""Callout served for an end-to-end benchmark: a fresh data dir and database, `callout init`
for the demo client's admin key, `callout serve` in a process of its own on a free loopback
port, and the CPU time a server has used (bench/invoke.py, bench/fire.py, bench/scale.py)."""

import argparse
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import create_engine, make_url

CALLOUT = Path(sys.prefix) / "bin" / "callout"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def database_options(parser: argparse.ArgumentParser) -> None:
    """`--database sqlite|postgresql` and `--postgres URL`, read by `database`."""
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("CALLOUT_BENCH_POSTGRES", POSTGRES),
        help="a PostgreSQL URL; the benchmark's database is created beside it",
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def database(kind: str, postgres: str) -> Iterator[dict[str, str]]:
    """Settings for a fresh database: SQLite in the data dir, or a new PostgreSQL database
    beside `postgres`, dropped afterwards."""
    if kind == "sqlite":
        yield {}
        return
    name = f"callout_bench_{secrets.token_hex(4)}"
    admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(postgres).set(database=name).render_as_string(hide_password=False)
        yield {"CALLOUT_DATABASE_URL": url}
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def callout_env(data_dir: Path, settings: dict[str, str]) -> dict[str, str]:
    """This process's environment less its CALLOUT_ settings, plus `settings`, the data dir,
    and an outbound guard that lets calls reach the upstream on loopback (it refuses loopback
    by default)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLOUT_")}
    env |= settings
    env |= {"CALLOUT_DATA_DIR": str(data_dir), "CALLOUT_OUTBOUND_ALLOW": "127.0.0.0/8"}
    return env


def set_up(env: dict[str, str]) -> str:
    """`callout init` on the data dir of `env`; the demo admin key it prints."""
    init = subprocess.run(  # noqa: S603 - our own script
        [str(CALLOUT), "init"], env=env, capture_output=True, text=True, check=True
    )
    for word in init.stdout.split():
        if word.startswith("callout_"):
            return word
    raise RuntimeError(f"callout init printed no key:\n{init.stdout}{init.stderr}")


@contextmanager
def serving(command: list[str], env: dict[str, str], log: Path) -> Iterator[int]:
    """Run a server until the block ends; yields its pid."""
    with log.open("w") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def serve_command(port: int, workers: int) -> list[str]:
    return [str(CALLOUT), "serve", "--port", str(port), "--workers", str(workers)]


def wait_up(root: str, log: Path, workers: int = 0) -> None:
    """Wait until the server answers and, under uvicorn, each of its `workers` has logged
    that its app started: the first worker up answers while the others may still be
    importing."""
    for _ in range(300):
        try:
            answered = httpx.get(f"{root}/openapi.json", timeout=2).status_code == 200
        except httpx.HTTPError:
            answered = False
        if answered and log.read_text().count("Application startup complete") >= workers:
            return
        time.sleep(0.1)
    raise RuntimeError(f"{root} did not answer within 30 s; see {log}:\n{log.read_text()[-3000:]}")


def tree_times(pid: int) -> dict[int, float]:
    """CPU seconds each process of a server has used so far: its own and every worker's
    under it (Linux)."""
    times: dict[int, float] = {}
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rpartition(")")[2].split()
            times[current] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return times


def tree_cpu(pid: int) -> float:
    """CPU seconds a server has used so far, its workers included (Linux)."""
    return sum(tree_times(pid).values())
