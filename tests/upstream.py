"""A real HTTP server on loopback that records what it receives and answers as told.

    async with Upstream() as upstream:
        upstream.answer(200, {"name": "Ann"})            # JSON, or bytes/str with headers
        ... call f"{upstream.url}/api/customers/7" ...
        upstream.received[0].raw_path  # '/api/customers/7'

Answers queue up in order; when the queue is empty the last one repeats. `delay` holds the
answer back (for deadlines); `echo()` answers with the request itself as JSON. `busiest` is
the most requests it was answering at once.
"""

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.loopback import LoopbackServer


@dataclass(frozen=True)
class Seen:
    method: str
    raw_path: str  # as it came on the wire, percent-encoding kept
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for n, v in self.headers if n.lower() == name.lower()), None)


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    echo: bool = False


class Upstream(LoopbackServer):
    def __init__(self) -> None:
        self.received: list[Seen] = []
        self.busy = self.busiest = 0  # requests being answered now, and the most at once
        self._answers: list[Answer] = []  # none queued: echo

    def answer(
        self,
        status: int = 200,
        body: Any = b"",
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
    ) -> None:
        """Queue an answer: a dict or list goes as JSON, a str as UTF-8 text."""
        found_headers = dict(headers or {})
        if isinstance(body, dict | list):
            body = json.dumps(body).encode()
            found_headers.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            body = body.encode()
        self._answers.append(Answer(status, body, found_headers, delay))

    def echo(self) -> None:
        self._answers.append(Answer(echo=True))

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.busy += 1
        self.busiest = max(self.busiest, self.busy)
        try:
            return await self._answer(request)
        finally:
            self.busy -= 1

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        seen = Seen(
            request.method, request.raw_path, list(request.headers.items()), await request.read()
        )
        self.received.append(seen)
        if len(self._answers) > 1:
            answer = self._answers.pop(0)
        else:
            answer = self._answers[0] if self._answers else Answer(echo=True)
        if answer.delay:
            await asyncio.sleep(answer.delay)
        if answer.echo:
            return web.json_response(
                {
                    "method": seen.method,
                    "raw_path": seen.raw_path,
                    "headers": dict(seen.headers),
                    "body": seen.body.decode("utf-8", "replace"),
                }
            )
        return web.Response(status=answer.status, body=answer.body, headers=answer.headers)

    def route(self, app: web.Application) -> None:
        # Any path, newlines included: a hostile test may send `%0D%0A` and must be heard.
        app.router.add_route("*", r"/{tail:[\s\S]*}", self._handle)
