"""Every response the suite's HTTP client receives, checked against the OpenAPI document.

The operation is found from the method and the path template; its status must be declared,
with the content type declared for it, and a JSON body must validate against the declared
schema (JSON Schema 2020-12, as OpenAPI 3.1 says). A response that breaks the document
fails the test that received it, so the document cannot drift from what the server says.
"""

import re
from dataclasses import dataclass, field
from typing import Any

import httpx
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

API = "/api/v1/"


class ContractViolation(AssertionError):
    """A response the OpenAPI document does not describe."""


@dataclass
class Contract:
    document: dict[str, Any]
    operations: list[tuple[re.Pattern[str], int, dict[str, Any]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for template, item in self.document["paths"].items():
            pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
            literal = len(re.sub(r"\{[^}]+\}", "", template))
            self.operations.append((re.compile(pattern + "$"), literal, item))
        # Where two templates match a path, the one with more literal text is meant.
        self.operations.sort(key=lambda entry: -entry[1])

    def operation(self, method: str, path: str) -> tuple[dict[str, Any] | None, list[str]]:
        """The operation for this request, or None and the methods its path has."""
        for pattern, _, item in self.operations:
            if pattern.match(path):
                return item.get(method.lower()), sorted(m.upper() for m in item)
        return None, []

    def check(self, response: httpx.Response) -> None:
        request = response.request
        path = request.url.path
        if not path.startswith(API):
            return  # the docs, the document itself, the UI
        operation, methods = self.operation(request.method, path)
        where = f"{request.method} {path} -> {response.status_code}"
        if operation is None:
            self._undocumented(response, where, methods)
            return
        declared = operation["responses"]
        spec = declared.get(str(response.status_code)) or declared.get(
            f"{response.status_code // 100}XX"
        )
        if spec is None:
            raise ContractViolation(f"{where}: status not declared (declared: {sorted(declared)})")
        content = spec.get("content")
        if not content:
            if response.content:
                raise ContractViolation(f"{where}: a body where the document declares none")
            return
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        if media_type not in content:
            raise ContractViolation(f"{where}: {media_type!r} not declared ({sorted(content)})")
        schema = content[media_type].get("schema")
        if schema is not None and media_type.endswith("json"):
            self.validate(response.json(), schema, where)

    def validate(self, body: Any, schema: dict[str, Any], where: str) -> None:
        rooted = {**schema, "components": self.document.get("components", {})}
        validator = Draft202012Validator(rooted, format_checker=FormatChecker())
        error: ValidationError | None = next(iter(validator.iter_errors(body)), None)
        if error is not None:
            at = "/".join(str(p) for p in error.absolute_path) or "(body)"
            raise ContractViolation(f"{where}: body at {at}: {error.message[:300]}")

    def _undocumented(self, response: httpx.Response, where: str, methods: list[str]) -> None:
        """No operation: only a problem+json 404 (no such route) or 405 (no such method,
        with Allow naming the methods the path has) may answer."""
        if response.status_code not in (404, 405):
            raise ContractViolation(f"{where}: no operation in the document")
        if response.status_code == 405:
            allowed = {m.strip() for m in response.headers.get("allow", "").split(",")}
            if not set(methods) <= allowed:
                raise ContractViolation(f"{where}: Allow does not list {methods}")
        problem = {"$ref": "#/components/schemas/Problem"}
        self.validate(response.json(), problem, where)
