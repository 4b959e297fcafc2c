"""`callout export`, `callout import` and `callout import-curl`, run as an operator runs
them: the installed script in a subprocess, on a data dir set up by `callout init`.

What a new user meets: a library exported into its folder again, a folder with other things
in it, a passphrase asked for on a terminal, a name clash inside one import, errors with
--json, and the one-line answers to what cannot be exported or imported.
"""

import gzip
import json
import subprocess
from pathlib import Path
from typing import Any

from tests.cli import Installation, Terminal, callout, side_by_side, snapshot

PASSPHRASE = "correct horse battery staple"
DUP_A = "callout: 1\nname: Dup API\nbase_url: https://dup.example\n"
DUP_B = "callout: 1\nname: dup api\nbase_url: https://dup.example\n"


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


def test_a_library_exported_again_removes_the_files_of_deleted_apis_only(
    installation: Installation, tmp_path: Path
) -> None:
    data_dir, library = installation.data_dir, tmp_path / "library"
    done_with(
        callout(data_dir, "apis", "create", "demo", "--name", "Temp", "--base-url", "https://t.io")
    )
    first = done_with(callout(data_dir, "export", "demo", "-o", str(library)))
    assert first.stderr.strip() == f"Exported 2 API(s) to {library}"
    assert sorted(p.name for p in library.iterdir()) == [
        ".callout-export.yaml",
        "customer-crm.yaml",
        "temp.yaml",
    ]
    # What else the folder holds, none of it written by an export of this client: a Callout
    # file of the user's (its schema named for an editor), another file, a YAML file that is
    # not a Callout file, a Callout file in a subfolder, a link to a Callout file.
    user = "# yaml-language-server: $schema=../callout-file.schema.json\n\ncallout: 1\nname: U\n"
    (library / "hand-made.yml").write_text(user)
    (library / "README.md").write_text("callout: 1\n")
    (library / "settings.yaml").write_text("# callout: 1\nname: mine\n")
    (library / "old").mkdir()
    (library / "old" / "kept.yaml").write_text("callout: 1\nname: Kept\n")
    (library / "link.yaml").symlink_to(library / "old" / "kept.yaml")
    done_with(callout(data_dir, "apis", "delete", "demo", "Temp", "--yes"))

    again = done_with(callout(data_dir, "export", "demo", "-o", str(library)))

    assert again.stderr.strip() == (
        f"Exported 1 API(s) to {library}; removed 1 Callout file(s) of APIs it no longer "
        "has: temp.yaml"
    )
    assert sorted(p.name for p in library.iterdir()) == [
        ".callout-export.yaml",
        "README.md",
        "customer-crm.yaml",
        "hand-made.yml",
        "link.yaml",
        "old",
        "settings.yaml",
    ]
    assert (library / "old" / "kept.yaml").read_text() == "callout: 1\nname: Kept\n"
    unchanged = done_with(callout(data_dir, "export", "demo", "-o", str(library)))
    assert unchanged.stderr.strip() == f"Exported 1 API(s) to {library}"


def test_an_export_into_a_folder_another_client_exported_to_removes_none_of_its_files(
    installation: Installation, tmp_path: Path
) -> None:
    data_dir, library = installation.data_dir, tmp_path / "library"
    done_with(callout(data_dir, "export", "demo", "-o", str(library)))
    # The folder imports back as the library it holds: its record is not read.
    imported = ["import", "demo", str(library), "--dry-run", "--json", "--clash", "rename"]
    back = done_with(callout(data_dir, *imported))
    assert [api["source"] for api in json.loads(back.stdout)["apis"]] == [
        str(library / "customer-crm.yaml")
    ]
    record = library / ".callout-export.yaml"
    record.write_text(record.read_text().replace("client: demo", "client: acme"))
    (library / "customer-crm.yaml").rename(library / "acme-api.yaml")

    again = done_with(callout(data_dir, "export", "demo", "-o", str(library)))

    assert again.stderr.strip() == f"Exported 1 API(s) to {library}"
    assert (library / "acme-api.yaml").exists()


# callout import DEMO FOLDER


