"""The outbound guard: every socket Callout opens goes to a globally routable address, or to
one the operator allowed (`CALLOUT_OUTBOUND_ALLOW`).

The guard judges the address a socket is about to connect to, not a URL's text: it runs in
the HTTP client's socket factory, after resolution, for every connection (each redirect hop,
each retry, each new pooled connection). A name that resolves to a private address, a DNS
answer that changes between two lookups, a decimal or octal spelling of 127.0.0.1: all end
as an address here, and are judged as one.

The ranges are Callout's own table (IANA's special-purpose registries, RFC 6890 and its
updates), not `ipaddress`'s `is_global`, which Python 3.11 gets wrong for some ranges (it
calls 192.0.0.0/24's 192.0.0.9 global, and misses parts of 2001::/23). Addresses that carry
an IPv4 address inside an IPv6 one (mapped, NAT64, 6to4, compatible) are judged by the IPv4
address they carry; Teredo is refused outright, as its embedded address is obfuscated. Any
other IPv6 address outside global unicast (2000::/3) is refused: IANA has allocated nothing
routable there, and older translation forms (RFC 2765's ::ffff:0:a.b.c.d) live there.
"""

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

BLOCKED: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(cidr), why)
    for cidr, why in (
        ("0.0.0.0/8", "this network (unspecified)"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "shared address space (CGNAT)"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local (cloud metadata lives here)"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "IETF protocol assignments"),
        ("192.0.2.0/24", "documentation"),
        ("192.31.196.0/24", "AS112"),
        ("192.52.193.0/24", "AMT"),
        ("192.88.99.0/24", "6to4 relay anycast"),
        ("192.168.0.0/16", "private"),
        ("192.175.48.0/24", "AS112"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("255.255.255.255/32", "broadcast"),
        ("240.0.0.0/4", "reserved"),
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("100::/64", "discard-only"),
        ("2001::/32", "Teredo"),
        ("2001:2::/48", "benchmarking"),
        ("2001:10::/28", "ORCHID"),
        ("2001:20::/28", "ORCHIDv2"),
        ("2001:db8::/32", "documentation"),
        ("3fff::/20", "documentation"),
        ("5f00::/16", "segment routing SIDs"),
        ("64:ff9b:1::/48", "local-use IPv4/IPv6 translation"),
        ("fc00::/7", "unique local (private)"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local"),
        ("ff00::/8", "multicast"),
    )
)
GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")  # IPv6 outside it is not routed on the internet
NAT64 = ipaddress.ip_network("64:ff9b::/96")
SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
COMPATIBLE = ipaddress.ip_network("::/96")


# Ranges an operator may well mean to reach (an on-premises system); a refusal into one says
# how. Link-local is not among them: cloud metadata lives there.
ON_PREMISES = ("private", "loopback", "shared address space (CGNAT)", "unique local (private)")


def advice(refusal: str) -> str:
    """What to add to a refusal (`host (why)`) so an operator knows the way through."""
    if refusal.endswith(tuple(f"{why})" for why in ON_PREMISES)):
        return (
            "; an on-premises system is let through by naming its address or host in "
            "CALLOUT_OUTBOUND_ALLOW"
        )
    return ""


class BlockedAddressError(OSError):
    """The guard refused to open a socket to this address."""


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    why: str


@dataclass
class Guard:
    """Judges addresses; `allow` holds networks the operator lets through anyway."""

    allow: tuple[IPNetwork, ...] = ()
    allow_hosts: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_entries(cls, entries: Iterable[str]) -> "Guard":
        """From CALLOUT_OUTBOUND_ALLOW's entries: CIDRs (or addresses) and host names."""
        networks: list[IPNetwork] = []
        hosts: set[str] = set()
        for entry in entries:
            network = check_entry(entry)
            if network is None:
                hosts.add(entry.strip().lower().rstrip("."))
            else:
                networks.append(network)
        return cls(tuple(networks), frozenset(hosts))

    def judge(self, address: str) -> Verdict:
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])  # a zone id is not the address
        except ValueError:
            return Verdict(False, f"{address!r} is not an IP address")
        carried = _carried(ip) if isinstance(ip, ipaddress.IPv6Address) else None
        for candidate in (ip, carried):
            if candidate is not None and any(candidate in n for n in self.allow):
                return Verdict(True, "allowed by CALLOUT_OUTBOUND_ALLOW")
        why = _blocked(ip)
        return Verdict(why is None, why or "globally routable")

    def host_allowed(self, host: str | None) -> bool:
        return host is not None and host.lower().rstrip(".") in self.allow_hosts


# A host name (`fullmatch`): labels of letters, digits, `_` and `-` (not at either end), at
# most 63 characters each and 253 in all, a trailing dot allowed. Letters may be any
# script's, as in an internationalized name (bücher.example), which resolves as its IDNA form.
HOST_NAME = re.compile(r"(?=.{1,253}\.?$)(?:\w(?:[\w-]{0,61}\w)?\.)*\w(?:[\w-]{0,61}\w)?\.?")


def check_entry(entry: str) -> IPNetwork | None:
    """An allow-list entry's network, or None for a host name; anything else is refused."""
    text = entry.strip()
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        pass
    if not HOST_NAME.fullmatch(text) or text.replace(".", "").isdigit():
        raise ValueError(f"{entry!r} is not a CIDR, an IP address or a host name")
    return None


def _blocked(ip: IPAddress) -> str | None:
    """Why no call may go to `ip`, or None when it is globally routable."""
    if isinstance(ip, ipaddress.IPv6Address):
        carried = _carried(ip)
        if carried is not None:
            why = _blocked(carried)
            return f"carries {carried}, {why}" if why else None
    for network, why in BLOCKED:
        if ip.version == network.version and ip in network:
            return why
    if isinstance(ip, ipaddress.IPv6Address) and ip not in GLOBAL_UNICAST:
        return "outside IPv6 global unicast (2000::/3)"
    return None


def _carried(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, if it is one that carries one."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in SIX_TO_FOUR:
        return ip.sixtofour
    if ip in COMPATIBLE and int(ip) > 1:  # ::a.b.c.d, deprecated but still routed by some
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


# The calls of one request note what the guard refused, so the outcome can say so even when
# the HTTP client reports only "could not connect".
refusals: ContextVar[list[str] | None] = ContextVar("callout_guard_refusals", default=None)
# A request whose URL names a host the operator allowed may connect anywhere it resolves.
host_allowed: ContextVar[bool] = ContextVar("callout_guard_host_allowed", default=False)


AddrInfo = tuple[int, int, int, str, tuple[Any, ...]]
SocketFactory = Callable[[AddrInfo], socket.socket]


def socket_factory(guard: Guard) -> SocketFactory:
    """The HTTP client's socket factory: the guard's judgement at the moment a socket opens."""

    def create(addr_info: AddrInfo) -> socket.socket:
        family, kind, proto, _, address = addr_info
        host = str(address[0])
        verdict = Verdict(True, "host allowed") if host_allowed.get() else guard.judge(host)
        if not verdict.allowed:
            noted = refusals.get()
            if noted is not None:
                noted.append(f"{host} ({verdict.why})")
            raise BlockedAddressError(f"the outbound guard refused {host}: {verdict.why}")
        return socket.socket(family=family, type=kind, proto=proto)

    return create
