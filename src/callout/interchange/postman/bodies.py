"""Postman's bodies as Callout's, and the name/value entries of a query or a form.

A raw body is JSON, XML or text by its language (or its Content-Type header); URL-encoded
and form-data bodies are forms, and GraphQL is the JSON Postman sends. A file is not carried.
"""

import json
import re
from typing import Any

from pydantic import ValidationError

from callout.apis.fields import NameValue
from callout.interchange.postman.notes import Notes, disabled, problem
from callout.interchange.postman.variables import (
    VARIABLE,
    Placing,
    Problem,
    is_secret_name,
    text_of,
)
from callout.schemas import name_key


class Entries:
    """Query and form entries: each a valid name and value, or a note."""

    def __init__(self, notes: Notes) -> None:
        self.notes = notes

    def value(self, key: str, written: str, placing: Placing, where: str) -> str | None:
        """A query or form value as a template; a literal under a name that says it is a
        secret becomes a secret parameter, as a query or form holds nothing secret."""
        if not key:
            self.notes.add(where, "has no name: not carried")
            return None
        if "{{" in key:
            self.notes.add(where, "a variable in a name cannot be carried: not carried")
            return None
        try:
            if is_secret_name(key) and written and not VARIABLE.search(written):
                self.notes.add(
                    where,
                    f"{key} looks secret: it becomes a secret parameter, and its value in the "
                    "collection is not kept",
                )
                return placing.placeholder(key, secret=True)
            return placing.template(written)
        except Problem as error:
            self.notes.add(where, f"{error}: not carried")
            return None

    def entry(self, into: list[dict[str, Any]], entry: dict[str, Any], where: str) -> None:
        try:
            NameValue.model_validate(entry)
        except ValidationError as error:
            self.notes.add(where, f"{problem(error)}: not carried")
            return
        into.append(entry)


class Bodies(Entries):
    """A request's body, as content type, body and form fields."""

    def body(
        self, request: dict[str, Any], here: str, placing: Placing, headers: list[dict[str, Any]]
    ) -> dict[str, Any]:
        body = request.get("body", request.get("data"))
        if not isinstance(body, dict) or not body.get("mode"):
            return {}
        where, mode = f"{here}.body", body["mode"]
        if body.get("disabled") is True:
            self.notes.add(where, "the body is turned off in Postman: not carried")
            return {}
        if mode == "raw":
            media = next(
                (
                    h["value"].lower()
                    for h in headers
                    if name_key(h["name"]) == "content-type" and h["enabled"]
                ),
                "",
            )
            return self._raw(body, where, placing, media)
        if mode in ("urlencoded", "formdata"):
            form = self._form(body.get(mode), f"{where}.{mode}", placing)
            kind = "form" if mode == "urlencoded" else "multipart"
            return {"content_type": kind, "form": form} if form else {}
        if mode == "graphql":
            return self._graphql(body.get("graphql"), where, placing)
        self.notes.add(where, f"a {mode} body is not carried (Callout sends no files)")
        return {}

    def _raw(
        self, body: dict[str, Any], where: str, placing: Placing, media: str
    ) -> dict[str, Any]:
        text = text_of(body.get("raw"))
        if not text.strip():
            return {}
        options = body.get("options")
        raw = options.get("raw") if isinstance(options, dict) else None
        language = raw.get("language") if isinstance(raw, dict) else None
        language = language if isinstance(language, str) else ""
        if language == "json" or (not language and "json" in media):
            kind = "json"
        elif language == "xml" or (not language and "xml" in media):
            kind = "xml"
        elif language or media:
            kind = "text"
        else:  # Postman's default is text; a body that reads as JSON is sent as JSON
            kind = "json" if text.lstrip()[:1] in ("{", "[") else "text"
        if kind == "json":
            converted = self._json(text, placing)
            if converted is not None:
                return {"content_type": "json", "body": converted}
            if language or media:
                self.notes.add(where, "the body is not valid JSON: kept as text")
            kind = "text"
        return {"content_type": kind, "body": placing.template(text)}

    def _json(self, text: str, placing: Placing) -> str | None:
        """A JSON body as a template, or None when it is not JSON. A variable written as a
        whole value (`{"count": {{count}}}`) is quoted: a string that is one placeholder
        takes the parameter's value as it is, a number stays a number."""
        converted = placing.template(text)
        if _is_json(converted):
            return converted
        quoted, bare = _quote_bare(text)
        if not bare:
            return None
        converted = placing.template(quoted)
        if not _is_json(converted):
            return None
        placing.bare |= bare
        return converted

    def _graphql(self, graphql: Any, where: str, placing: Placing) -> dict[str, Any]:
        """GraphQL as Postman sends it: JSON with `query` and `variables`."""
        graphql = graphql if isinstance(graphql, dict) else {}
        variables: Any = {}
        written = text_of(graphql.get("variables")).strip()
        if written:
            quoted, bare = _quote_bare(written)
            try:
                variables = json.loads(quoted)
                placing.bare |= bare
            except (ValueError, RecursionError):
                self.notes.add(where, "the GraphQL variables are not valid JSON: not carried")
        payload = json.dumps({"query": text_of(graphql.get("query")), "variables": variables})
        return {"content_type": "json", "body": placing.template(payload)}

    def _form(self, entries: Any, here: str, placing: Placing) -> list[dict[str, Any]]:
        form: list[dict[str, Any]] = []
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            where = f"{here}[{index}]"
            if not isinstance(entry, dict):
                continue
            key = text_of(entry.get("key"))
            if entry.get("type") == "file" or ("src" in entry and entry.get("type") != "text"):
                self.notes.add(
                    where, f"the file field {key} is not carried (Callout sends no files)"
                )
                continue
            if not key and not entry.get("value"):
                continue
            value = self.value(key, text_of(entry.get("value")), placing, where)
            if value is not None:
                self.entry(
                    form, {"name": key, "value": value, "enabled": not disabled(entry)}, where
                )
        return form


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


def _quote_bare(text: str) -> tuple[str, set[str]]:
    """JSON text with each `{{variable}}` outside a string quoted: `{"n": {{n}}}` ->
    `{"n": "{{n}}"}`; and the variables so quoted."""
    out: list[str] = []
    bare: set[str] = set()
    inside, last = False, 0
    for match in re.finditer(r'\\.|"|\{\{[^{}]+\}\}', text, re.DOTALL):
        found = match.group(0)
        if found == '"':
            inside = not inside
        elif found.startswith("{{") and not inside:
            out.append(text[last : match.start()] + '"' + found + '"')
            bare.add(found[2:-2])
            last = match.end()
    out.append(text[last:])
    return "".join(out), bare
