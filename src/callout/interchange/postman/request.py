"""One Postman request item as a Callout request: name, method, path, query, headers,
body, parameters and saved responses, each with a note for what it cannot carry."""

import json
import math
from dataclasses import dataclass, field
from typing import Any, get_args
from urllib.parse import unquote_plus

from pydantic import ValidationError

from callout.apis.fields import RESERVED_HEADERS, TOKEN, Header, credential_free
from callout.apis.names import COPY_NUMBERING, unique_name
from callout.apis.schemas import Method, SampleResponse
from callout.apis.secret_fields import header_field
from callout.interchange.postman.auth import Auth, Carried
from callout.interchange.postman.bodies import Bodies
from callout.interchange.postman.notes import (
    MAX_DESCRIPTION,
    Notes,
    clean_name,
    description,
    disabled,
    problem,
)
from callout.interchange.postman.urls import Url
from callout.interchange.postman.variables import (
    VARIABLE,
    Names,
    Placing,
    Problem,
    Scope,
    Variable,
    description_of,
    escape,
    has_value,
    is_secret_name,
    resolve,
    text_of,
)
from callout.interchange.schemas import RequestDocument
from callout.runtime.credential_headers import CREDENTIAL_HEADERS
from callout.schemas import name_key

METHODS = frozenset(get_args(Method))
MAX_SAMPLES = 20
MAX_SAMPLE_HEADERS = 50


@dataclass
class Item:
    """A request item found in the collection, with what it inherits."""

    item: dict[str, Any]
    where: str  # `item[2].item[0]`
    folders: tuple[str, ...]
    scope: Scope
    auth: Auth | None  # its own, or the one it inherits
    url: Url | None = None
    path: list[str] = field(default_factory=list)  # segments after the base URL


