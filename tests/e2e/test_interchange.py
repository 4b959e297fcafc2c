"""Import and export in the API window, in Chromium against a real `callout serve`: an
OpenAPI file checked and then imported, a pasted cURL command line, an API exported as a
Callout file, and a bad file refused with the place it breaks a rule."""

from pathlib import Path
from uuid import uuid4

import yaml
from playwright.sync_api import Locator, Page, expect

from tests.e2e.browser import screenshot, sign_in, unique
from tests.e2e.conftest import Callout

PETSTORE = Path(__file__).resolve().parents[1] / "data" / "openapi" / "petstore-expanded.yaml"
TOKEN = "e2e-curl-" + uuid4().hex


def import_dialog(page: Page) -> Locator:
    page.get_by_role("toolbar", name="API window").get_by_role("button", name="Import").click()
    return page.get_by_role("dialog", name="Import APIs")


def pick(page: Page, dialog: Locator, path: Path) -> None:
    with page.expect_file_chooser() as chooser:
        dialog.get_by_role("button", name="File").click()
    chooser.value.set_files(path)


def test_an_openapi_file_is_checked_then_imported_and_its_api_opens(
    page: Page, callout: Callout
) -> None:
    sign_in(page, callout.admin_key)
    dialog = import_dialog(page)
    pick(page, dialog, PETSTORE)
    dialog.get_by_role("button", name="Check").click()
    report = dialog.get_by_label("Import report")
    expect(report).to_contain_text("Would import 1 API with 4 requests")
    expect(report).to_contain_text("nothing written yet")
    expect(report.get_by_role("table", name="Imported APIs")).to_contain_text("Swagger Petstore")
    not_carried = report.get_by_role("table", name="Not carried")
    expect(not_carried).to_contain_text("petstore-expanded.yaml")
    expect(not_carried).to_contain_text("paths./pets.get")
    with callout.rest() as api:
        assert api.get("/apis", params={"search": "Swagger Petstore"}).json()["total"] == 0
    screenshot(page, "import")

    dialog.get_by_role("button", name="Import", exact=True).click()
    expect(report).to_contain_text("Imported 1 API with 4 requests")
    name = report.get_by_role("table", name="Imported APIs").locator("tbody td").nth(1).inner_text()
    dialog.get_by_role("button", name="Done").click()
    expect(page.get_by_role("tab", name=name)).to_be_visible()
    client_apis = page.get_by_role("region", name="Client APIs")
    expect(client_apis.get_by_text(name, exact=True)).to_be_visible()
    with callout.rest() as api:
        (imported,) = api.get("/apis", params={"search": name}).json()["items"]
        requests = api.get(f"/apis/{imported['id']}/requests").json()["items"]
    assert sorted(r["name"] for r in requests) == [
        "addPet",
        "deletePet",
        "find pet by id",
        "findPets",
    ]


def test_a_pasted_curl_line_is_imported_with_its_token_kept_secret(
    page: Page, callout: Callout
) -> None:
    host = f"crm-{uuid4().hex[:8]}.example.com"
    sign_in(page, callout.admin_key)
    dialog = import_dialog(page)
    dialog.get_by_text("Paste text").click()
    dialog.get_by_role("textbox", name="Text").fill(
        f"curl https://{host}/customers/42 -H 'Authorization: Bearer {TOKEN}'"
    )
    dialog.get_by_role("button", name="Import", exact=True).click()
    expect(dialog.get_by_label("Import report")).to_contain_text("Imported 1 API with 1 request")
    dialog.get_by_role("button", name="Done").click()
    expect(page.get_by_role("tab", name=host)).to_be_visible()
    expect(page.get_by_label("Token is set")).to_be_visible()  # set, never shown
    assert TOKEN not in page.content()
    with callout.rest() as api:
        (imported,) = api.get("/apis", params={"search": host}).json()["items"]
        assert imported["base_url"] == f"https://{host}"


def test_an_api_is_exported_as_a_callout_file_named_by_the_server(
    page: Page, callout: Callout
) -> None:
    sign_in(page, callout.admin_key)
    page.locator("nav").get_by_text("Customer CRM", exact=True).click()
    expect(page.get_by_role("tab", name="Customer CRM")).to_be_visible()
    page.get_by_role("button", name="Export", exact=True).click()
    with page.expect_download() as downloading:
        page.get_by_role("menuitem", name="Callout YAML").click()
    download = downloading.value
    assert download.suggested_filename == "customer-crm.yaml"
    document = yaml.safe_load(Path(download.path()).read_text(encoding="utf-8"))
    assert document["callout"] == 1
    assert document["name"] == "Customer CRM"
    assert [r["name"] for r in document["requests"]]


def test_the_library_is_exported_as_a_zip(page: Page, callout: Callout) -> None:
    sign_in(page, callout.admin_key)
    with page.expect_download() as downloading:
        page.get_by_role("button", name="Export library").click()
    assert downloading.value.suggested_filename == "demo-apis.zip"
    assert Path(downloading.value.path()).read_bytes()[:2] == b"PK"


def test_a_bad_file_is_refused_naming_the_place_and_nothing_is_written(
    page: Page, callout: Callout, tmp_path: Path
) -> None:
    name = unique("Broken")
    bad = tmp_path / "broken.yaml"
    bad.write_text(
        f"callout: 1\nname: {name}\nbase_url: https://x.example\n"
        "requests:\n  - name: Lookup\n    method: FETCH\n",
        encoding="utf-8",
    )
    sign_in(page, callout.admin_key)
    dialog = import_dialog(page)
    pick(page, dialog, bad)
    dialog.get_by_role("button", name="Import", exact=True).click()
    problems = dialog.get_by_role("alert", name="Not imported: nothing was written")
    expect(problems).to_contain_text("broken.yaml: requests[0].method")
    expect(dialog.get_by_label("Import report")).to_have_count(0)
    with callout.rest() as api:
        assert api.get("/apis", params={"search": name}).json()["total"] == 0
