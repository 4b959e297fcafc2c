"""Running the real `callout` console script in tests, as an operator runs it."""

import asyncio
import os
import pty
import re
import select
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from callout.clients import service as clients
from callout.clients.access import Principal
from callout.db.engine import Database
from callout.settings import Settings

CALLOUT = Path(sys.prefix) / "bin" / "callout"
KEY = re.compile(r"callout_[0-9a-f]{12}_[A-Za-z0-9_\-]{20,}")


def environment(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLOUT_")}
    env |= {
        "CALLOUT_DATA_DIR": str(data_dir),
        "CALLOUT_OUTBOUND_ALLOW": "127.0.0.0/8,::1",  # the test peers are on loopback
        "COLUMNS": "200",
        "NO_COLOR": "1",
    }
    return env | extra


def start(data_dir: Path, *args: str, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 - our own script, fixed arguments
        [str(CALLOUT), *args],
        env=environment(data_dir, **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    stdout, stderr = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def callout(data_dir: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return finish(start(data_dir, *args, **extra))


def side_by_side(data_dir: Path, *commands: list[str]) -> list[subprocess.CompletedProcess[str]]:
    """Commands that do not change the installation, run at once: each is a second and a
    half of start-up."""
    running = [start(data_dir, *command) for command in commands]
    return [finish(process) for process in running]


def database_of(data_dir: Path) -> Database:
    return Database(f"sqlite:///{data_dir / 'callout.db'}")


def settings_of(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, secret_keys=None, database_url=None)


def principal_of(data_dir: Path, key: str) -> Principal:
    database = database_of(data_dir)
    try:
        with database.transaction() as session:
            return clients.authenticate(session, key)
    finally:
        database.dispose()


def snapshot(data_dir: Path) -> dict[str, Any]:
    """Everything an installation holds: every table's rows and the key file."""
    connection = sqlite3.connect(data_dir / "callout.db")
    try:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        rows = {
            t: connection.execute(f'SELECT * FROM "{t}" ORDER BY 1').fetchall()  # noqa: S608
            for t in tables
        }
    finally:
        connection.close()
    key_file = data_dir / "secret-keys"
    if not key_file.exists():
        return {"rows": rows}
    return {"rows": rows, "keys": key_file.read_text(), "key_mtime": key_file.stat().st_mtime_ns}


@dataclass(frozen=True)
class Installation:
    data_dir: Path
    admin_key: str
    output: str


def init(folder: Path) -> Installation:
    """`callout init` into `folder`/data, a data dir that does not exist yet, with the demo
    client's admin key it printed."""
    data_dir = folder / "data"
    done = callout(data_dir, "init")
    assert done.returncode == 0, done.stderr
    keys = KEY.findall(done.stdout)
    assert len(keys) == 1, done.stdout
    return Installation(data_dir, keys[0], done.stdout)


def copy_of(installation: Installation, folder: Path) -> Installation:
    """A private copy of an installation in `folder`/data, for a test that changes it."""
    data_dir = folder / "data"
    shutil.copytree(installation.data_dir, data_dir)
    return Installation(data_dir, installation.admin_key, installation.output)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def callout_serve(
    data_dir: Path, log: Path, *args: str, **extra: str
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A real `callout serve` on a free loopback port, and its root URL. Its output goes to
    `log` (a server logs a line per request: a pipe nobody reads would fill up and stall it);
    stopped when the block ends, if it still runs."""
    port = free_port()
    with log.open("a") as out:
        server = subprocess.Popen(  # noqa: S603 - our own script, fixed arguments
            [str(CALLOUT), "serve", "--port", str(port), *args],
            env=environment(data_dir, **extra),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield server, f"http://127.0.0.1:{port}"
    finally:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


async def wait_up(root: str, server: subprocess.Popen[bytes]) -> None:
    """Until the server answers, for at most 15 s."""
    async with aiohttp.ClientSession() as session:
        for _ in range(150):
            assert server.poll() is None, "callout serve ended; see its log"
            try:
                async with session.get(f"{root}/openapi.json") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    pytest.fail("callout serve did not answer within 15 s")


@contextmanager
def serving(data_dir: Path, log: Path, *args: str, **extra: str) -> Iterator[str]:
    """`callout_serve` once it answers, for a fixture or test that is not async: the
    server's root URL."""
    with callout_serve(data_dir, log, *args, **extra) as (server, root):
        # In a thread of its own: the caller's may be running a loop (Playwright's sync API).
        with ThreadPoolExecutor(1) as waiter:
            waiter.submit(asyncio.run, wait_up(root, server)).result()
        yield root


class Terminal:
    """`callout` on a pseudo-terminal, as a person at a terminal runs it: stdin and stderr
    are the terminal (prompts, the progress bar), stdout a pipe. A session of its own: a
    passphrase is read from this terminal, never from the one the tests run in."""

    def __init__(self, data_dir: Path, *args: str) -> None:
        self.keyboard, tty = pty.openpty()
        self.process = subprocess.Popen(  # noqa: S603 - our own script, fixed arguments
            [str(CALLOUT), *args],
            env=environment(data_dir, TERM="xterm", COLUMNS="100"),
            stdin=tty,
            stdout=subprocess.PIPE,
            stderr=tty,
            start_new_session=True,
        )
        os.close(tty)

    def read(self, seconds: float, until: bytes | None = None) -> bytes:
        """What the terminal shows for `seconds`, or until it ends with `until`."""
        seen = b""
        deadline = time.monotonic() + seconds
        while until is None or not seen.endswith(until):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([self.keyboard], [], [], left)
            if not ready:
                break
            try:
                chunk = os.read(self.keyboard, 65536)
            except OSError:  # the process has ended
                break
            if not chunk:
                break
            seen += chunk
        return seen

    def type(self, text: str) -> None:
        os.write(self.keyboard, text.encode() + b"\n")

    def finish(self) -> tuple[int, str]:
        """Its exit status and stdout, once it ends."""
        stdout, _ = self.process.communicate(timeout=60)
        return self.process.returncode, stdout.decode()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate()
        os.close(self.keyboard)
