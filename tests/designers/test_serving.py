"""Designers through a real `callout serve`, as an operator runs it after `callout init`."""

from pathlib import Path

import httpx

from tests.cli import Installation, callout_serve, wait_up
from tests.factories import designer_body, function_call


async def test_a_served_designer_is_stored_read_back_and_keeps_its_api(
    installation: Installation, tmp_path: Path
) -> None:
    key = {"Authorization": f"Bearer {installation.admin_key}"}
    with callout_serve(installation.data_dir, tmp_path / "serve.log") as (server, root):
        await wait_up(root, server)
        async with httpx.AsyncClient(base_url=f"{root}/api/v1/clients/demo", headers=key) as http:
            [crm] = (await http.get("/apis", params={"search": "Customer CRM"})).json()["items"]
            requests = (await http.get(f"/apis/{crm['id']}/requests")).json()["items"]
            [request] = [r for r in requests if r["name"] == "Get customer"]
            body = designer_body(function_call(crm["id"], request["id"]))
            created = await http.post("/designers", json=body)
            assert created.status_code == 201, created.text
            url = f"/designers/{created.json()['id']}"
            assert created.headers["Location"] == f"/api/v1/clients/demo{url}"

            read = await http.get(url)
            assert read.status_code == 200
            assert read.json() == created.json()
            assert read.headers["ETag"] == '"1"'

            tag = (await http.get(f"/apis/{crm['id']}")).headers["ETag"]
            refused = await http.delete(f"/apis/{crm['id']}", headers={"If-Match": tag})
            assert refused.status_code == 409, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
            users = {u["designer_name"] for u in refused.json()["usages"]}
            assert users == {"Agent desktop", "Inbound"}
            assert (await http.get(f"/apis/{crm['id']}")).status_code == 200
