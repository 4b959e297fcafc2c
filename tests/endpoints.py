"""Every endpoint the app serves under /api/v1, and what it takes to call one.

For tests that must hold for all routes (tenancy, authentication, roles): the list is read
from the app itself, so a route added later is walked without anyone remembering to.

Since FastAPI 0.137 `app.routes` holds one node per included router rather than the routes
themselves; `iter_route_contexts(app.routes)` flattens it, with the include prefix applied.
"""

import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel

from callout.apis.schemas import ApiWrite, Blank, CopyApi, RequestWrite
from callout.clients.schemas import (
    ApiKeyCreate,
    ClientCreate,
    ClientUpdate,
    ServiceWrite,
)
from callout.designers.effects import FireBody
from callout.designers.schemas import ConditionCheck, DesignerWrite
from callout.invocations.schemas import AuthorizeBody, InvokeBody
from callout.web.app import API_PREFIX
from tests.factories import api_body, designer_body, request_body

PATH_PARAMETER = re.compile(r"\{(\w+)(?::[^}]*)?\}")

# A valid body per input schema, so a refusal is about who asks, never about the input.
SAMPLE_BODIES: dict[type[BaseModel], Callable[[], dict[str, Any]]] = {
    ClientCreate: lambda: {"code": "initech", "name": "Initech"},
    ClientUpdate: lambda: {"name": "Renamed by an intruder"},
    ServiceWrite: lambda: {"name": "Intruder service"},
    ApiKeyCreate: lambda: {"name": "intruder", "role": "admin"},
    ApiWrite: lambda: api_body(name="Intruder API"),
    RequestWrite: lambda: request_body(name="Intruder request"),
    CopyApi: lambda: {"name": "Intruder copy"},
    Blank: lambda: {},
    DesignerWrite: lambda: designer_body(name="Intruder designer"),
    # A dry run: even a call that wrongly got through would send nothing anywhere.
    InvokeBody: lambda: {"parameters": {"customerId": "1"}, "mode": "dry_run"},
    FireBody: lambda: {"mode": "mock"},
    ConditionCheck: lambda: {"expression": "${call.ani} starts with '+44'"},
    AuthorizeBody: lambda: {"redirect_uri": "https://intruder.example/callback"},
}
# Routes that take no API key: what they check is not whose key it is (the OAuth 2.0
# callback checks its one-time state).
PUBLIC = frozenset({f"{API_PREFIX}/oauth/callback"})


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # the template, e.g. /api/v1/clients/{client}/apis/{api_id}
    body_model: type[BaseModel] | None

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def params(self) -> tuple[str, ...]:
        return tuple(PATH_PARAMETER.findall(self.path))

    @property
    def reads(self) -> bool:
        return self.method == "GET"

    def url(self, values: Mapping[str, object]) -> str:
        missing = [p for p in self.params if p not in values]
        if missing:
            pytest.fail(f"{self}: no value for path parameter(s) {missing}; teach the test")
        return PATH_PARAMETER.sub(lambda m: str(values[m.group(1)]), self.path)

    def body(self) -> dict[str, Any] | None:
        if self.body_model is None:
            return None
        sample = SAMPLE_BODIES.get(self.body_model)
        if sample is None:
            pytest.fail(f"{self}: no sample body for {self.body_model.__name__}; add one")
        return sample()


def _body_model(route: APIRoute) -> type[BaseModel] | None:
    if route.body_field is None:
        return None
    annotation = route.body_field.field_info.annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):  # `CopyApi | None`
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        annotation = members[0] if len(members) == 1 else annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    pytest.fail(f"{route.path}: cannot tell which schema the body is ({annotation!r})")


def endpoints(app: FastAPI) -> list[Endpoint]:
    """Every (method, path) of the REST API, in the app's order."""
    found = []
    for context in iter_route_contexts(app.routes):
        route, path = context.original_route, context.path or ""
        if isinstance(route, APIRoute) and path.startswith(API_PREFIX + "/") and path not in PUBLIC:
            model = _body_model(route)
            found += [Endpoint(m, path, model) for m in sorted(context.methods or ())]
    if len(found) < 20:  # a walk over nothing passes everything: refuse to go quiet
        pytest.fail(f"found only {len(found)} endpoints under {API_PREFIX}: {found}")
    return found
