"""APIs and requests through the REST API: create, read, update, delete, list."""

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callout.db.models import Api
from tests.conftest import Tenants
from tests.factories import api_body, request_body


async def test_create_then_read_returns_etag_and_requests(http: httpx.AsyncClient, tenants: Tenants) -> None:
    a = tenants.a
    created = await http.post(a.apis, json=api_body(), headers=a.editor)
    assert created.status_code == 201, created.text
    api = created.json()
    assert created.headers["ETag"] == '"1"'
    assert created.headers["Location"].endswith(f"/apis/{api['id']}")

    made = await http.post(f"{a.apis}/{api['id']}/requests", json=request_body(), headers=a.editor)
    assert made.status_code == 201, made.text
    assert made.json()["url"] == "https://crm.example.com/api/v1/customers/${customerId}"

    read = await http.get(f"{a.apis}/{api['id']}", headers=a.viewer)
    assert read.status_code == 200
    assert read.headers["ETag"] == '"1"'
    assert [r["name"] for r in read.json()["requests"]] == ["Get customer"]


async def test_name_taken_ignoring_case_is_refused_and_nothing_stored(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    a = tenants.a
    assert (await http.post(a.apis, json=api_body(name="CRM"), headers=a.editor)).status_code == 201
    clash = await http.post(a.apis, json=api_body(name="  crm "), headers=a.editor)
    assert clash.status_code == 409
    assert clash.headers["content-type"] == "application/problem+json"
    assert clash.json()["errors"] == [{"field": "name", "message": "an API named 'CRM' exists already"}]
    stored = session.scalar(select(func.count()).select_from(Api).where(Api.client_id == a.client.id))
    assert stored == 1
