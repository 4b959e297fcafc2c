"""Copying an API, a client's own or a system one, with its requests and secrets; and why
system APIs can only be copied, never changed."""

from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from callout.db.crypto import KeySource
from callout.db.models import Secret
from callout.db.secrets import Vault
from callout.schemas import MASK
from tests.conftest import Tenant, Tenants
from tests.factories import SENTINEL, add_system_api, api_body, make_api, make_request, request_body

API_READ_ONLY = ("id", "system", "version", "created_at", "updated_at", "requests")
REQUEST_SERVER_SET = ("id", "api_id", "version", "created_at", "updated_at")


async def offered(http: httpx.AsyncClient, tenant: Tenant, api_id: int) -> str:
    response = await http.get(f"{tenant.apis}/{api_id}/copy-name", headers=tenant.viewer)
    assert response.status_code == 200, response.text
    name: str = response.json()["name"]
    return name


async def copy(
    http: httpx.AsyncClient, tenant: Tenant, api_id: int, body: dict[str, Any] | None = None
) -> httpx.Response:
    return await http.post(f"{tenant.apis}/{api_id}/copy", json=body, headers=tenant.editor)


async def copied(http: httpx.AsyncClient, tenant: Tenant, api_id: int, body: dict[str, Any]) -> str:
    """The name a copy made with `body` got."""
    response = await copy(http, tenant, api_id, body)
    assert response.status_code == 201, response.text
    name: str = response.json()["name"]
    return name


def secrets_of(session: Session, owner: str) -> set[tuple[int, str]]:
    rows = session.execute(select(Secret.client_id, Secret.field).where(Secret.owner == owner))
    return {(client_id, field) for client_id, field in rows}


# The offered name


async def test_copy_offers_copy_of_name(http: httpx.AsyncClient, tenants: Tenants) -> None:
    a = tenants.a
    api = await make_api(http, a, name="CRM")
    assert await offered(http, a, api["id"]) == "Copy of CRM"