def test_a_folder_import_names_what_it_passed_over_and_one_with_nothing_to_import_fails(
    installed: Installation, tmp_path: Path
) -> None:
    mixed, nothing, empty = tmp_path / "mixed", tmp_path / "nothing", tmp_path / "empty"
    for folder in (mixed, nothing):
        (folder / "sub").mkdir(parents=True)
        (folder / "sub" / "deeper.yaml").write_text(DUP_A)
        (folder / "ttt.txt").write_text("notes")
        (folder / ".git").mkdir()  # hidden: not named
    (mixed / "a.yaml").write_text(DUP_A)
    empty.mkdir()
    before = snapshot(installed.data_dir)

    report, as_json, refused, refused_json, refused_empty = side_by_side(
        installed.data_dir,
        ["import", "demo", str(mixed), "--dry-run"],
        ["import", "demo", str(mixed), "--dry-run", "--json"],
        ["import", "demo", str(nothing)],
        ["import", "demo", str(nothing), "--json"],
        ["import", "demo", str(empty), str(mixed)],
    )

    passed_over = "passed over: sub/ (a folder), ttt.txt"
    assert done_with(report).stdout.splitlines()[0] == (
        "Would import 1 API(s) with 0 request(s) (callout)."
    )
    assert report.stderr == ""  # no progress bar, nor a line left of it, off a terminal
    assert f"note: {mixed}: {passed_over}" in report.stdout.splitlines()
    assert json.loads(done_with(as_json).stdout)["notes"] == [
        {"source": str(mixed), "where": "", "message": passed_over}
    ]
    assert error_line(refused) == (
        f"error: {nothing}: holds no .yaml, .yml or .json file ({passed_over})"
    )
    assert refused.stdout == ""
    assert json.loads(refused_json.stdout)["errors"] == [
        {"field": str(nothing), "message": f"holds no .yaml, .yml or .json file ({passed_over})"}
    ]
    assert error_line(refused_empty) == f"error: {empty}: holds no .yaml, .yml or .json file"
    assert snapshot(installed.data_dir) == before


# The passphrase, on a terminal


def test_the_passphrase_is_asked_on_the_terminal_with_the_progress_bar_put_away(
    installation: Installation, tmp_path: Path, terminals: list[Terminal]
) -> None:
    data_dir = installation.data_dir
    token = "curl -H 'Authorization: Bearer s3cret-token-42' https://sealed.example/v1/a"
    done_with(callout(data_dir, "import-curl", "demo", token, "--name", "Sealed"))
    sealing = Terminal(data_dir, "export", "demo", "Sealed", "--with-secrets")
    terminals.append(sealing)

    # Sealing: the least length is said before the passphrase is typed.
    assert sealing.read(30, until=b": ").endswith(b"Passphrase (at least 12 characters): ")
    sealing.type(PASSPHRASE)
    assert sealing.read(30, until=b": ").endswith(b"Repeat for confirmation: ")
    sealing.type(PASSPHRASE)
    status, exported = sealing.finish()
    assert status == 0
    assert exported.startswith("callout: 1\nname: Sealed\n")  # no prompt in the file
    assert "secrets:" in exported
    sealed = tmp_path / "sealed.yaml"
    sealed.write_text(exported)
    done_with(callout(data_dir, "apis", "delete", "demo", "Sealed", "--yes"))

    opening = Terminal(data_dir, "import", "demo", str(sealed))
    terminals.append(opening)
    shown = opening.read(30, until=b"Passphrase: ")
    assert shown.endswith(b"Passphrase: ")
    # The bar is put away while the passphrase is typed: nothing is drawn over the prompt.
    assert opening.read(1.5) == b""
    opening.type(PASSPHRASE)
    opening.read(30)
    status, report = opening.finish()
    assert status == 0
    assert report.splitlines()[0] == "Imported 1 API(s) with 1 request(s) (callout)."


# Name clashes


