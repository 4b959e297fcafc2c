"""Name resolution for tests: answers from a table, never a DNS query.

    resolver = Resolver({"metadata.google.internal": "169.254.169.254"})
    resolver.answer("rebind.test", ["127.0.0.2"], ["127.0.0.1"])  # changes per lookup
    client = HttpClient(guard, resolver=resolver)
    resolver.lookups  # ['rebind.test', ...]: every name asked, in order

Names are matched as DNS matches them: case-insensitive, a trailing dot ignored. A name may
answer several addresses (all of them, in order, as getaddrinfo would), and answers queue up
in order; when the queue is down to one, it repeats. A host that is not a name in the table
is read the way the system's getaddrinfo reads a numeric host (`AI_NUMERICHOST`: no DNS),
which takes legacy IPv4 spellings such as `0x7f.0.0.1` as 127.0.0.1; anything else is an
unknown name.
"""

import ipaddress
import socket
from collections.abc import Iterable, Mapping

from aiohttp.abc import AbstractResolver, ResolveResult

LOCALHOST = ("127.0.0.1", "::1")  # RFC 6761 section 6.3: localhost is loopback, always


class Resolver(AbstractResolver):
    def __init__(self, names: Mapping[str, str | Iterable[str]] | None = None) -> None:
        self.lookups: list[str] = []
        self._answers: dict[str, list[tuple[str, ...]]] = {"localhost": [LOCALHOST]}
        for name, addresses in (names or {}).items():
            self.answer(name, [addresses] if isinstance(addresses, str) else addresses)

    def answer(self, name: str, *answers: Iterable[str]) -> None:
        """Queue answers for `name`: each one the addresses a single lookup gives."""
        self._answers[_key(name)] = [tuple(addresses) for addresses in answers]

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.lookups.append(host)
        queue = self._answers.get(_key(host))
        if queue is None:
            return _numeric(host, port)
        addresses = queue.pop(0) if len(queue) > 1 else queue[0]
        return [_result(host, address, port) for address in addresses]

    async def close(self) -> None:
        pass


def _key(name: str) -> str:
    return name.lower().rstrip(".")


def _result(host: str, address: str, port: int) -> ResolveResult:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    return {
        "hostname": host,
        "host": address,
        "port": port,
        "family": family,
        "proto": 0,
        "flags": socket.AI_NUMERICHOST,
    }


def _numeric(host: str, port: int) -> list[ResolveResult]:
    """What getaddrinfo makes of a numeric host, asked not to look anything up."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    except socket.gaierror:
        raise OSError(f"{host}: no such name (the test resolver knows no DNS)") from None
    return [_result(host, str(address[0]), port) for *_, address in found]
