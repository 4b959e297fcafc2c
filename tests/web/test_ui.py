"""The built web UI served by a real `callout serve`: the app at `/` and at its own routes,
its assets cached for good, its HTML under a strict policy, no path leading out of its
folder, and every path the API owns still the API's.

The folder is laid out as Vite builds one; beside it lies a file that no URL may reach.
"""

import http.client
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.cli import Installation, callout, serving

PAGE = "<!doctype html><title>Callout</title><script type=module src=/assets/index-3f2a9c1b.js>"
SCRIPT = "console.log('the app')"
OUTSIDE = "kept-outside-the-ui-folder"


@dataclass(frozen=True)
class Served:
    root: str
    log: Path

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.root, timeout=10)

    def raw(self, path: str) -> tuple[int, str]:
        """A GET sent with its path exactly as written (`..` and `%2f` untouched)."""
        address = urlsplit(self.root)
        connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
        try:
            connection.request("GET", path)
            answer = connection.getresponse()
            return answer.status, answer.read().decode()
        finally:
            connection.close()

    def announcement(self) -> str:
        """The line `callout serve` prints once it answers."""
        for _ in range(50):
            found = [line for line in self.log.read_text().splitlines() if "Callout:" in line]
            if found:
                return found[0]
            time.sleep(0.1)
        pytest.fail(f"callout serve printed no address:\n{self.log.read_text()}")


