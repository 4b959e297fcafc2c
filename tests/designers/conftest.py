"""Fixtures for designers: a library for client A whose request designers call."""

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import Tenants
from tests.factories import function_call, make_api, make_request


@dataclass(frozen=True)
class Library:
    """Client A's CRM API and its "Get customer" request (customerId required)."""

    api: dict[str, Any]
    request: dict[str, Any]

    @property
    def api_id(self) -> int:
        return int(self.api["id"])

    @property
    def request_id(self) -> int:
        return int(self.request["id"])

    def call(self, parameters: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """A FUNCTION CALL of the request, mapping customerId unless told otherwise."""
        return function_call(self.api_id, self.request_id, parameters)


@pytest.fixture
async def crm(http: httpx.AsyncClient, tenants: Tenants) -> Library:
    api = await make_api(http, tenants.a)
    return Library(api, await make_request(http, tenants.a, api["id"]))
