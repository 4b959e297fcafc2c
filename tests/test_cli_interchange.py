"""`callout export`, `callout import` and `callout import-curl`, run as an operator runs
them: the installed script in a subprocess, on a data dir set up by `callout init`.

What a new user meets: the one-line answers to files that cannot be imported.
"""

import gzip
import subprocess
from pathlib import Path

from tests.cli import Installation, side_by_side, snapshot


def error_line(done: subprocess.CompletedProcess[str]) -> str:
    """The one line a refused command printed on stderr, having exited with 1."""
    assert done.returncode == 1, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


# Wording


def test_files_that_cannot_be_imported_say_what_they_are(
    installed: Installation, tmp_path: Path
) -> None:
    crm = "callout: 1\nname: Café CRM\nbase_url: https://crm.example\n"
    files = {
        "crm.yaml.gz": gzip.compress(crm.encode()),
        "picture.yaml": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "latin1.yaml": crm.encode("latin-1"),
        "empty.yaml": b"",
        "newer.yaml": crm.replace("callout: 1", "callout: 2").encode(),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    before = snapshot(installed.data_dir)

    finished = side_by_side(
        installed.data_dir, *(["import", "demo", str(tmp_path / name)] for name in files)
    )

    said = [error_line(done).removeprefix(f"error: {tmp_path}/") for done in finished]
    assert said == [
        "crm.yaml.gz: is gzip-compressed: decompress it first",
        "picture.yaml: is not a text file",
        "latin1.yaml: is not UTF-8 text (byte 20)",
        "empty.yaml: is empty",
        "newer.yaml: was written by a newer Callout (format 2; this one reads format 1)",
    ]
    assert snapshot(installed.data_dir) == before
