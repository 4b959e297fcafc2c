"""Upstreams that misbehave, as plain asyncio servers on loopback speaking raw bytes, so they
can do what no well-behaved HTTP server would.

    async with Faulty(respond(200, b"ok"), oversized(64_000)) as peer:
        ... call f"{peer.url}/api/customers/7" ...
        peer.connections   # TCP connections accepted
        peer.requests      # request heads read, in order

Each answer is an `async (reader, writer) -> bool` that writes one response and says whether
the connection stays open for the next request. Answers are taken in order, one per request;
the last one repeats. Answers that never end (`hang`, `drip`) stop when the client gives up
or when the peer is closed.

    hang()                 accepts, reads the request, never answers
    drip(every)            status and headers, then one body byte every `every` seconds
    reset()                reads the request, then closes with a TCP RST
    garbage()              bytes that are not HTTP
    respond(status, body)  a plain answer, keep-alive
    oversized(size)        a body of `size` bytes, with Content-Length or chunked
    compressed(body)       Content-Encoding: gzip over bytes compressed beforehand
    headers(lines)         a 200 carrying the given header lines
"""

import asyncio
import contextlib
import socket
import struct
import zlib
from collections.abc import Awaitable, Callable, Iterable

Answer = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[bool]]
HEAD_END = b"\r\n\r\n"


class Faulty:
    def __init__(self, *answers: Answer) -> None:
        assert answers, "a peer needs at least one answer"
        self._answers = list(answers)
        self.connections = 0
        self.requests: list[bytes] = []
        self.url = ""
        self.port = 0
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    def _next(self) -> Answer:
        return self._answers.pop(0) if len(self._answers) > 1 else self._answers[0]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(HEAD_END)
                self.requests.append(head)
                length = _content_length(head)
                if length:
                    await reader.readexactly(length)
                if not await self._next()(reader, writer):
                    break
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass  # the client went away: what a faulty peer expects
        except asyncio.CancelledError:
            pass  # the peer is closing (see __aexit__): end quietly, nothing waits on this
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()
            self._handlers.discard(task)

    async def __aenter__(self) -> "Faulty":
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._handlers):  # a hanging or dripping answer would wait forever
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return 0


def _head(status: int, *lines: str) -> bytes:
    return "\r\n".join([f"HTTP/1.1 {status} X", *lines, "", ""]).encode("latin-1")


def respond(status: int = 200, body: bytes = b"ok", *lines: str) -> Answer:
    async def answer(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        writer.write(_head(status, f"Content-Length: {len(body)}", *lines) + body)
        await writer.drain()
        return True

    return answer


def hang() -> Answer:
    async def answer(reader: asyncio.StreamReader, _: asyncio.StreamWriter) -> bool:
        await reader.read()  # until the client gives up and closes
        return False

    return answer


def drip(every: float = 0.1, length: int = 1000) -> Answer:
    async def answer(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        writer.write(_head(200, f"Content-Length: {length}", "Content-Type: text/plain"))
        for _byte in range(length):
            await writer.drain()
            await asyncio.sleep(every)
            writer.write(b"x")
        return False

    return answer


def reset() -> Answer:
    async def answer(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        sock = writer.get_extra_info("socket")
        # SO_LINGER on, zero seconds: close() sends RST instead of FIN.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()
        return False

    return answer


def garbage() -> Answer:
    async def answer(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"\x00\x01\x02 SSH-2.0-OpenSSH_9.6 this is not HTTP\r\n\r\n")
        await writer.drain()
        return False

    return answer


def oversized(size: int, *, chunked: bool = False, chunk: int = 16 * 1024) -> Answer:
    """A body of `size` bytes: announced by Content-Length, or chunked with no length."""

    async def answer(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}"
        writer.write(_head(200, framing, "Content-Type: application/octet-stream"))
        left = size
        while left:
            piece = b"x" * min(chunk, left)
            left -= len(piece)
            writer.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            await writer.drain()
        if chunked:
            writer.write(b"0\r\n\r\n")
        await writer.drain()
        return True

    return answer


def compressed(body: bytes, encoding: str = "gzip") -> Answer:
    async def answer(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        lines = (f"Content-Length: {len(body)}", f"Content-Encoding: {encoding}")
        writer.write(_head(200, *lines, "Content-Type: text/plain") + body)
        await writer.drain()
        return True

    return answer


def headers(lines: Iterable[str]) -> Answer:
    async def answer(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        writer.write(_head(200, *lines, "Content-Length: 2") + b"ok")
        await writer.drain()
        return True

    return answer


def gzip_of_zeros(size: int, piece: int = 1024 * 1024) -> bytes:
    """`size` zero bytes, gzip-compressed piece by piece (never all in memory at once)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # 16+: gzip framing
    zeros = bytes(piece)
    parts = [compressor.compress(zeros) for _ in range(size // piece)]
    parts.append(compressor.flush())
    return b"".join(parts)
