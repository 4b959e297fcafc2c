"""The README's third Quickstart block, as a new user types it: an OpenAPI file imported and
one of its operations called from the CLI (here printed as cURL: the suite has no internet)."""

from pathlib import Path

from tests.cli import Installation, callout

USPTO = Path(__file__).parents[1] / "data" / "openapi" / "uspto.yaml"
README = Path(__file__).parents[2] / "README.md"


def test_the_quickstart_imports_an_openapi_file_and_calls_an_operation(
    installation: Installation,
) -> None:
    block = README.read_text().split("Import an OpenAPI description", 1)[1]
    assert "callout import demo tests/data/openapi/uspto.yaml" in block
    assert 'callout send demo "USPTO Data Set API" list-data-sets --curl' in block

    imported = callout(installation.data_dir, "import", "demo", str(USPTO))
    assert imported.returncode == 0, imported.stderr
    assert "Imported 1 API(s) with 3 request(s) (openapi)." in imported.stdout

    sent = callout(
        installation.data_dir, "send", "demo", "USPTO Data Set API", "list-data-sets", "--curl"
    )
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.strip() == "curl https://developer.uspto.gov/ds-api"
