"""How long an OpenAPI import takes: `loading.parse` and `openapi.read` on GitHub's REST
description (1,223 operations, 13 MB), then writing its API and 1,000 requests into a fresh
SQLite database (rolled back after each round), best of a few rounds."""

import argparse
import gzip
import os
import platform
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr

from callout.apis import catalog
from callout.clients import service as clients
from callout.clients.access import OPERATOR
from callout.clients.schemas import ClientCreate
from callout.db import migrations
from callout.db.crypto import generate_entry
from callout.db.engine import Database
from callout.interchange import loading, openapi, service
from callout.interchange.schemas import Converted
from callout.settings import Settings

GITHUB = Path(__file__).parent.parent / "tests" / "data" / "openapi" / "api.github.com.json.gz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("file", nargs="?", type=Path, default=GITHUB)
    args = parser.parse_args()
    raw = args.file.read_bytes()
    data = gzip.decompress(raw) if args.file.suffix == ".gz" else raw
    parse_times, read_times = [], []
    for _ in range(args.rounds):
        start = time.perf_counter()
        value = loading.parse(data, args.file.name)
        parsed = time.perf_counter()
        converted = openapi.read(value, args.file.name)
        parse_times.append(parsed - start)
        read_times.append(time.perf_counter() - parsed)
    write_times = _writes(args.file.name, converted, args.rounds)
    api = converted.documents[0]
    print(
        f"{args.file.name}: {len(data):,} bytes, {len(api.requests)} requests, "
        f"{len(converted.notes)} notes"
    )
    print(
        f"parse {min(parse_times):.2f} s, read {min(read_times):.2f} s, "
        f"whole {min(p + r for p, r in zip(parse_times, read_times, strict=True)):.2f} s; "
        f"written into SQLite {min(write_times):.2f} s (best of {args.rounds})"
    )
    print(
        f"{os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, "
        f"load {os.getloadavg()[0]:.2f}"
    )


def _writes(source: str, converted: Converted, rounds: int) -> list[float]:
    """Seconds to write the read API through the import service, each round rolled back."""
    with tempfile.TemporaryDirectory() as folder:
        database = Database(f"sqlite:///{folder}/callout.db")
        migrations.upgrade(database.engine)
        settings = Settings(data_dir=Path(folder), secret_keys=SecretStr(generate_entry()))
        keyring = settings.key_source().keyring()
        with database.transaction() as session:
            catalog.sync(session)
            made = clients.create_client(session, OPERATOR, ClientCreate(code="bench", name="B"))
        times = []
        for _ in range(rounds):
            with database.sessions() as session:
                client = clients.visible_client(session, OPERATOR, made.code)
                start = time.perf_counter()
                service.write_all(session, keyring, OPERATOR, client, [(source, converted)])
                times.append(time.perf_counter() - start)
                session.rollback()
        database.dispose()
    return times


if __name__ == "__main__":
    main()
