"""The JSON Schema of Callout files: published in docs/, current, and true of every file
Callout writes."""

import json
from pathlib import Path

import jsonschema
import yaml

from callout.apis import catalog
from callout.interchange import native
from callout.interchange.schemas import ApiDocument, file_schema

PUBLISHED = Path(__file__).parents[2] / "docs" / "callout-file.schema.json"


def test_the_published_schema_is_the_current_one() -> None:
    assert json.loads(PUBLISHED.read_text()) == file_schema(), "run: callout schema --output " + (
        "docs/callout-file.schema.json"
    )


def test_every_system_api_written_as_a_file_meets_the_schema() -> None:
    validator = jsonschema.Draft202012Validator(file_schema())
    for entry in catalog.load():
        values = entry.api.model_dump(exclude={"service_id"}) | {
            "callout": 1,
            "requests": [r.model_dump() for r in entry.requests],
        }
        text = native.dump(ApiDocument.model_validate(values))
        errors = [e.message for e in validator.iter_errors(yaml.safe_load(text))]
        assert errors == [], entry.slug


def test_the_schema_refuses_what_an_import_refuses() -> None:
    validator = jsonschema.Draft202012Validator(file_schema())
    bad = {"callout": 1, "name": "X", "base_url": "https://x.example", "color": "red"}
    assert not validator.is_valid(bad)
    assert not validator.is_valid({"callout": 2, "name": "X", "base_url": "https://x.example"})