@pytest.fixture(scope="module")
def ui_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A built app: index.html, a hashed script, an icon; and a link out of the folder."""
    root = tmp_path_factory.mktemp("ui")
    (root / "outside.txt").write_text(OUTSIDE)
    dist = root / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(PAGE)
    (dist / "assets" / "index-3f2a9c1b.js").write_text(SCRIPT)
    (dist / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (dist / "outside.txt").symlink_to(root / "outside.txt")
    return dist


@pytest.fixture(scope="module")
def served(
    installed: Installation, ui_folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with serving(installed.data_dir, log, CALLOUT_UI_DIR=str(ui_folder)) as root:
        yield Served(root, log)


def test_root_answers_the_app_under_its_security_policy(served: Served) -> None:
    with served.client() as client:
        page = client.get("/")
        assert page.status_code == 200
        assert page.text == PAGE
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["content-security-policy"] == (
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "connect-src 'self'; frame-ancestors 'none'"
        )
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["referrer-policy"] == "no-referrer"
        # Asked again every time, and answered 304 while it has not changed.
        assert page.headers["cache-control"] == "no-cache"
        again = client.get("/", headers={"If-None-Match": page.headers["etag"]})
        assert again.status_code == 304
        assert again.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("path", ["/apis/3", "/apis/3/requests/7", "/designers", "/index.html"])
def test_the_apps_own_routes_answer_its_page(served: Served, path: str) -> None:
    with served.client() as client:
        page = client.get(path)
        head = client.head(path)
    assert (page.status_code, page.text) == (200, PAGE)
    assert page.headers["cache-control"] == "no-cache"
    assert "content-security-policy" in page.headers
    assert head.status_code == 200
    assert head.headers["content-length"] == str(len(PAGE))


def test_hashed_assets_are_cached_for_a_year(served: Served) -> None:
    with served.client() as client:
        script = client.get("/assets/index-3f2a9c1b.js")
        icon = client.get("/favicon.svg")
    assert (script.status_code, script.text) == (200, SCRIPT)
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert script.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in script.headers  # a policy is the page's
    # A file outside assets/ keeps its name from build to build: asked again each time.
    assert icon.status_code == 200
    assert icon.headers["cache-control"] == "no-cache"


def test_a_missing_asset_is_not_found_rather_than_the_page(served: Served) -> None:
    with served.client() as client:
        missing = client.get("/assets/index-00000000.js")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert "immutable" not in missing.headers.get("cache-control", "")


@pytest.mark.parametrize(
    "path",
    [
        "/..%2foutside.txt",
        "/../outside.txt",
        "/%2e%2e/outside.txt",
        "/assets/..%2f..%2foutside.txt",
        "/..%2f..%2f..%2f..%2f..%2f..%2fetc/passwd",
        "/assets/../../../../../../etc/passwd",
        "/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/outside.txt",  # a link in the folder that leads out of it
    ],
)
def test_no_path_leads_outside_the_folder(served: Served, path: str) -> None:
    status, body = served.raw(path)
    assert OUTSIDE not in body
    assert "root:" not in body
    if path == "/outside.txt":  # only a name the app's own router does not know
        assert (status, body) == (200, PAGE)
    else:  # a way out is refused
        assert status == 404


def test_paths_the_server_owns_are_never_the_apps(served: Served) -> None:
    with served.client() as client:
        unknown = client.get("/api/v1/clients/demo/nothing-here")
        api_root = client.get("/api")
        assert unknown.status_code == api_root.status_code == 404
        assert unknown.headers["content-type"] == "application/problem+json"
        assert client.get("/docs").text != PAGE
        assert client.get("/redoc").text != PAGE
        assert client.get("/openapi.json").json()["info"]["title"] == "Callout"
        assert client.get("/metrics").status_code == 401
        # Writes are never the app's, and a wrong method still lists the API's own methods.
        assert client.post("/apis/3").status_code == 404
        wrong = client.patch("/api/v1/clients/demo/apis")
        assert (wrong.status_code, wrong.headers["allow"]) == (405, "GET, POST")


def test_invoke_is_still_served_beside_the_ui(served: Served, installed: Installation) -> None:
    bearer = {"Authorization": f"Bearer {installed.admin_key}"}
    with served.client() as client:
        apis = client.get("/api/v1/clients/demo/apis", headers=bearer).json()["items"]
        crm = next(api for api in apis if api["name"] == "Customer CRM")
        requests = client.get(f"/api/v1/clients/demo/apis/{crm['id']}/requests", headers=bearer)
        customer = next(r for r in requests.json()["items"] if r["name"] == "Get customer")
        answer = client.post(
            f"/api/v1/clients/demo/apis/{crm['id']}/requests/{customer['id']}/invoke",
            headers=bearer,
            json={"mode": "mock", "parameters": {"customerId": "7"}},
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["outputs"]["fullName"] == "Ann Example"


def test_serve_prints_where_to_open_the_ui(served: Served) -> None:
    port = urlsplit(served.root).port
    assert served.announcement() == (
        f"Callout: open http://127.0.0.1:{port}/ (web UI), REST API at /api/v1, docs at /docs"
    )


def test_without_a_built_ui_root_leads_to_the_docs_and_serve_says_how_to_build_it(
    installed: Installation, tmp_path: Path
) -> None:
    empty = tmp_path / "dist"
    empty.mkdir()
    log = tmp_path / "serve.log"
    with serving(installed.data_dir, log, CALLOUT_UI_DIR=str(empty)) as root:
        with httpx.Client(base_url=root, timeout=10) as client:
            root_answer = client.get("/")
            route = client.get("/apis/3")
            assert client.get("/api/v1/clients/demo/apis").status_code == 401  # still served
        printed = Served(root, log).announcement()
    assert (root_answer.status_code, root_answer.headers["location"]) == (307, "/docs")
    assert route.status_code == 404
    assert printed == (
        f"Callout: REST API at {root}/api/v1, docs at {root}/docs; the web UI is not built "
        f"(no index.html in {empty}): `make serve` builds it"
    )


def test_callout_openapi_prints_and_writes_what_the_server_answers(
    served: Served, tmp_path: Path
) -> None:
    with served.client() as client:
        document = client.get("/openapi.json").json()
    fresh = tmp_path / "never-set-up"
    printed = callout(fresh, "openapi")
    assert printed.returncode == 0, printed.stderr
    assert json.loads(printed.stdout) == document
    written = callout(fresh, "openapi", "--output", str(tmp_path / "openapi.json"))
    assert (written.returncode, written.stdout) == (0, "")
    assert (tmp_path / "openapi.json").read_text() == printed.stdout
    assert not fresh.exists()  # needs no set-up, and makes none
    nowhere = tmp_path / "no-such-folder" / "openapi.json"
    refused = callout(fresh, "openapi", "--output", str(nowhere))
    assert refused.returncode == 1
    assert f"cannot write {nowhere}: No such file or directory" in refused.stderr
