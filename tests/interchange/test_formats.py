"""Every format through REST as a user sends it: the file as the body, its format
recognised; an API exported as a Postman collection or as cURL commands, and read back."""

import json
from pathlib import Path

import httpx
import pytest

from tests.conftest import Tenants
from tests.factories import SENTINEL, make_api, make_request

DATA = Path(__file__).parents[1] / "data"


@pytest.mark.parametrize(
    ("file", "format", "apis"),
    [
        ("openapi/petstore-expanded.yaml", "openapi", 1),
        ("postman/conduit.postman_collection.json", "postman", 1),
    ],
)
async def test_a_file_is_imported_in_the_format_it_is_recognised_as(
    http: httpx.AsyncClient, tenants: Tenants, file: str, format: str, apis: int
) -> None:
    b = tenants.b
    response = await http.post(
        f"/api/v1/clients/{b.code}/import",
        params={"name": Path(file).name},
        content=(DATA / file).read_bytes(),
        headers=b.editor,
    )
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["formats"] == [format]
    assert len(report["apis"]) == apis
    assert all(api["source"] == Path(file).name for api in report["apis"])


async def test_a_curl_line_is_imported_as_an_api_with_one_request(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    b = tenants.b
    line = "curl -u alice:s3cret -H 'Accept: application/json' https://crm.example.com/v1/customers"
    response = await http.post(f"/api/v1/clients/{b.code}/import", content=line, headers=b.editor)
    assert response.status_code == 201, response.text
    [api] = response.json()["apis"]
    assert response.json()["formats"] == ["curl"]
    read = (await http.get(f"{b.apis}/{api['id']}", headers=b.viewer)).json()
    assert read["authorization"] == {
        "type": "basic",
        "username": "alice",
        "password": "**********",
        "has_password": True,
    }
    assert "s3cret" not in response.text


async def test_an_api_exported_as_postman_reads_back(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a, b = tenants.a, tenants.b
    api = await make_api(http, a, authorization={"type": "bearer", "token": SENTINEL})
    await make_request(http, a, api["id"])
    exported = await http.get(
        f"{a.apis}/{api['id']}/export", params={"format": "postman"}, headers=a.viewer
    )
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"] == "application/json"
    assert 'filename="crm.postman_collection.json"' in exported.headers["content-disposition"]
    assert SENTINEL not in exported.text
    assert json.loads(exported.text)["info"]["name"] == "CRM"
    back = await http.post(
        f"/api/v1/clients/{b.code}/import", content=exported.content, headers=b.editor
    )
    assert back.status_code == 201, back.text
    assert back.json()["formats"] == ["postman"]
    [imported] = back.json()["apis"]
    assert (imported["name"], imported["requests"]) == ("CRM", 1)
    assert imported["missing_secrets"] == ["authorization.token"]


async def test_an_api_exported_as_curl_is_a_command_per_request(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    api = await make_api(http, a, authorization={"type": "bearer", "token": SENTINEL})
    await make_request(http, a, api["id"])
    await make_request(http, a, api["id"], name="Second", endpoint_path="second")
    exported = await http.get(
        f"{a.apis}/{api['id']}/export", params={"format": "curl"}, headers=a.viewer
    )
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("text/plain")
    assert SENTINEL not in exported.text
    assert exported.text.count("\ncurl ") + exported.text.startswith("curl ") == 2
    assert "'https://crm.example.com/api/v1/customers/${customerId}'" in exported.text
    assert "Authorization: Bearer **********" in exported.text

    # And back: one API of both requests, its token to enter.
    imported = await http.post(
        f"/api/v1/clients/{a.code}/import",
        content=exported.content,
        params={"clash": "rename"},
        headers=a.editor,
    )
    assert imported.status_code == 201, imported.text
    [back] = imported.json()["apis"]
    assert (back["name"], back["requests"]) == (f"{api['name']} (2)", 2)
    assert back["missing_secrets"] == ["authorization.token"]
    read = (await http.get(f"{a.apis}/{back['id']}", headers=a.viewer)).json()
    assert [r["name"] for r in read["requests"]] == ["Get customer", "Second"]


async def test_a_file_of_no_known_format_is_refused_by_name(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    b = tenants.b
    response = await http.post(
        f"/api/v1/clients/{b.code}/import",
        params={"name": "notes.json"},
        content=b'{"title": "not an API"}',
        headers=b.editor,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "notes.json"
    assert "is not a Callout file, a Postman collection" in response.text