class RequestReader:
    """Reads request items into request documents, sharing the variables' names."""

    def __init__(self, names: Names, notes: Notes) -> None:
        self.names = names
        self.notes = notes
        self.bodies = Bodies(notes)

    def read(self, found: Item, name: str, auths: list[Carried]) -> RequestDocument | None:
        """`auths` are the API's and the request's own authorization as far as they go
        into the request's headers and query."""
        item, where = found.item, found.where
        request = item["request"]
        if isinstance(request, str):
            request = {"url": request}
        here = f"{where}.request"
        method = request.get("method")
        method = method.upper() if isinstance(method, str) and method else "GET"
        if method not in METHODS:
            self._skip(here + ".method", f"method {method} is not one Callout sends")
            return None
        assert found.url is not None
        placing = Placing(self.names)
        url = found.url
        try:
            endpoint = self._path(found.path, url, placing, here)
            headers = self._headers(request.get("header"), found.scope, placing, here)
            fields = self.bodies.body(request, here, placing, headers)
        except Problem as error:
            self._skip(here, str(error))
            return None
        query = self._query(url.query, placing, f"{here}.url")
        for carried in auths:
            self._add_auth(carried, headers, query, placing)
        missing = [
            header_field(h["name"])
            for h in headers
            if h["secret"] and not h["value"] and h["enabled"]
        ]
        self._settings(request, here)
        data = {
            "name": name,
            "description": description(
                request.get("description") or item.get("description"), here, self.notes
            ),
            "method": method,
            "endpoint_path": endpoint,
            "query": query,
            "headers": headers,
            **fields,
            "parameters": self._parameters(placing, found.scope, _declared(item), here),
            "samples": self._samples(item.get("response"), where),
            "missing_secrets": list(dict.fromkeys(missing)),
        }
        try:
            return RequestDocument.model_validate(data)
        except ValidationError as error:
            if data.get("content_type") in ("json", "xml") and _about_body(error):
                self.notes.add(
                    here + ".body", f"the body is not valid {data['content_type']}: kept as text"
                )
                data["content_type"] = "text"
                try:
                    return RequestDocument.model_validate(data)
                except ValidationError as again:
                    error = again
            self._skip(here, problem(error))
            return None

    def _skip(self, where: str, why: str) -> None:
        self.notes.add(where, f"{why}: request not carried")

    def _path(self, segments: list[str], url: Url, placing: Placing, here: str) -> str:
        out = []
        for segment in segments:
            if not (segment.startswith(":") and len(segment) > 1):
                out.append(placing.template(segment))
                continue
            variable = url.variables.get(segment[1:], {})
            value = text_of(variable.get("value"))
            if VARIABLE.search(value):  # `:id` given by a variable: the variable's placeholder
                out.append(placing.template(value))
                continue
            name = self.names.of(segment[1:])
            if name != segment[1:]:
                self.notes.once(
                    f"{here}.url",
                    f"path variable {segment} becomes parameter {name} (a parameter's name is "
                    "an identifier)",
                )
            placing.path[name] = Variable(
                value or None, "string", description_of(variable.get("description"))
            )
            out.append("${" + name + "}")
        if url.hash:
            self.notes.add(f"{here}.url.hash", "a URL fragment (#...) is not carried")
        if url.credentials:
            self.notes.add(
                f"{here}.url",
                "credentials in the URL are not carried: set the API's authorization instead",
            )
        return "/".join(out)

    def _query(self, entries: list[Any], placing: Placing, here: str) -> list[dict[str, Any]]:
        query: list[dict[str, Any]] = []
        for index, entry in enumerate(entries):
            where = f"{here}.query[{index}]"
            if not isinstance(entry, dict) or (entry.get("key") is None and not entry.get("value")):
                continue
            key = unquote_plus(text_of(entry.get("key")))
            value = self.bodies.value(
                key, unquote_plus(text_of(entry.get("value"))), placing, where
            )
            if value is not None:
                self.bodies.entry(
                    query, {"name": key, "value": value, "enabled": not disabled(entry)}, where
                )
        return query

    def _headers(
        self, entries: Any, scope: Scope, placing: Placing, here: str
    ) -> list[dict[str, Any]]:
        if isinstance(entries, str):  # v2.0 allows "Name: value" lines
            entries = [
                {"key": k, "value": v.strip()}
                for k, _, v in (line.partition(":") for line in entries.splitlines())
                if k.strip()
            ]
        headers: list[dict[str, Any]] = []
        seen: set[str] = set()
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            where = f"{here}.header[{index}]"
            if not isinstance(entry, dict):
                continue
            name = text_of(entry.get("key")).strip()
            key = name_key(name)
            if not TOKEN.match(name):
                self.notes.add(where, "is not a valid header name (an RFC 9110 token): not carried")
                continue
            if key in RESERVED_HEADERS:
                self.notes.add(where, f"{name} is set by Callout's HTTP client: not carried")
                continue
            if key in seen:
                self.notes.add(where, f"repeats the header {name}: not carried")
                continue
            written = text_of(entry.get("value"))
            secret = key in CREDENTIAL_HEADERS or is_secret_name(name)
            filled = resolve(written, scope) if secret else None
            if filled is not None:  # the collection holds the credential: kept sealed
                value = escape(filled)
            else:
                value = placing.template(written, secret=secret)
                # only variables (after a scheme such as `Token `): nothing secret is
                # stored, the parameters are masked
                secret = secret and not credential_free(value)
            header = {
                "name": name,
                "value": value,
                "enabled": not disabled(entry),
                "secret": secret,
            }
            try:
                Header.model_validate(header)
            except ValidationError as error:
                self.notes.add(where, f"{problem(error)}: not carried")
                continue
            seen.add(key)
            headers.append(header)
        return headers

    def _add_auth(
        self,
        carried: Carried,
        headers: list[dict[str, Any]],
        query: list[dict[str, Any]],
        placing: Placing,
    ) -> None:
        """An auth's headers (where the request sets none of the name) and query entries."""
        names = {name_key(h["name"]) for h in headers}
        for header in carried.headers:
            if name_key(header["name"]) not in names:
                headers.append(header)
        for name, variable in carried.query:
            if all(q["name"] != name for q in query):
                value = placing.placeholder(variable, secret=True)
                query.append({"name": name, "value": value, "enabled": True})

    def _parameters(
        self, placing: Placing, scope: Scope, own: list[str], here: str
    ) -> list[dict[str, Any]]:
        """A parameter for each variable the request uses: the collection's value as its
        default, none (required) when an environment gave it. A secret has no default."""
        parameters = []
        for variable in placing.used:
            name = self.names.of(variable)
            if name != variable:
                self.notes.once(
                    here,
                    f"{{{{{variable}}}}} becomes parameter {name} (a parameter's name is an "
                    "identifier)",
                )
            declared = scope.get(variable)
            secret = variable in placing.secret or is_secret_name(variable)
            parameters.append(
                self._parameter(name, declared, secret, bare=variable in placing.bare)
            )
            if secret and has_value(declared):
                self.notes.once(
                    here,
                    f"{{{{{variable}}}}} is secret: its parameter {name} is masked and has no "
                    "default; the collection's value is not kept",
                )
        for variable in own:  # declared on the request itself: its parameter, used or not
            name = self.names.of(variable)
            if all(p["name"] != name for p in parameters):
                declared = scope.get(variable)
                parameters.append(
                    self._parameter(name, declared, is_secret_name(variable), bare=False)
                )
        for name, declared in placing.path.items():
            if all(p["name"] != name for p in parameters):
                parameters.append(self._parameter(name, declared, is_secret_name(name), bare=False))
        return parameters

    @staticmethod
    def _parameter(
        name: str, declared: Variable | None, secret: bool, *, bare: bool
    ) -> dict[str, Any]:
        kind, default = _typed(declared, bare)
        if secret:
            default = None
            kind = kind if kind in ("string", "number") else "string"
        return {
            "name": name,
            "type": kind,
            "required": default is None,
            "default": default,
            "description": (declared.description if declared else "")[:MAX_DESCRIPTION],
            "secret": secret,
        }

    def _samples(self, responses: Any, where: str) -> list[dict[str, Any]]:
        """Saved responses as samples, to try the request without calling out."""
        samples: list[dict[str, Any]] = []
        taken: set[str] = set()
        for index, response in enumerate(responses if isinstance(responses, list) else []):
            here = f"{where}.response[{index}]"
            if not isinstance(response, dict):
                continue
            if len(samples) == MAX_SAMPLES:
                self.notes.add(here, f"a request keeps at most {MAX_SAMPLES} samples: not carried")
                break
            code = response.get("code")
            if not isinstance(code, int) or not 100 <= code <= 599:
                self.notes.add(here, "has no HTTP status: sample not carried")
                continue
            name = unique_name(
                clean_name(response.get("name"), f"Sample {index + 1}"), taken, COPY_NUMBERING
            )
            entries = response.get("header")
            headers = [
                {"name": text_of(h.get("key")), "value": escape(text_of(h.get("value")))}
                for h in (entries if isinstance(entries, list) else [])
                if isinstance(h, dict) and text_of(h.get("key"))
            ]
            if len(headers) > MAX_SAMPLE_HEADERS:
                self.notes.add(here, f"a sample keeps at most {MAX_SAMPLE_HEADERS} headers")
            sample = {
                "name": name,
                "status": code,
                "headers": headers[:MAX_SAMPLE_HEADERS],
                "body": text_of(response.get("body", response.get("data"))),
            }
            try:
                SampleResponse.model_validate(sample)
            except ValidationError as error:
                self.notes.add(here, f"{problem(error)}: sample not carried")
                continue
            taken.add(name_key(name))
            samples.append(sample)
        return samples

    def _settings(self, request: dict[str, Any], here: str) -> None:
        for key, what in (("proxy", "a proxy"), ("certificate", "a client certificate")):
            if request.get(key):
                self.notes.add(f"{here}.{key}", f"{what} setting is not carried")


def _declared(item: dict[str, Any]) -> list[str]:
    """The variables a request item declares itself."""
    entries = item.get("variable")
    if not isinstance(entries, list):
        return []
    return [e["key"] for e in entries if isinstance(e, dict) and isinstance(e.get("key"), str)]


def _about_body(error: ValidationError) -> bool:
    return any(e["loc"][:1] == ("body",) for e in error.errors())


def _typed(declared: Variable | None, bare: bool) -> tuple[str, Any]:
    """A variable's value as a parameter's type and default."""
    if declared is None or declared.value is None:
        kinds = {"number": "number", "boolean": "boolean", "any": "object"}
        return kinds.get(declared.kind if declared else "", "string"), None
    value = declared.value
    if isinstance(value, str) and (bare or declared.kind in ("number", "boolean")):
        try:  # a number or a boolean, and not NaN or Infinity, which JSON has not
            parsed = json.loads(value, parse_constant=lambda _: value)
        except ValueError:
            parsed = value
        if isinstance(parsed, bool | int) or (isinstance(parsed, float) and math.isfinite(parsed)):
            value = parsed
    if isinstance(value, bool):
        return "boolean", value
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return "number", value
    if isinstance(value, dict | list):
        return "object", value
    return "string", text_of(value)
