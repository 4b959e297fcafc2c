"""Callout's own files: an API document read from, and written as, YAML.

A file is written with its keys in one order (the document's, with `callout` first and the
requests last) and without values that are at their defaults, so that a library kept in
git shows only what was changed. Long texts with line breaks (a JSON body, a description)
are written as literal blocks, as a person would write them.
"""

import re
from typing import Any

import yaml
from pydantic import ValidationError

from callout.errors import FieldProblem, Invalid
from callout.interchange import loading
from callout.interchange.schemas import FORMAT, ApiDocument, Converted
from callout.validation import validation_problems

# The order of a document's keys in a file: settings first, requests last.
ORDER = (
    "callout",
    "name",
    "description",
    "base_url",
    "type",
    "service",
    "headers",
    "authorization",
    "missing_secrets",
    "secrets",
    "requests",
)
STORED = {"stored": True}  # a header stored before a rule tightened still exports
# A Callout file's first line, as `dump` writes it: `callout: 1`.
HEADER = re.compile(rb"callout: *[0-9]+")


def read(data: Any, source: str) -> Converted:
    return Converted(format="callout", documents=[parse(data, source)])


def parse(data: Any, source: str) -> ApiDocument:
    """A document, or an error naming the file and each broken rule's place in it."""
    version = data.get("callout") if isinstance(data, dict) else None
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT:
        raise loading.unreadable(
            source,
            f"was written by a newer Callout (format {version}; this one reads format {FORMAT})",
        )
    try:
        return ApiDocument.model_validate(data, context=STORED)
    except ValidationError as error:
        problems = [
            FieldProblem(f"{source}: {p.field}", p.message)
            for p in validation_problems(error.errors())
        ]
        raise Invalid.of(problems) from None


def plain(document: ApiDocument) -> dict[str, Any]:
    """The document as the values a file holds: defaults and read-only flags left out."""
    values = document.model_dump(mode="json", exclude_defaults=True)
    authorization = document.authorization
    # A scheme's `type` is its own default: it is put back, first, as the discriminator.
    values["authorization"] = {"type": authorization.type} | {
        key: value
        for key, value in values.get("authorization", {}).items()
        if key not in type(authorization).model_computed_fields
    }
    if values["authorization"] == {"type": "none"}:
        del values["authorization"]
    # A secret header's value is never in the file (a read would give the mask).
    for header in [*values.get("headers", []), *_request_headers(values)]:
        if header.get("secret"):
            header.pop("value", None)
    return {key: values[key] for key in ORDER if key in values}


def _request_headers(values: dict[str, Any]) -> list[dict[str, Any]]:
    return [h for request in values.get("requests", []) for h in request.get("headers", [])]


def is_callout_file(head: bytes) -> bool:
    """Whether a file that starts with these bytes is a Callout file: its first line, as
    `dump` writes it, is `callout: 1` (after any comments, such as the `# yaml-language-server`
    line an editor is told the schema with)."""
    for line in head.splitlines():
        content = line.strip()
        if content and not content.startswith(b"#"):
            return HEADER.fullmatch(content) is not None
    return False


def dump(document: ApiDocument) -> str:
    return text(plain(document))


def text(values: Any) -> str:
    """Plain values as YAML, keys in the order given, long texts as literal blocks: how
    every file Callout writes reads."""
    return yaml.dump(values, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


class _Dumper(yaml.SafeDumper):
    """Writes a text of several lines as a literal block (`|`)."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _text)