async def test_copy_offers_a_numbered_name_when_taken_ignoring_case(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a, b = tenants.a, tenants.b
    api = await make_api(http, a, name="CRM")
    await make_api(http, a, name="copy of crm")
    assert await offered(http, a, api["id"]) == "Copy of CRM (2)"
    await make_api(http, a, name="COPY OF CRM (2)")
    assert await offered(http, a, api["id"]) == "Copy of CRM (3)"
    # Another client's library does not count.
    await make_api(http, b, name="Copy of CRM (3)")
    assert await offered(http, a, api["id"]) == "Copy of CRM (3)"


async def test_copy_offer_compares_names_with_compatibility_forms_folded(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    fullwidth = "\uff23\uff32\uff2d"  # "CRM" in fullwidth letters
    api = await make_api(http, a, name=fullwidth)
    await make_api(http, a, name="Copy of CRM")
    assert await offered(http, a, api["id"]) == f"Copy of {fullwidth} (2)"


async def test_copy_offer_fits_when_its_name_spells_out_longer(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    name = "\ufb01" * 50  # 50 characters, 100 once spelled out
    api = await make_api(http, a, name=name)
    name_offered = await offered(http, a, api["id"])
    assert name_offered == "Copy of " + "\ufb01" * 46
    copied = await http.post(f"{a.apis}/{api['id']}/copy", headers=a.editor)
    assert copied.status_code == 201, copied.text
    assert copied.json()["name"] == name_offered


async def test_copy_offer_is_trimmed_to_100_characters(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    long_name = "N" * 100
    api = await make_api(http, a, name=long_name)
    first = await offered(http, a, api["id"])
    assert first == ("Copy of " + long_name)[:100]
    assert len(first) == 100
    await make_api(http, a, name=first)
    second = await offered(http, a, api["id"])
    assert second == first[:96] + " (2)"
    assert len(second) == 100


async def test_copy_offer_near_100_characters_leaves_no_space_before_the_number(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    # "Copy of " + name is exactly 100 characters, and its 96th is a space.
    name = "A" * 87 + " BBBB"
    api = await make_api(http, a, name=name)
    assert await offered(http, a, api["id"]) == f"Copy of {name}"
    assert await copied(http, a, api["id"], {"name": ""}) == f"Copy of {name}"

    numbered = "Copy of " + "A" * 87 + " (2)"
    assert await offered(http, a, api["id"]) == numbered
    assert await copied(http, a, api["id"], {"name": "  "}) == numbered


async def test_copy_offer_cut_at_100_characters_leaves_no_trailing_space(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    # "Copy of " + name is 101 characters; cut at 100 it would end in a space.
    api = await make_api(http, a, name="A" * 91 + " B")
    assert await offered(http, a, api["id"]) == "Copy of " + "A" * 91
    assert await copied(http, a, api["id"], {"name": ""}) == "Copy of " + "A" * 91


# Copying


async def test_copy_with_a_name_uses_it(http: httpx.AsyncClient, tenants: Tenants) -> None:
    a = tenants.a
    api = await make_api(http, a, name="CRM")
    copied = await copy(http, a, api["id"], {"name": "CRM staging"})
    assert copied.status_code == 201, copied.text
    assert copied.json()["name"] == "CRM staging"
    assert copied.headers["Location"].endswith(f"/apis/{copied.json()['id']}")
    listed = await http.get(a.apis, params={"kind": "client"}, headers=a.viewer)
    assert [i["name"] for i in listed.json()["items"]] == ["CRM", "CRM staging"]


async def test_copy_to_a_taken_name_is_refused(http: httpx.AsyncClient, tenants: Tenants) -> None:
    a = tenants.a
    api = await make_api(http, a, name="CRM")
    await make_api(http, a, name="Billing")
    clash = await copy(http, a, api["id"], {"name": "  BILLING "})
    assert clash.status_code == 409
    assert clash.json()["errors"] == [
        {"field": "name", "message": "an API named 'Billing' exists already"}
    ]
    listed = await http.get(a.apis, params={"kind": "client"}, headers=a.viewer)
    assert listed.json()["total"] == 2


async def test_copy_without_a_name_uses_the_offered_default(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    api = await make_api(http, a, name="CRM")
    first = await copy(http, a, api["id"])
    assert first.status_code == 201, first.text
    assert first.json()["name"] == "Copy of CRM"
    second = await copy(http, a, api["id"], {})
    assert second.status_code == 201, second.text
    assert second.json()["name"] == "Copy of CRM (2)"
    third = await copy(http, a, api["id"], {"name": None})
    assert third.status_code == 201, third.text
    assert third.json()["name"] == "Copy of CRM (3)"


async def test_copy_with_a_blank_name_uses_the_offered_default(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    api = await make_api(http, a, name="CRM")
    assert await copied(http, a, api["id"], {"name": ""}) == "Copy of CRM"
    assert await copied(http, a, api["id"], {"name": "   "}) == "Copy of CRM (2)"
    assert await copied(http, a, api["id"], {"name": " \t\n "}) == "Copy of CRM (3)"


async def test_copy_has_every_request_with_the_same_fields_and_new_ids(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    service = await http.post(
        f"/api/v1/clients/{a.code}/services", json={"name": "Billing"}, headers=a.editor
    )
    api = await make_api(http, a, name="CRM", service_id=service.json()["id"])
    await make_request(http, a, api["id"])
    await make_request(
        http,
        a,
        api["id"],
        name="Update customer",
        description="Writes the customer back",
        method="PATCH",
        query=[{"name": "dryRun", "value": "false", "enabled": False}],
        headers=[{"name": "X-Trace", "value": "${call.id}"}],
        content_type="json",
        body='{"name": "${fullName}"}',
        parameters=[
            {"name": "customerId", "required": True},
            {"name": "fullName", "type": "string", "default": "Jane Doe"},
        ],
        outputs=[{"name": "status", "source": "status", "type": "number"}],
        timeout=4.5,
        success_statuses=[200, 204],
    )
    source = (await http.get(f"{a.apis}/{api['id']}", headers=a.viewer)).json()

    copied = await copy(http, a, api["id"], {"name": "CRM copy"})
    assert copied.status_code == 201, copied.text
    assert copied.headers["ETag"] == '"1"'
    twin = copied.json()
    assert twin["version"] == 1
    assert twin["id"] != source["id"]
    assert twin["system"] is False
    assert twin["service_id"] == source["service_id"]
    for field in ("description", "base_url", "type", "headers", "authorization"):
        assert twin[field] == source[field], field

    assert len(twin["requests"]) == len(source["requests"]) == 2
    source_ids = {r["id"] for r in source["requests"]}
    for original, duplicate in zip(source["requests"], twin["requests"], strict=True):
        assert duplicate["id"] not in source_ids
        assert duplicate["api_id"] == twin["id"]
        assert duplicate["version"] == 1
        same = {k: v for k, v in original.items() if k not in REQUEST_SERVER_SET}
        assert {k: v for k, v in duplicate.items() if k not in REQUEST_SERVER_SET} == same

    # The source is untouched.
    again = await http.get(f"{a.apis}/{api['id']}", headers=a.viewer)
    assert again.json() == source


async def test_copy_carries_the_secrets_and_a_put_of_its_read_body_keeps_them(
    http: httpx.AsyncClient, tenants: Tenants, session: Session, keys: KeySource
) -> None:
    a = tenants.a
    api = await make_api(
        http,
        a,
        headers=[{"name": "X-Api-Key", "value": SENTINEL, "secret": True}],
        authorization={"type": "basic", "username": "alice", "password": SENTINEL},
    )
    request = await make_request(
        http, a, api["id"], headers=[{"name": "X-Request-Key", "value": SENTINEL, "secret": True}]
    )
    copied = await copy(http, a, api["id"])
    assert copied.status_code == 201, copied.text
    assert SENTINEL not in copied.text
    twin = copied.json()
    twin_request = twin["requests"][0]
    assert twin["authorization"]["password"] == MASK
    assert twin["authorization"]["has_password"] is True
    assert twin["headers"][0]["value"] == MASK
    assert twin_request["headers"][0]["value"] == MASK

    api_owner, request_owner = f"api:{twin['id']}", f"request:{twin_request['id']}"
    a_id = a.client.id
    assert secrets_of(session, api_owner) == {
        (a_id, "authorization.password"),
        (a_id, "headers.x-api-key"),
    }
    assert secrets_of(session, request_owner) == {(a_id, "headers.x-request-key")}
    vault = Vault(session, keys.keyring(), a_id)
    assert set(vault.reveal_all(api_owner).values()) == {SENTINEL}
    assert vault.reveal_all(request_owner) == {"headers.x-request-key": SENTINEL}

    # Saving the copy as read keeps every secret.
    read = await http.get(f"{a.apis}/{twin['id']}", headers=a.viewer)
    body = {k: v for k, v in read.json().items() if k not in API_READ_ONLY}
    saved = await http.put(
        f"{a.apis}/{twin['id']}", json=body, headers=a.editor | {"If-Match": read.headers["ETag"]}
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["authorization"]["has_password"] is True
    assert saved.json()["headers"][0]["value"] == MASK
    request_read = await http.get(
        f"{a.apis}/{twin['id']}/requests/{twin_request['id']}", headers=a.viewer
    )
    request_body_back = {
        k: v for k, v in request_read.json().items() if k not in (*REQUEST_SERVER_SET, "url")
    }
    saved_request = await http.put(
        f"{a.apis}/{twin['id']}/requests/{twin_request['id']}",
        json=request_body_back,
        headers=a.editor | {"If-Match": request_read.headers["ETag"]},
    )
    assert saved_request.status_code == 200, saved_request.text
    assert vault.reveal_all(api_owner) == {
        "authorization.password": SENTINEL,
        "headers.x-api-key": SENTINEL,
    }
    assert vault.reveal_all(request_owner) == {"headers.x-request-key": SENTINEL}
    # The source keeps its own rows.
    assert secrets_of(session, f"api:{api['id']}") == {
        (a_id, "authorization.password"),
        (a_id, "headers.x-api-key"),
    }
    assert secrets_of(session, f"request:{request['id']}") == {(a_id, "headers.x-request-key")}


async def test_copy_starts_at_version_1_and_is_audited_naming_its_source(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    api = await make_api(http, a, name="CRM")
    updated = await http.put(
        f"{a.apis}/{api['id']}",
        json=api_body(name="CRM", description="changed"),
        headers=a.editor | {"If-Match": '"1"'},
    )
    assert updated.headers["ETag"] == '"2"'
    copied = await copy(http, a, api["id"])
    assert copied.status_code == 201, copied.text
    assert copied.headers["ETag"] == '"1"'
    assert copied.json()["version"] == 1

    events = await http.get(
        f"/api/v1/clients/{a.code}/audit",
        params={"object_type": "api", "object_id": copied.json()["id"]},
        headers=a.viewer,
    )
    assert events.status_code == 200, events.text
    [event] = events.json()["items"]
    assert (event["action"], event["object_name"]) == ("copy", "Copy of CRM")
    assert event["detail"]["from_api"] == api["id"]
    assert event["detail"]["from_name"] == "CRM"
    assert event["detail"]["from_system"] is False


async def test_copying_another_clients_api_is_not_found(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a, b = tenants.a, tenants.b
    api = await make_api(http, a)
    assert (await copy(http, b, api["id"])).status_code == 404
    assert (await http.get(f"{b.apis}/{api['id']}/copy-name", headers=b.viewer)).status_code == 404


# System APIs


async def system_api(http: httpx.AsyncClient, tenant: Tenant, session: Session) -> dict[str, Any]:
    """The test system API as the `kind=system` list and a read show it."""
    add_system_api(session)
    listed = await http.get(
        tenant.apis, params={"kind": "system", "search": "status page"}, headers=tenant.viewer
    )
    [summary] = listed.json()["items"]
    assert summary["system"] is True
    read = await http.get(f"{tenant.apis}/{summary['id']}", headers=tenant.viewer)
    assert read.status_code == 200, read.text
    body: dict[str, Any] = read.json()
    return body


async def test_copying_a_system_api_lands_in_the_clients_library_without_a_service(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    a, b = tenants.a, tenants.b
    source = await system_api(http, a, session)
    assert await offered(http, a, source["id"]) == "Copy of Status page"
    copied = await copy(http, a, source["id"])
    assert copied.status_code == 201, copied.text
    twin = copied.json()
    assert (twin["name"], twin["system"], twin["service_id"], twin["version"]) == (
        "Copy of Status page",
        False,
        None,
        1,
    )
    assert twin["base_url"] == source["base_url"]
    assert [r["name"] for r in twin["requests"]] == [r["name"] for r in source["requests"]]

    own = await http.get(a.apis, params={"kind": "client"}, headers=a.viewer)
    assert [(i["id"], i["system"]) for i in own.json()["items"]] == [(twin["id"], False)]
    assert (await http.get(f"{b.apis}/{twin['id']}", headers=b.viewer)).status_code == 404
    # The copy is the client's to change.
    body = {k: v for k, v in twin.items() if k not in API_READ_ONLY} | {"description": "mine"}
    saved = await http.put(
        f"{a.apis}/{twin['id']}", json=body, headers=a.editor | {"If-Match": '"1"'}
    )
    assert saved.status_code == 200, saved.text
    # The system API is untouched.
    again = await http.get(f"{a.apis}/{source['id']}", headers=a.viewer)
    assert again.json() == source


async def test_system_apis_are_read_only_and_say_to_copy_them(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    a = tenants.a
    source = await system_api(http, a, session)
    url = f"{a.apis}/{source['id']}"
    request_url = f"{url}/requests/{source['requests'][0]['id']}"
    editor = a.admin | {"If-Match": f'"{source["version"]}"'}
    request_editor = a.admin | {"If-Match": f'"{source["requests"][0]["version"]}"'}

    attempts: list[tuple[str, str, dict[str, Any] | None, dict[str, str]]] = [
        ("PUT", url, api_body(name="Mine now"), editor),
        ("DELETE", url, None, editor),
        ("POST", f"{url}/requests", request_body(name="Extra"), a.admin),
        ("POST", f"{url}/requests/new", None, a.admin),
        ("PUT", request_url, request_body(name="Changed"), request_editor),
        ("DELETE", request_url, None, request_editor),
    ]
    for method, target, body, headers in attempts:
        refused = await http.request(method, target, json=body, headers=headers)
        assert refused.status_code == 403, (method, target, refused.text)
        problem = refused.json()
        assert problem["type"] == "/problems/read-only", (method, target)
        assert "read-only" in problem["detail"]
        assert "copy" in problem["detail"].lower()

    assert (await http.get(url, headers=a.viewer)).json() == source