def test_a_clash_inside_one_import_names_the_other_file_and_the_option_as_the_cli_spells_it(
    installed: Installation, tmp_path: Path
) -> None:
    (tmp_path / "a.yaml").write_text(DUP_A)
    (tmp_path / "b.yaml").write_text(DUP_B)
    crm = tmp_path / "crm.yaml"
    crm.write_text("callout: 1\nname: customer crm\nbase_url: https://crm.example\n")
    before = snapshot(installed.data_dir)

    inside, with_library, skipped = side_by_side(
        installed.data_dir,
        ["import", "demo", str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")],
        ["import", "demo", str(crm)],
        ["import", "demo", str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml"), "--clash",
         "skip", "--dry-run"],
    )  # fmt: skip

    assert error_line(inside) == (
        f"error: {tmp_path}/b.yaml: name: an API named 'dup api' clashes with 'Dup API' from "
        f"{tmp_path}/a.yaml in this import (import with --clash skip or --clash rename to go on)"
    )
    assert error_line(with_library) == (
        f"error: {crm}: name: an API named 'customer crm' exists already (import with "
        "--clash skip or --clash rename to go on)"
    )
    assert [line.split()[0] for line in done_with(skipped).stdout.splitlines()[2:]] == [
        "created",
        "skipped",
    ]
    assert snapshot(installed.data_dir) == before


# --json


def test_with_json_an_error_is_the_rest_problem_body_on_stdout(
    installed: Installation, tmp_path: Path
) -> None:
    crm = tmp_path / "crm.yaml"
    crm.write_text("callout: 1\nname: Customer CRM\nbase_url: https://crm.example\n")
    before = snapshot(installed.data_dir)

    clash, shell, bad_name, missing = side_by_side(
        installed.data_dir,
        ["import", "demo", str(crm), "--json"],
        ["import-curl", "demo", "curl https://x.example/a; rm -rf ~", "--json"],
        ["import-curl", "demo", "curl https://x.example/a", "--name", "", "--json"],
        ["import", "demo", str(tmp_path / "missing.yaml"), "--json"],
    )

    problems: list[dict[str, Any]] = []
    for done in (clash, shell, bad_name, missing):
        line = error_line(done)  # stderr keeps its line
        problem = json.loads(done.stdout)
        assert line == f"error: {problem['detail']}"
        problems.append(problem)
    field = f"{crm}: name"
    assert problems[0] == {
        "type": "/problems/conflict",
        "title": "Conflict",
        "status": 409,
        "detail": f"{field}: an API named 'Customer CRM' exists already (import with --clash "
        "skip or --clash rename to go on)",
        "errors": [{"field": field, "message": "an API named 'Customer CRM' exists already"}],
    }
    assert (problems[1]["status"], problems[1]["title"]) == (422, "Invalid input")
    assert problems[1]["errors"] == [
        {
            "field": "command line: line 1, column 25",
            "message": "one curl command, no shell operators: ; outside quotes (quote it to "
            "send it as text)",
        }
    ]
    assert problems[2]["errors"] == [
        {"field": "--name", "message": "String should have at least 1 character"}
    ]
    assert problems[3] == {
        "type": "/problems/bad-request",
        "title": "Bad request",
        "status": 400,
        "detail": f"cannot read {tmp_path}/missing.yaml: No such file or directory",
    }
    assert snapshot(installed.data_dir) == before


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
    assert done_with(as_postman).stderr.splitlines()[-1] == (
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


def test_what_was_not_carried_is_one_line_per_kind_with_its_places(
    installation: Installation,
) -> None:
    collection = Path(__file__).parent / "data" / "postman" / "conduit.postman_collection.json"

    done = callout(installation.data_dir, "import", "demo", str(collection), "--dry-run")

    assert done.returncode == 0, done.stderr
    scripts = [line for line in done.stdout.splitlines() if "the test script" in line]
    assert scripts == [
        f"note: {collection}: the test script is not carried: Callout runs no scripts (30 "
        "places: item[0].item[0].event[0], item[0].item[1].event[0], item[0].item[2].event[0] "
        "and 27 more)"
    ]


def test_a_postman_export_tells_what_the_collection_leaves_out(
    installation: Installation,
) -> None:
    done = callout(installation.data_dir, "export", "demo", "Customer CRM", "--format", "postman")

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["info"]["name"] == "Customer CRM"
    told = done.stderr.splitlines()
    assert "not carried into the collection: request 'Get customer': outputs, url_path" in told


def test_import_curl_name_is_refused_for_commands_of_several_base_urls(
    installed: Installation,
) -> None:
    script = "curl https://crm.example.com/a\ncurl https://billing.example.com/b\n"
    before = snapshot(installed.data_dir)

    done = callout(installed.data_dir, "import-curl", "demo", script, "--name", "Both")

    assert done.returncode == 1
    assert error_line(done) == (
        "error: --name: names one API; these commands call 2 base URLs, an API each: import "
        "them without --name, or one at a time"
    )
    assert snapshot(installed.data_dir) == before


def test_with_json_a_misconfigured_key_is_a_problem_body_too(
    installed: Installation, tmp_path: Path
) -> None:
    crm = tmp_path / "k.yaml"
    crm.write_text("callout: 1\nname: K\nbase_url: https://k.example\n")

    done = callout(
        installed.data_dir, "import", "demo", str(crm), "--json", CALLOUT_SECRET_KEYS="garbage"
    )

    assert done.returncode == 1
    problem = json.loads(done.stdout)
    assert problem["status"] == 422
    assert "CALLOUT_SECRET_KEYS: entry 1 is not `key_id:base64key`" in problem["detail"]
    assert error_line(done) == f"error: {problem['detail']}"
