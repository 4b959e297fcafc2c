"""How long an OpenAPI import takes: `loading.parse` and `openapi.read` on GitHub's REST
description (1,223 operations, 13 MB), best of a few rounds."""

import argparse
import gzip
import os
import platform
import time
from pathlib import Path

from callout.interchange import loading, openapi

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
    api = converted.documents[0]
    print(
        f"{args.file.name}: {len(data):,} bytes, {len(api.requests)} requests, "
        f"{len(converted.notes)} notes"
    )
    print(
        f"parse {min(parse_times):.2f} s, read {min(read_times):.2f} s, "
        f"whole {min(p + r for p, r in zip(parse_times, read_times, strict=True)):.2f} s "
        f"(best of {args.rounds})"
    )
    print(
        f"{os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, "
        f"load {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
