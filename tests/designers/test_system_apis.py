"""The catalogue sync never breaks a designer: a system API, request or parameter that some
client's designer calls is not removed; the sync is refused naming who uses it."""

import httpx
import pytest
from sqlalchemy.orm import Session

from callout.apis import catalog
from callout.errors import Conflict
from tests.conftest import Tenants
from tests.factories import (
    SYSTEM_API_SLUG,
    SYSTEM_API_YAML,
    add_system_api,
    function_call,
    make_designer,
)


@pytest.fixture
async def called(http: httpx.AsyncClient, tenants: Tenants, session: Session) -> None:
    """Client A's designer "Status desk" calls the test system API's Component request."""
    a = tenants.a
    api_id = add_system_api(session)
    read = await http.get(f"{a.apis}/{api_id}", headers=a.viewer)
    component = next(r for r in read.json()["requests"] if r["name"] == "Component")
    mapped = [{"name": "componentId", "path": "fields.component"}]
    await make_designer(http, a, function_call(api_id, component["id"], mapped), name="Status desk")


def shipped(yaml: str | None) -> list[catalog.Entry]:
    """The catalogue as a newer release ships it, with the test API as `yaml` (None: gone)."""
    extra = [] if yaml is None else [catalog.parse(SYSTEM_API_SLUG, yaml)]
    return [*catalog.load(), *extra]


WHO = "designer 'Status desk' of client 'acme' (event 'Login')"


@pytest.mark.parametrize(
    ("yaml", "refusal"),
    [
        (None, f"the catalogue no longer has system API 'Status page', which {WHO} call(s)"),
        (
            SYSTEM_API_YAML.split("  - name: Component")[0],
            "the catalogue no longer has request 'Component' of system API 'Status page', "
            f"which {WHO} call(s)",
        ),
        (
            SYSTEM_API_YAML.replace("${componentId}", "all").replace(
                "    parameters:\n      - name: componentId\n        required: true\n", ""
            ),
            "the catalogue drops parameter(s) 'componentId' of request 'Component' of system "
            f"API 'Status page', which {WHO} map",
        ),
    ],
    ids=["api removed", "request removed", "parameter removed"],
)
@pytest.mark.usefixtures("called")
async def test_the_sync_refuses_to_remove_what_a_designer_calls(
    session: Session, yaml: str | None, refusal: str
) -> None:
    with pytest.raises(Conflict) as refused:
        catalog.sync(session, shipped(yaml))
    assert refused.value.detail == refusal + "; change those designers first"
    session.rollback()


# Renamed, a request no designer calls removed, a parameter added to the one called.
CHANGED = """
name: Status board
base_url: https://status.example.com/api
requests:
  - name: Component
    endpoint_path: v2/components/${componentId}.json
    parameters:
      - name: componentId
        required: true
      - name: verbose
"""


@pytest.mark.usefixtures("called")
async def test_the_sync_changes_what_no_designer_relies_on(
    http: httpx.AsyncClient, tenants: Tenants, session: Session
) -> None:
    assert catalog.sync(session, shipped(CHANGED)) == 1
    session.commit()
    a = tenants.a
    [api] = (await http.get(a.apis, params={"search": "Status board"}, headers=a.viewer)).json()[
        "items"
    ]
    usages = await http.get(f"{a.apis}/{api['id']}/usages", headers=a.viewer)
    assert [u["designer_name"] for u in usages.json()["items"]] == ["Status desk"]
