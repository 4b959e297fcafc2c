"""The anchor of bench/invoke.py: the least a FastAPI route can do for the same invoke.

It takes the same body on the same path as Callout's invoke, makes the same upstream call
(`GET <upstream>/api/customers/<customerId>` with a bearer header, one aiohttp session with
HttpClient's connector settings), and answers the same two outputs. No key, no database,
no plan: what is left is the server, FastAPI, aiohttp and JSON. The upstream's address comes
from BENCH_UPSTREAM.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from fastapi import FastAPI, Request
from pydantic import BaseModel

TOKEN = "bench-token-7d1f0c2a9e4b4f6b8a3c5d2e1f0a9b8c"


class Body(BaseModel):
    parameters: dict[str, Any] = {}


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    connector = aiohttp.TCPConnector(
        limit=512, limit_per_host=128, ttl_dns_cache=60, enable_cleanup_closed=True
    )
    async with aiohttp.ClientSession(
        connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False
    ) as session:
        app.state.session = session
        yield


app = FastAPI(lifespan=lifespan)
BASE = os.environ.get("BENCH_UPSTREAM", "http://127.0.0.1:9") + "/api/customers/"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}


@app.post("/api/v1/clients/{client}/apis/{api_id}/requests/{request_id}/invoke")
async def invoke(client: str, api_id: int, request_id: int, body: Body, request: Request) -> Any:
    session: aiohttp.ClientSession = request.app.state.session
    customer = int(body.parameters["customerId"])
    async with session.get(f"{BASE}{customer}", headers=HEADERS) as response:
        data = await response.json()
    record = data["customer"]
    return {"outputs": {"customerName": record["name"], "balance": record["balance"]}}
