"""Import and export through a real `callout serve`, on SQLite and on PostgreSQL, with
hundreds of imports at once: each is written whole or refused whole, clashing names are
renamed each to its own, and the library exported afterwards holds every API written."""

import asyncio
import io
import zipfile
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import yaml

from tests.cli import KEY, callout, callout_serve, wait_up

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
