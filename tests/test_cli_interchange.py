"""`callout export`, `callout import` and `callout import-curl`, run as an operator runs
them: the installed script in a subprocess, on a data dir set up by `callout init`.

What a new user meets: a library exported into its folder again, and the one-line answers
to what cannot be exported or imported.
"""

import gzip
import json
import subprocess
from pathlib import Path

from tests.cli import Installation, callout, side_by_side, snapshot


def done_with(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, done.stderr
    return done


def error_line(done: subprocess.CompletedProcess[str]) -> str:
    """The one line a refused command printed on stderr, having exited with 1."""
    assert done.returncode == 1, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


# callout export DEMO -o FOLDER, again


def test_a_library_exported_again_removes_the_callout_files_of_deleted_apis_only(
    installation: Installation, tmp_path: Path
) -> None:
    data_dir, library = installation.data_dir, tmp_path / "library"
    done_with(
        callout(data_dir, "apis", "create", "demo", "--name", "Temp", "--base-url", "https://t.io")
    )
    first = done_with(callout(data_dir, "export", "demo", "-o", str(library)))
    assert first.stderr.strip() == f"Exported 2 API(s) to {library}"
    assert sorted(p.name for p in library.iterdir()) == ["customer-crm.yaml", "temp.yaml"]
    # A Callout file of the user's, its schema named for an editor: still a Callout file.
    (library / "hand-made.yml").write_text(
        "# yaml-language-server: $schema=../callout-file.schema.json\n\ncallout: 1\nname: Hand\n"
    )
    # What else the folder holds: a file of the user's, a YAML file that is not a Callout
    # file, a Callout file in a subfolder, a link to a Callout file.
    (library / "README.md").write_text("callout: 1\n")
    (library / "settings.yaml").write_text("# callout: 1\nname: mine\n")
    (library / "old").mkdir()
    (library / "old" / "kept.yaml").write_text("callout: 1\nname: Kept\n")
    (library / "link.yaml").symlink_to(library / "old" / "kept.yaml")
    done_with(callout(data_dir, "apis", "delete", "demo", "Temp", "--yes"))

    again = done_with(callout(data_dir, "export", "demo", "-o", str(library)))

    assert again.stderr.strip() == (
        f"Exported 1 API(s) to {library}; removed 2 Callout file(s) of APIs it no longer "
        "has: hand-made.yml, temp.yaml"
    )
    assert sorted(p.name for p in library.iterdir()) == [
        "README.md",
        "customer-crm.yaml",
        "link.yaml",
        "old",
        "settings.yaml",
    ]
    assert (library / "old" / "kept.yaml").read_text() == "callout: 1\nname: Kept\n"
    unchanged = done_with(callout(data_dir, "export", "demo", "-o", str(library)))
    assert unchanged.stderr.strip() == f"Exported 1 API(s) to {library}"


# Wording


def test_export_refusals_name_what_is_wrong(installed: Installation, tmp_path: Path) -> None:
    no_api, sealed_curl = side_by_side(
        installed.data_dir,
        ["export", "demo", "-o", str(tmp_path / "pm"), "--format", "postman"],
        ["export", "demo", "Customer CRM", "--format", "curl", "--with-secrets"],
    )

    assert error_line(no_api) == "error: --format postman exports one API: name it"
    assert error_line(sealed_curl) == "error: --with-secrets needs --format callout"
    assert list(tmp_path.iterdir()) == []


def test_one_api_exported_to_a_folder_or_a_file_says_where_it_went(
    installed: Installation, tmp_path: Path
) -> None:
    crm = tmp_path / "crm.yaml"
    into_folder, as_postman, to_file, to_stdout = side_by_side(
        installed.data_dir,
        ["export", "demo", "Customer CRM", "-o", str(tmp_path)],
        ["export", "demo", "Customer CRM", "-o", str(tmp_path), "--format", "postman"],
        ["export", "demo", "Customer CRM", "-o", str(crm)],
        ["export", "demo", "Customer CRM"],
    )

    assert done_with(into_folder).stderr.strip() == (
        f"Exported 'Customer CRM' to {tmp_path}/customer-crm.yaml"
    )
    assert done_with(as_postman).stderr.strip() == (
        f"Exported 'Customer CRM' to {tmp_path}/customer-crm.postman_collection.json"
    )
    assert done_with(to_file).stderr.strip() == f"Exported 'Customer CRM' to {crm}"
    assert done_with(to_stdout).stderr == ""
    assert (tmp_path / "customer-crm.yaml").read_text() == crm.read_text() == to_stdout.stdout
    postman = json.loads((tmp_path / "customer-crm.postman_collection.json").read_text())
    assert postman["info"]["name"] == "Customer CRM"


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
