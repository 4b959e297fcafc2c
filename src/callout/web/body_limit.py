"""A cap on the size of request bodies, so a few large uploads cannot exhaust memory.

A body whose Content-Length passes the cap is refused before a byte of it is read; a body
sent without one (chunked) is read up to the cap and refused as soon as it passes it. Either
way the answer is 413 problem+json and at most the cap is held in memory.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callout.web.problems import problem


class BodyLimit:
    """ASGI middleware: reads each HTTP request's body (at most `limit` bytes) before the
    app runs, and hands it on whole."""

    def __init__(self, app: ASGIApp, limit: int, import_limit: int) -> None:
        self.app = app
        self.limit = limit
        self.import_limit = import_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # An import's body is a whole file (an OpenAPI description runs to megabytes).
        limit = self.import_limit if scope["path"].endswith("/import") else self.limit
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and _passes(declared, limit):
            await self._refuse(scope, receive, send, limit)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(scope, receive, send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body: Message | None = {"type": "http.request", "body": b"".join(chunks)}

        async def replay() -> Message:
            nonlocal body
            if body is None:
                return await receive()
            message, body = body, None
            return message

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = problem(
            413,
            "too-large",
            "Request body too large",
            f"the request body is larger than {limit:,} bytes, the most this route takes",
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


def _passes(declared: bytes, limit: int) -> bool:
    # Measured by its digits first: int() refuses a number of thousands of digits.
    digits = declared.lstrip(b"0")
    return len(digits) > len(str(limit)) or int(digits or b"0") > limit
