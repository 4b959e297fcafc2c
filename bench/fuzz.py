"""Fuzz a real `callout serve` with schemathesis over its own /openapi.json, all checks.

Sets up a fresh data dir (`callout init`, whose admin key the run uses), serves it on a free
loopback port, and runs schemathesis against the demo client for `--minutes`. It prints
schemathesis's report, then every 5xx the server logged with the exception behind it, and
exits 1 if there was any. Not part of `make test`: a run takes minutes.

    .venv/bin/python bench/fuzz.py --minutes 3
"""

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BIN = Path(sys.executable).parent
KEY = re.compile(r"callout_[0-9a-f]+_[A-Za-z0-9_-]+")
# Every operation is under one client: the demo one (other codes only answer 404). A write
# without If-Match answers 428 Precondition Required (RFC 6585 section 3), not 400 or 422.
CONFIG = """\
[parameters]
"path.client" = "demo"

[checks.missing_required_header]
expected-statuses = [400, 401, 403, 406, 415, 422, 428]
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_up(url: str, server: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("callout serve exited before it answered")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (loopback, http)
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"callout serve did not answer {url} within {seconds} s")


def server_errors(log: str) -> list[str]:
    """Each 'unexpected error' the server logged, with the last line of its traceback."""
    found = []
    lines = log.splitlines()
    for i, line in enumerate(lines):
        if "unexpected error on" in line:
            cause = next(
                (
                    later
                    for later in lines[i + 1 : i + 200]
                    if re.match(r"^[\w.]+(Error|Exception)\b", later)
                ),
                "",
            )
            found.append(f"{line.strip()}\n    {cause.strip()}")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--workers", default="2")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="callout-fuzz-"))
    port = free_port()
    env = os.environ | {"CALLOUT_DATA_DIR": str(folder / "data"), "CALLOUT_PORT": str(port)}
    env.pop("CALLOUT_DATABASE_URL", None)
    init = subprocess.run(  # noqa: S603 - our own scripts, fixed arguments
        [BIN / "callout", "init"], env=env, capture_output=True, text=True, check=True
    )
    key = KEY.search(init.stdout)
    if key is None:
        raise SystemExit("callout init printed no key")
    (folder / "schemathesis.toml").write_text(CONFIG)
    log_path = folder / "server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(  # noqa: S603 - our own scripts, fixed arguments
            [BIN / "callout", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_up(f"{base}/openapi.json", server)
            fuzz = subprocess.run(  # noqa: S603 - our own scripts, fixed arguments
                [
                    BIN / "schemathesis",
                    "--config-file",
                    str(folder / "schemathesis.toml"),
                    "--no-color",
                    "run",
                    f"{base}/openapi.json",
                    "--checks",
                    "all",
                    "--max-time",
                    str(int(args.minutes * 60)),
                    "--workers",
                    args.workers,
                    "--header",
                    f"Authorization: Bearer {key.group()}",
                ],
                env=env,
                cwd=folder,  # its cache of found failures goes with the data dir
                check=False,
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
    errors = server_errors(log_path.read_text(errors="replace"))
    print(f"\nschemathesis exit code: {fuzz.returncode}")
    print(f"5xx the server logged: {len(errors)}")
    for error in errors:
        print(f"  {error}")
    shutil.rmtree(folder, ignore_errors=True)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
