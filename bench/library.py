"""Library benchmark: REST latency of the API list, search and read on a large library.

Seeds one client with `--apis` APIs of 5 requests each into a fresh SQLite file and a fresh
PostgreSQL database, serves the real app with uvicorn on a loopback port in a subprocess (as
`callout serve` does), and times calls through HTTP with an API key, one at a time on one
keep-alive connection. Prints p50 and p99 per database and operation against the goal.

    .venv/bin/python bench/library.py [--apis 10000] [--calls 300]

PostgreSQL: a database is created beside the one CALLOUT_BENCH_POSTGRES names (default
postgresql+psycopg://postgres@127.0.0.1:5432/test) and dropped afterwards.
"""

import argparse
import os
import random
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pydantic import SecretStr
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import DBAPIError

from callout.apis import catalog
from callout.db import migrations
from callout.db.crypto import generate_entry
from callout.db.engine import Database
from callout.settings import Settings
from seeding import DOMAINS, REQUESTS_PER_API, VENDORS, Library, seed

APP = "callout.web.app:create_app"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
GOAL_P99_MS = 50.0


@dataclass
class Row:
    database: str
    operation: str
    samples: list[float] = field(default_factory=list)

    def percentile(self, q: int) -> float:
        return statistics.quantiles(self.samples, n=100, method="inclusive")[q - 1]


# Databases


def new_database(kind: str, folder: Path, postgres: str) -> Database:
    """A fresh, migrated database with the catalogue synced (as the tests make them)."""
    if kind == "sqlite":
        database = Database(f"sqlite:///{folder / 'callout.db'}")
    else:
        name = f"callout_bench_{secrets.token_hex(4)}"
        admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        database = Database(make_url(postgres).set(database=name).render_as_string(False))
    migrations.upgrade(database.engine)
    with database.transaction() as session:
        catalog.sync(session)
    return database


def drop_database(database: Database, postgres: str) -> None:
    database.dispose()
    url = make_url(database.url)
    if url.get_backend_name() == "postgresql":
        admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
        admin.dispose()


def postgres_reachable(url: str) -> str | None:
    """None when PostgreSQL answers at `url`, else why not."""
    try:
        admin = create_engine(url)
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
        admin.dispose()
    except DBAPIError as error:
        return str(error.orig).strip().splitlines()[0]
    return None


# Serving


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(app: str, database_url: str, secret_keys: str, data_dir: Path) -> Iterator[str]:
    """The real app under uvicorn in a subprocess, as `callout serve` runs it; yields its URL."""
    port = free_port()
    env = os.environ | {
        "CALLOUT_DATABASE_URL": database_url,
        "CALLOUT_SECRET_KEYS": secret_keys,
        "CALLOUT_DATA_DIR": str(data_dir),
        "CALLOUT_ENVIRONMENT": "production",
    }
    command = [
        sys.executable, "-m", "uvicorn", app, "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    server = subprocess.Popen(command, env=env)  # noqa: S603 - our own interpreter and args
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"uvicorn exited with status {server.returncode}")
            try:
                httpx.get(f"{base}/openapi.json", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise RuntimeError("uvicorn did not answer within 30 s") from None
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# Measuring


def operations(library: Library, rng: random.Random) -> dict[str, Callable[[], str]]:
    """What each timed call asks for, chosen afresh for every call."""
    apis = f"/api/v1/clients/{library.code}/apis"
    words = [word.lower() for name in (*VENDORS, *DOMAINS) for word in name.split()]

    def page() -> str:
        return f"{apis}?limit=50&offset={rng.randrange(max(library.total - 50, 1))}"

    def search() -> str:
        # What someone types: a word of a name, often only its first letters.
        word = rng.choice(words)
        return f"{apis}?search={word[: rng.randint(min(3, len(word)), len(word))]}"

    def read() -> str:
        return f"{apis}/{rng.choice(library.api_ids)}"

    return {
        "list a page of 50": page,
        "search by name": search,
        "read one API + requests": read,
    }


def measure(http: httpx.Client, path: Callable[[], str], warmup: int, calls: int) -> list[float]:
    """Milliseconds per call, sequentially; warm-up calls are made and not counted."""
    samples = []
    for number in range(warmup + calls):
        target = path()
        started = time.perf_counter()
        response = http.get(target)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"GET {target}: {response.status_code} {response.text[:300]}")
        if number >= warmup:
            samples.append(elapsed)
    return samples


