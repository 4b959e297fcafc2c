"""What the URL and the headers carry, parsed strictly: ids in plain digits, ETags as Callout
gives them, offsets within range, no control characters in a search or a client code. Each
bad spelling is a 4xx problem+json that does not quote it, never a 500."""

import httpx
import pytest

from tests.conftest import Tenants
from tests.factories import api_body, make_api, make_request

PROBLEM = "application/problem+json"


def assert_refused(response: httpx.Response, status: int, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == status
    if field is not None:
        assert [e["field"] for e in problem["errors"]] == [field], problem


# Ids


@pytest.mark.parametrize(
    "spelling",
    [
        pytest.param("1.0", id="decimal-point"),
        pytest.param("%201", id="leading-space"),
        pytest.param("1%20", id="trailing-space"),
        pytest.param("+1", id="plus-sign"),
        pytest.param("1_0", id="underscore"),
        pytest.param("%D9%A1", id="arabic-indic-digit"),
        pytest.param("9" * 5000, id="5000-digits"),
    ],
)
async def test_an_id_in_the_path_is_read_only_as_plain_digits(
    http: httpx.AsyncClient, tenants: Tenants, spelling: str
) -> None:
    a = tenants.a
    api = await make_api(http, a)
    request = await make_request(http, a, api["id"])

    for url in (
        f"{a.apis}/{spelling}",
        f"{a.apis}/{spelling}/requests",
        f"{a.apis}/{api['id']}/requests/{spelling}",
        f"{a.apis}/{api['id']}/requests/{request['id']}x",
        f"/api/v1/clients/{a.code}/services/{spelling}",
    ):
        response = await http.get(url, headers=a.viewer)
        assert_refused(response, 422)
        assert spelling[:20] not in response.text


async def test_an_id_spelt_otherwise_does_not_name_the_object(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    """`1.0` and ` 1` once read as 1: the object answered under a second spelling."""
    a = tenants.a
    api = await make_api(http, a)
    plain = await http.get(f"{a.apis}/{api['id']}", headers=a.viewer)
    assert plain.status_code == 200, plain.text

    for spelling in (f"{api['id']}.0", f"%20{api['id']}"):
        response = await http.get(f"{a.apis}/{spelling}", headers=a.viewer)
        assert_refused(response, 422, "api_id")


@pytest.mark.parametrize("spelling", ["1.0", " 1", "%D9%A1"])
async def test_an_id_in_the_query_is_read_only_as_plain_digits(
    http: httpx.AsyncClient, tenants: Tenants, spelling: str
) -> None:
    a = tenants.a
    for url, field in (
        (a.apis, "service_id"),
        (f"/api/v1/clients/{a.code}/audit", "object_id"),
    ):
        response = await http.get(url, params={field: spelling}, headers=a.viewer)
        assert_refused(response, 422, field)


# Paging


@pytest.mark.parametrize("offset", [2**63, 2**64, 2**31])
async def test_an_offset_past_any_list_is_refused(
    http: httpx.AsyncClient, tenants: Tenants, offset: int
) -> None:
    a = tenants.a
    for url in (
        a.apis,
        f"/api/v1/clients/{a.code}/audit",
        f"/api/v1/clients/{a.code}/invocations",
    ):
        response = await http.get(url, params={"offset": offset}, headers=a.admin)
        assert_refused(response, 422, "offset")


async def test_the_largest_offset_answers_an_empty_page(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    await make_api(http, a)
    for url in (a.apis, f"/api/v1/clients/{a.code}/audit"):
        response = await http.get(url, params={"offset": 2**31 - 1}, headers=a.admin)
        assert response.status_code == 200, response.text
        assert response.json()["items"] == []


# If-Match


@pytest.mark.parametrize(
    "if_match",
    [
        pytest.param('"' + "1" * 5000 + '"', id="5000-digits"),
        pytest.param('"' + "9" * 19 + '"', id="past-64-bits"),
        pytest.param('"\u00b2"', id="superscript-two"),  # a digit to str.isdigit()
    ],
)
async def test_an_if_match_that_callout_never_gave_is_refused(
    http: httpx.AsyncClient, tenants: Tenants, if_match: str
) -> None:
    a = tenants.a
    api = await make_api(http, a)
    url = f"{a.apis}/{api['id']}"
    headers = {k.encode(): v.encode() for k, v in a.editor.items()}
    headers[b"If-Match"] = if_match.encode("latin-1")

    for response in (
        await http.put(url, json=api_body(description="Changed"), headers=headers),
        await http.delete(url, headers=headers),
    ):
        assert_refused(response, 422, "If-Match")
    assert (await http.get(url, headers=a.viewer)).json()["version"] == 1


# Control characters in text that reaches a query


@pytest.mark.parametrize("search", ["a\x00b", "\x00", "line\nbreak"])
async def test_a_search_with_a_control_character_is_refused(
    http: httpx.AsyncClient, tenants: Tenants, search: str
) -> None:
    a = tenants.a
    response = await http.get(a.apis, params={"search": search}, headers=a.viewer)
    assert_refused(response, 422, "search")


@pytest.mark.parametrize("code", ["ac%00me", "%00", "acme%0A"])
async def test_a_client_code_with_a_control_character_names_no_client(
    http: httpx.AsyncClient, tenants: Tenants, code: str
) -> None:
    response = await http.get(f"/api/v1/clients/{code}/apis", headers=tenants.platform)
    assert_refused(response, 404)
