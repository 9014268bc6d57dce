"""Which network addresses a URL from a stranger may reach.

The rule: every address a host name resolves to must be globally routable (``ip.is_global``),
unless the operator listed the host (or a CIDR containing the address) in
``fetch_allow_private_hosts``. Cloud metadata and link-local addresses are refused even then,
because reaching them from a server leaks its credentials.

Host spellings that ``ipaddress`` does not parse but the C library does ("127.1", "0x7f000001",
"2130706433", "0177.0.0.1") are read with ``inet_aton``, exactly as the connecting code would,
so a numeric trick cannot slip past as a "name".
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Always refused, allow-list or not: link-local (AWS/GCP/Azure metadata at 169.254.169.254, ECS task
# metadata at 169.254.170.2), AWS's IPv6 metadata, Alibaba's metadata, the unspecified addresses (a
# connect to 0.0.0.0 reaches the local host) and multicast.
ALWAYS_BLOCKED: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(cidr)
    for cidr in (
        "169.254.0.0/16",
        "fe80::/10",
        "fd00:ec2::254/128",
        "100.100.100.200/32",
        "0.0.0.0/32",
        "::/128",
        "224.0.0.0/4",
        "ff00::/8",
        "255.255.255.255/32",
    )
)

NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")

# name -> addresses; tests replace it (monkeypatch ``addresses.resolver``) to make a test name
# resolve to chosen addresses without touching DNS.
Resolver = Callable[[str, int], Sequence[str]]


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


resolver: Resolver = system_resolver


class AddressRefused(ValueError):
    """The host is not allowed (private, loopback, metadata...) or cannot be resolved."""


def parse_literal(host: str) -> IPAddress | None:
    """The address a host spelling denotes by itself, or None when it is a name to resolve."""
    text = host.strip("[]")
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        pass
    # inet_aton accepts the legacy spellings (short, hex, octal, one big integer) that
    # getaddrinfo and connect() also accept; reading them here keeps the two views identical.
    if text and all(c in "0123456789abcdefxABCDEFX." for c in text) and not text.endswith("."):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address tunnels to (mapped, NAT64, 6to4, Teredo), if any."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in NAT64_PREFIX:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def parse_allow_list(entries: Iterable[str]) -> tuple[frozenset[str], tuple[IPNetwork, ...]]:
    """Split ``fetch_allow_private_hosts`` into host names and networks."""
    names: set[str] = set()
    networks: list[IPNetwork] = []
    for entry in entries:
        entry = entry.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            names.add(entry.lower().rstrip("."))
    return frozenset(names), tuple(networks)


def refusal_reason(ip: IPAddress, *, host_allowed: bool, allowed_networks: Sequence[IPNetwork]) -> str | None:
    """Why ``ip`` may not be contacted, or None when it may."""
    candidates: list[IPAddress] = [ip]
    inner = embedded_ipv4(ip)
    if inner is not None:
        candidates.append(inner)
    for candidate in candidates:
        if any(candidate in net for net in ALWAYS_BLOCKED if net.version == candidate.version):
            return f"{candidate} is a link-local, metadata or otherwise reserved address"
    if host_allowed or any(ip in net for net in allowed_networks if net.version == ip.version):
        return None
    for candidate in candidates:
        if not candidate.is_global:
            return f"{candidate} is not a public address (loopback, private or reserved)"
    return None


def ascii_host(host: str) -> str:
    """The host as the resolver will see it: IDNA-mapped, so "127。0。0。1" or "①②⑦.0.0.1" are
    recognised as the numeric addresses they become, lower case, without a trailing dot."""
    bare = host.strip("[]").rstrip(".")
    if not bare.isascii():
        try:
            bare = bare.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise AddressRefused(f"invalid host name {host!r}") from exc
    return bare.lower().rstrip(".")


def resolve_checked(host: str, port: int, allow_private_hosts: Iterable[str]) -> IPAddress:
    """Resolve ``host`` once and return the address to connect to.

    Every resolved address is checked, not only the first: a name that resolves to a public and
    a loopback address is refused, since the connection could land on either.
    """
    names, networks = parse_allow_list(allow_private_hosts)
    bare = ascii_host(host)
    host_allowed = bare in names
    literal = parse_literal(bare)
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        try:
            raw = resolver(bare, port)
        except (OSError, UnicodeError) as exc:
            raise AddressRefused(f"cannot resolve host {host!r}") from exc
        addresses = []
        for text in raw:
            try:
                addresses.append(ipaddress.ip_address(str(text).split("%", 1)[0]))
            except ValueError as exc:
                raise AddressRefused(f"host {host!r} resolved to an unusable address {text!r}") from exc
        if not addresses:
            raise AddressRefused(f"host {host!r} did not resolve to any address")
    for address in addresses:
        reason = refusal_reason(address, host_allowed=host_allowed, allowed_networks=networks)
        if reason is None:
            continue
        if literal is None:
            # Say what kind of address, not which: the caller must not learn what internal
            # names resolve to by asking us to fetch them (a DNS oracle into the LAN).
            kind = "a link-local or metadata" if "metadata" in reason else "a non-public"
            raise AddressRefused(f"host {host!r} is not allowed: it resolves to {kind} address")
        raise AddressRefused(f"host {host!r} is not allowed: {reason}")
    return addresses[0]