def run(kind: str, args: argparse.Namespace, folder: Path, entry: str) -> list[Row]:
    settings = Settings(data_dir=folder, secret_keys=SecretStr(entry))
    started = time.perf_counter()
    database = new_database(kind, folder, args.postgres)
    migrated = time.perf_counter() - started
    try:
        library = seed(database, settings.key_source().keyring(), args.apis, random.Random(1))
        database.dispose()
        print(
            f"{kind}: created and migrated in {migrated:.1f} s; seeded {len(library.api_ids)} "
            f"APIs, {len(library.api_ids) * REQUESTS_PER_API} requests and {library.secrets} "
            f"secrets in {library.seconds:.1f} s",
            flush=True,
        )
        rows = []
        with (
            serving(args.app, database.url, entry, folder) as base,
            httpx.Client(base_url=base, headers={"Authorization": f"Bearer {library.key}"}) as http,
        ):
            for operation, path in operations(library, random.Random(2)).items():
                samples = measure(http, path, args.warmup, args.calls)
                rows.append(Row(kind, operation, samples))
        return rows
    finally:
        if args.keep:
            print(f"{kind}: kept {make_url(database.url).render_as_string(True)}")
            database.dispose()
        else:
            drop_database(database, args.postgres)


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


def report(rows: list[Row]) -> None:
    print()
    print(f"machine: {machine()}")
    header = f"{'database':<11}{'operation':<26}{'p50 ms':>8}{'p99 ms':>8}  goal (p99 < 50 ms)"
    print(header)
    print("-" * len(header))
    for row in rows:
        p50, p99 = row.percentile(50), row.percentile(99)
        verdict = "met" if p99 < GOAL_P99_MS else "MISSED"
        print(f"{row.database:<11}{row.operation:<26}{p50:>8.1f}{p99:>8.1f}  {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--apis", type=int, default=10_000, help="APIs to seed (default 10000)")
    parser.add_argument("--calls", type=int, default=300, help="timed calls per operation")
    parser.add_argument("--warmup", type=int, default=30, help="untimed calls first")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("CALLOUT_BENCH_POSTGRES", DEFAULT_POSTGRES),
        help="a PostgreSQL database to create the benchmark's beside "
        "(default: CALLOUT_BENCH_POSTGRES, else %(default)s)",
    )
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    parser.add_argument(
        "--app",
        default=APP,
        help="the app factory uvicorn serves (default %(default)s); another one, importable "
        "through PYTHONPATH, measures a candidate change against the same data",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the databases afterwards, to EXPLAIN"
    )
    args = parser.parse_args()
    if args.apis < 100 or args.calls < 2:
        parser.error("--apis must be at least 100 and --calls at least 2")

    kinds = ["sqlite"]
    if not args.sqlite_only:
        why = postgres_reachable(args.postgres)
        shown = make_url(args.postgres).render_as_string(hide_password=True)
        if why is None:
            kinds.append("postgresql")
        else:
            print(f"PostgreSQL at {shown} is unreachable ({why}): SQLite only.", flush=True)
    print(f"machine: {machine()}", flush=True)
    entry = generate_entry()
    rows: list[Row] = []
    # With --keep the SQLite file must outlive the run, so its folder is not cleaned up.
    temp = tempfile.mkdtemp(prefix="callout-bench-")
    try:
        for kind in kinds:
            folder = Path(temp) / kind
            folder.mkdir()
            rows += run(kind, args, folder, entry)
    finally:
        if not args.keep:
            shutil.rmtree(temp, ignore_errors=True)
    report(rows)


if __name__ == "__main__":
    main()
