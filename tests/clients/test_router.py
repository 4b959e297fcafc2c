"""Clients, services, API keys and roles through the REST API."""

import hashlib
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callout.db.models import ApiKey, Client
from callout.invocations import repository
from tests.conftest import Tenant, Tenants, bearer
from tests.endpoints import Endpoint, endpoints
from tests.factories import api_body, function_call, make_designer, request_body
from tests.invocations.test_history import row as invocation_row

CLIENTS = "/api/v1/clients"
PROBLEM = "application/problem+json"


def services(tenant: Tenant) -> str:
    return f"{CLIENTS}/{tenant.code}/services"


def api_keys(tenant: Tenant) -> str:
    return f"{CLIENTS}/{tenant.code}/api-keys"


async def make_service(http: httpx.AsyncClient, tenant: Tenant, name: str) -> dict[str, Any]:
    response = await http.post(services(tenant), json={"name": name}, headers=tenant.editor)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def make_api(http: httpx.AsyncClient, tenant: Tenant, **changes: Any) -> httpx.Response:
    response = await http.post(tenant.apis, json=api_body(**changes), headers=tenant.editor)
    assert response.status_code == 201, response.text
    return response


async def make_key(
    http: httpx.AsyncClient, tenant: Tenant, name: str, role: str = "viewer"
) -> dict[str, Any]:
    response = await http.post(
        api_keys(tenant), json={"name": name, "role": role}, headers=tenant.admin
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


# Clients


async def test_platform_key_lists_every_client_and_creates_one(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    listed = await http.get(CLIENTS, headers=tenants.platform)
    assert listed.status_code == 200
    assert {"acme", "globex"} <= {c["code"] for c in listed.json()}

    created = await http.post(
        CLIENTS, json={"code": "initech", "name": "Initech Inc."}, headers=tenants.platform
    )
    assert created.status_code == 201, created.text
    assert created.json()["code"] == "initech"
    assert created.json()["name"] == "Initech Inc."

    again = await http.get(CLIENTS, headers=tenants.platform)
    assert "initech" in {c["code"] for c in again.json()}
    read = await http.get(f"{CLIENTS}/initech", headers=tenants.platform)
    assert read.status_code == 200
    assert read.json()["name"] == "Initech Inc."


async def test_client_key_sees_only_its_own_client(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    listed = await http.get(CLIENTS, headers=tenants.a.viewer)
    assert listed.status_code == 200
    assert [c["code"] for c in listed.json()] == ["acme"]
    assert (await http.get(f"{CLIENTS}/acme", headers=tenants.a.viewer)).status_code == 200
    assert_problem(await http.get(f"{CLIENTS}/globex", headers=tenants.a.viewer), 404)


async def test_client_code_taken_is_refused(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    before = session.scalar(select(func.count()).select_from(Client))
    for code in ("acme", " globex "):
        clash = await http.post(
            CLIENTS, json={"code": code, "name": "Someone"}, headers=tenants.platform
        )
        body = assert_problem(clash, 409)
        assert [e["field"] for e in body["errors"]] == ["code"]
    assert session.scalar(select(func.count()).select_from(Client)) == before


async def test_client_code_is_folded_to_lower_case(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    """The code is declared `to_lower`: an upper-case code is the same code, not a bad one."""
    created = await http.post(
        CLIENTS, json={"code": " Initech ", "name": "Initech"}, headers=tenants.platform
    )
    assert created.status_code == 201, created.text
    assert created.json()["code"] == "initech"
    clash = await http.post(
        CLIENTS, json={"code": "ACME", "name": "Acme"}, headers=tenants.platform
    )
    assert [e["field"] for e in assert_problem(clash, 409)["errors"]] == ["code"]


async def test_bad_client_code_is_refused_naming_code(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    for code in ("", "a", "-acme", "acme corp", "acme_corp", "ácme", "a/b", "x" * 41, 7):
        refused = await http.post(
            CLIENTS, json={"code": code, "name": "Bad"}, headers=tenants.platform
        )
        body = assert_problem(refused, 422)
        assert [e["field"] for e in body["errors"]] == ["code"], code
    missing = await http.post(CLIENTS, json={"name": "No code"}, headers=tenants.platform)
    assert assert_problem(missing, 422)["errors"] == [{"field": "code", "message": "is required"}]


async def test_only_a_platform_key_creates_a_client(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    before = session.scalar(select(func.count()).select_from(Client))
    for key in (tenants.a.admin, tenants.a.editor, tenants.a.viewer):
        refused = await http.post(CLIENTS, json={"code": "initech", "name": "Initech"}, headers=key)
        assert "needs the platform role" in assert_problem(refused, 403)["detail"]
    assert session.scalar(select(func.count()).select_from(Client)) == before


async def test_admin_renames_the_client(http: httpx.AsyncClient, tenants: Tenants) -> None:
    a = tenants.a
    renamed = await http.put(f"{CLIENTS}/acme", json={"name": "Acme Corp"}, headers=a.admin)
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["code"] == "acme"
    assert renamed.json()["name"] == "Acme Corp"
    read = await http.get(f"{CLIENTS}/acme", headers=a.viewer)
    assert read.json()["name"] == "Acme Corp"

    by_platform = await http.put(
        f"{CLIENTS}/acme", json={"name": "Acme Worldwide"}, headers=tenants.platform
    )
    assert by_platform.status_code == 200


async def test_renaming_the_client_needs_admin_and_keeps_the_code(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    for key in (a.editor, a.viewer):
        refused = await http.put(f"{CLIENTS}/acme", json={"name": "Hijacked"}, headers=key)
        assert "needs the admin role" in assert_problem(refused, 403)["detail"]
    recoded = await http.put(
        f"{CLIENTS}/acme", json={"code": "acme2", "name": "Acme"}, headers=a.admin
    )
    assert [e["field"] for e in assert_problem(recoded, 422)["errors"]] == ["code"]
    read = await http.get(f"{CLIENTS}/acme", headers=a.viewer)
    assert read.json()["name"] == "Acme"


# Services


async def test_service_create_read_update_delete(http: httpx.AsyncClient, tenants: Tenants) -> None:
    a = tenants.a
    created = await http.post(
        services(a), json={"name": "Sales", "description": "Inbound"}, headers=a.editor
    )
    assert created.status_code == 201, created.text
    service = created.json()
    assert service["name"] == "Sales"
    assert service["description"] == "Inbound"
    await make_service(http, a, "Billing")

    listed = await http.get(services(a), headers=a.viewer)
    assert [s["name"] for s in listed.json()["items"]] == ["Billing", "Sales"]
    one = f"{services(a)}/{service['id']}"
    assert (await http.get(one, headers=a.viewer)).json() == service

    updated = await http.put(
        one, json={"name": "Retail sales", "description": "Walk-in"}, headers=a.editor
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["name"] == "Retail sales"
    assert updated.json()["description"] == "Walk-in"

    assert (await http.delete(one, headers=a.editor)).status_code == 204
    assert_problem(await http.get(one, headers=a.viewer), 404)
    listed = await http.get(services(a), headers=a.viewer)
    assert [s["name"] for s in listed.json()["items"]] == ["Billing"]


async def test_services_page_with_limit_offset_and_total(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    for name in ("Echo", "alpha", "Delta", "charlie", "Bravo"):
        await make_service(http, a, name)

    listed = await http.get(services(a), params={"limit": 2, "offset": 2}, headers=a.viewer)

    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert (body["total"], body["limit"], body["offset"]) == (5, 2, 2)
    assert [s["name"] for s in body["items"]] == ["charlie", "Delta"]
    last = (await http.get(services(a), params={"offset": 4}, headers=a.viewer)).json()
    assert [s["name"] for s in last["items"]] == ["Echo"]
    beyond = (await http.get(services(a), params={"offset": 5}, headers=a.viewer)).json()
    assert (beyond["items"], beyond["total"]) == ([], 5)


async def test_saving_a_service_unchanged_is_not_audited(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    service = await make_service(http, a, "Sales")
    audit = f"{CLIENTS}/{a.code}/audit"
    events = (await http.get(audit, headers=a.viewer)).json()["total"]

    same = {"name": "Sales", "description": ""}
    saved = await http.put(f"{services(a)}/{service['id']}", json=same, headers=a.editor)

    assert saved.status_code == 200, saved.text
    assert (await http.get(audit, headers=a.viewer)).json()["total"] == events


async def test_service_name_taken_ignoring_case_is_refused(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    billing = await make_service(http, a, "Billing")
    clash = await http.post(services(a), json={"name": "  BILLING "}, headers=a.editor)
    assert assert_problem(clash, 409)["errors"] == [
        {"field": "name", "message": "a service named 'Billing' exists already"}
    ]

    sales = await make_service(http, a, "Sales")
    renamed = await http.put(
        f"{services(a)}/{sales['id']}", json={"name": "billing"}, headers=a.editor
    )
    assert [e["field"] for e in assert_problem(renamed, 409)["errors"]] == ["name"]

    recased = await http.put(
        f"{services(a)}/{billing['id']}", json={"name": "BILLING"}, headers=a.editor
    )
    assert recased.status_code == 200, recased.text
    assert recased.json()["name"] == "BILLING"
    await make_service(http, tenants.b, "Billing")  # another client's names are its own


async def test_service_names_differing_only_by_compatibility_forms_are_one_name(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    await make_service(http, a, "Sales")
    fullwidth = "\uff33\uff41\uff4c\uff45\uff53"  # "Sales" in fullwidth letters
    clash = await http.post(services(a), json={"name": fullwidth}, headers=a.editor)
    assert assert_problem(clash, 409)["errors"][0]["field"] == "name"


async def test_deleting_a_service_an_api_uses_is_refused(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    service = await make_service(http, a, "Collections")
    api = await make_api(http, a, service_id=service["id"])
    one = f"{services(a)}/{service['id']}"

    refused = await http.delete(one, headers=a.editor)
    detail = assert_problem(refused, 409)["detail"]
    assert "'Collections'" in detail
    assert "used by 1 API" in detail
    assert (await http.get(one, headers=a.viewer)).status_code == 200

    moved = await http.put(
        f"{a.apis}/{api.json()['id']}",
        json=api_body(service_id=None),
        headers=a.editor | {"If-Match": api.headers["ETag"]},
    )
    assert moved.status_code == 200, moved.text
    assert (await http.delete(one, headers=a.editor)).status_code == 204


async def test_api_service_must_be_of_the_same_client(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a, b = tenants.a, tenants.b
    theirs = await make_service(http, b, "Billing")
    for service_id in (theirs["id"], 999_999):
        refused = await http.post(a.apis, json=api_body(service_id=service_id), headers=a.editor)
        assert [e["field"] for e in assert_problem(refused, 422)["errors"]] == ["service_id"]

    api = await make_api(http, a)
    moved = await http.put(
        f"{a.apis}/{api.json()['id']}",
        json=api_body(service_id=theirs["id"]),
        headers=a.editor | {"If-Match": api.headers["ETag"]},
    )
    assert [e["field"] for e in assert_problem(moved, 422)["errors"]] == ["service_id"]
    listed = await http.get(a.apis, params={"kind": "client"}, headers=a.viewer)
    assert [x["service_id"] for x in listed.json()["items"]] == [None]


async def test_viewer_cannot_write_services(http: httpx.AsyncClient, tenants: Tenants) -> None:
    a = tenants.a
    refused = await http.post(services(a), json={"name": "Sales"}, headers=a.viewer)
    assert "needs the editor role" in assert_problem(refused, 403)["detail"]
    assert (await http.get(services(a), headers=a.viewer)).json()["items"] == []


# API keys


async def test_admin_creates_a_key_shown_once(http: httpx.AsyncClient, tenants: Tenants) -> None:
    a = tenants.a
    created = await make_key(http, a, "robot", role="editor")
    key = created["key"]
    assert key.startswith(f"callout_{created['prefix']}_")
    assert created["role"] == "editor"
    assert created["revoked_at"] is None

    listed = await http.get(api_keys(a), headers=a.admin)
    assert listed.status_code == 200
    mine = [k for k in listed.json()["items"] if k["id"] == created["id"]]
    assert mine == [{k: v for k, v in created.items() if k != "key"}]
    assert all("key" not in k for k in listed.json()["items"])
    secret_part = key.split("_", 2)[2]  # the random part may itself hold "_"
    assert secret_part not in listed.text

    works = await http.post(a.apis, json=api_body(), headers=bearer(key))
    assert works.status_code == 201, works.text


async def test_api_keys_page_with_limit_offset_and_total(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    made = [await make_key(http, a, name=f"robot-{n}") for n in range(3)]

    listed = await http.get(api_keys(a), params={"limit": 2, "offset": 3}, headers=a.admin)

    assert listed.status_code == 200, listed.text
    body = listed.json()
    # The tenant's admin, editor and viewer keys come first: keys list oldest first.
    assert (body["total"], body["limit"], body["offset"]) == (6, 2, 3)
    assert [k["id"] for k in body["items"]] == [made[0]["id"], made[1]["id"]]
    last = (await http.get(api_keys(a), params={"offset": 5}, headers=a.admin)).json()
    assert [k["id"] for k in last["items"]] == [made[2]["id"]]


async def test_new_key_is_a_viewer_unless_told(http: httpx.AsyncClient, tenants: Tenants) -> None:
    created = await http.post(api_keys(tenants.a), json={"name": "reader"}, headers=tenants.a.admin)
    assert created.status_code == 201, created.text
    assert created.json()["role"] == "viewer"


async def test_only_the_keys_digest_is_stored(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    created = await make_key(http, tenants.a, "robot", role="admin")
    key = created["key"]
    secret_part = key.split("_", 2)[2]  # the random part may itself hold "_"
    session.expire_all()
    rows = session.execute(select(ApiKey.__table__)).all()
    assert len(rows) >= 8
    for row in rows:
        for value in row:
            assert secret_part not in str(value)
    stored = session.get(ApiKey, created["id"])
    assert stored is not None
    assert stored.digest == hashlib.sha256(key.encode()).hexdigest()


async def test_revoked_key_is_refused(http: httpx.AsyncClient, tenants: Tenants) -> None:
    a = tenants.a
    created = await make_key(http, a, "robot", role="editor")
    key = bearer(created["key"])
    assert (await http.get(f"{CLIENTS}/acme", headers=key)).status_code == 200

    revoked = await http.delete(f"{api_keys(a)}/{created['id']}", headers=a.admin)
    assert revoked.status_code == 204
    refused = await http.get(f"{CLIENTS}/acme", headers=key)
    assert_problem(refused, 401)

    listed = await http.get(api_keys(a), headers=a.admin)
    [entry] = [k for k in listed.json()["items"] if k["id"] == created["id"]]
    assert entry["revoked_at"] is not None
    again = await http.delete(f"{api_keys(a)}/{created['id']}", headers=a.admin)
    assert again.status_code == 204
    assert_problem(await http.delete(f"{api_keys(a)}/999999", headers=a.admin), 404)


async def test_editor_and_viewer_cannot_manage_keys(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    victim = await make_key(http, a, "robot")
    for key in (a.editor, a.viewer):
        calls = [
            http.get(api_keys(a), headers=key),
            http.post(api_keys(a), json={"name": "mine", "role": "admin"}, headers=key),
            http.delete(f"{api_keys(a)}/{victim['id']}", headers=key),
        ]
        for call in calls:
            assert "needs the admin role" in assert_problem(await call, 403)["detail"]
    listed = await http.get(api_keys(a), headers=a.admin)
    names = [k["name"] for k in listed.json()["items"]]
    assert "mine" not in names
    [entry] = [k for k in listed.json()["items"] if k["id"] == victim["id"]]
    assert entry["revoked_at"] is None


async def test_client_admin_cannot_make_a_platform_key(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    refused = await http.post(
        api_keys(tenants.a), json={"name": "root", "role": "platform"}, headers=tenants.a.admin
    )
    assert [e["field"] for e in assert_problem(refused, 422)["errors"]] == ["role"]


# Roles


def needed_role(endpoint: Endpoint) -> str | None:
    """The least role a call needs; None when any key of the client may make it."""
    if endpoint.method == "POST" and endpoint.params == ():
        return "platform"  # creating a client
    if "/api-keys" in endpoint.path or (
        endpoint.method == "PUT" and endpoint.params == ("client",)
    ):
        return "admin"  # managing keys, renaming the client
    if endpoint.path.endswith("/designers/conditions/check"):
        return None  # a check changes nothing
    return None if endpoint.reads else "editor"


async def own_library(http: httpx.AsyncClient, tenant: Tenant) -> dict[str, Any]:
    """A service, an API with a request, a designer calling it, and a key; path values and
    ETags to reach them."""
    service = await make_service(http, tenant, "Billing")
    api = await make_api(http, tenant, name="Ledger")
    api_id = api.json()["id"]
    request = await http.post(
        f"{tenant.apis}/{api_id}/requests", json=request_body(), headers=tenant.editor
    )
    assert request.status_code == 201, request.text
    key = await make_key(http, tenant, "robot")
    designer = await make_designer(http, tenant, function_call(api_id, request.json()["id"]))
    return {
        "client": tenant.code,
        "api_id": api_id,
        "request_id": request.json()["id"],
        "service_id": service["id"],
        "key_id": key["id"],
        "designer_id": designer.json()["id"],
        "event": "Login",
        "api_etag": api.headers["ETag"],
        "request_etag": request.headers["ETag"],
    }


async def call(
    http: httpx.AsyncClient, endpoint: Endpoint, values: dict[str, Any], key: dict[str, str]
) -> httpx.Response:
    headers = dict(key)
    if "request_id" in endpoint.params:
        headers["If-Match"] = values["request_etag"]
    elif "api_id" in endpoint.params:
        headers["If-Match"] = values["api_etag"]
    return await http.request(
        endpoint.method, endpoint.url(values), json=endpoint.body(), headers=headers
    )


async def test_viewer_reads_but_every_write_needs_a_higher_role(
    app: FastAPI, http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    a = tenants.a
    values = await own_library(http, a)
    called = invocation_row(a.client, api_id=values["api_id"], request_id=values["request_id"])
    repository.append(session, [called])
    session.commit()
    values["invocation_id"] = called["invocation_id"]
    audit = f"{CLIENTS}/acme/audit"
    events_before = (await http.get(audit, headers=a.admin)).json()["total"]
    api_before = await http.get(f"{a.apis}/{values['api_id']}", headers=a.admin)

    wrong = []
    for endpoint in endpoints(app):
        response = await call(http, endpoint, values, a.viewer)
        role = needed_role(endpoint)
        if role is None:
            ok = response.status_code == 200
        else:
            ok = (
                response.status_code == 403
                and response.headers["content-type"] == PROBLEM
                and f"needs the {role} role" in response.json()["detail"]
            )
        if not ok:
            wrong.append(f"{endpoint} -> {response.status_code} {response.text}")
    assert wrong == [], "\n".join(wrong)

    assert (await http.get(audit, headers=a.admin)).json()["total"] == events_before
    api_after = await http.get(f"{a.apis}/{values['api_id']}", headers=a.admin)
    assert api_after.json() == api_before.json()


async def test_editor_writes_apis_and_requests(http: httpx.AsyncClient, tenants: Tenants) -> None:
    a = tenants.a
    api = await make_api(http, a)
    api_url = f"{a.apis}/{api.json()['id']}"
    updated = await http.put(
        api_url,
        json=api_body(description="Changed"),
        headers=a.editor | {"If-Match": api.headers["ETag"]},
    )
    assert updated.status_code == 200, updated.text

    request = await http.post(f"{api_url}/requests", json=request_body(), headers=a.editor)
    assert request.status_code == 201, request.text
    request_url = f"{api_url}/requests/{request.json()['id']}"
    changed = await http.put(
        request_url,
        json=request_body(description="Changed"),
        headers=a.editor | {"If-Match": request.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.text

    copied = await http.post(f"{api_url}/copy", json={"name": "CRM 2"}, headers=a.editor)
    assert copied.status_code == 201, copied.text
    deleted = await http.delete(
        request_url, headers=a.editor | {"If-Match": changed.headers["ETag"]}
    )
    assert deleted.status_code == 204
    gone = await http.delete(api_url, headers=a.editor | {"If-Match": updated.headers["ETag"]})
    assert gone.status_code == 204


async def test_editor_cannot_manage_keys_or_the_client(
    app: FastAPI, http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    values = await own_library(http, a)
    above_editor = [e for e in endpoints(app) if needed_role(e) in ("admin", "platform")]
    assert len(above_editor) >= 5
    for endpoint in above_editor:
        response = await call(http, endpoint, values, a.editor)
        detail = assert_problem(response, 403)["detail"]
        assert f"needs the {needed_role(endpoint)} role" in detail, endpoint
