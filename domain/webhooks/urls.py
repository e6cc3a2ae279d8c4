"""What a webhook URL may be: ours to call, and never a carrier of credentials.

Two guards keep our requests out of our own network. At registration
(``check_url``) an address written into the URL is read the way the C
resolver reads it (``127.1``, ``2130706433``, ``0x7f000001``, ``0177.0.0.1``,
``0``, a trailing dot, IPv6 with embedded IPv4) and refused unless it is a
global unicast address; numeric spellings other than the four decimal parts
are refused outright. At connection time (``domain.webhooks.egress``) every
address a name resolves to is checked again and the connection goes to the
checked address, so a name that resolves inside, or changes its answer
between the check and the connection (DNS rebinding), gets nowhere.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from domain.errors import InvalidInput

MAX_URL_LENGTH = 2000
FIELD = ["url"]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# IPv6 prefixes that carry an IPv4 address in their last 32 bits (NAT64, RFC 6052/8215).
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_INTERNAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address inside an IPv4-mapped, IPv4-compatible, 6to4, Teredo or NAT64 one."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if any(address in net for net in _NAT64) or (
        int(address) >> 32 == 0 and int(address) > 1  # ::a.b.c.d, deprecated compatible form
    ):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def internal_address(address: IPAddress) -> bool:
    """Anything but a global unicast address: loopback, private, link-local (cloud
    metadata), shared, unspecified, multicast, reserved, documentation, and IPv6
    forms that embed one of those."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return True
        inner = _embedded_ipv4(address)
        if inner is not None and internal_address(inner):
            return True
    return address.is_multicast or not address.is_global


def numeric_host(host: str) -> IPAddress | None:
    """The address a host written as a number names, in any spelling the resolver
    accepts; None for a name."""
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    bare = bare.rstrip(".") if not bare.endswith("..") else bare
    try:
        return ipaddress.ip_address(bare.split("%", 1)[0] if ":" in bare else bare)
    except ValueError:
        pass
    if ":" in bare:
        return None
    try:
        packed = socket.inet_aton(bare)  # 127.1, 2130706433, 0x7f000001, 0177.0.0.1, 0
    except (OSError, ValueError):
        return None
    return ipaddress.IPv4Address(packed)


def _canonical_ipv4(host: str) -> bool:
    parts = host.split(".")
    return len(parts) == 4 and all(p.isdigit() and str(int(p)) == p for p in parts)


def _internal_host(host: str) -> str | None:
    """Why ``host`` points inside our network, or None."""
    name = host.rstrip(".")
    if name in _INTERNAL_NAMES or name.endswith(".localhost") or not name:
        return "url must point to a public host"
    address = numeric_host(host)
    if address is None:
        return None
    if isinstance(address, ipaddress.IPv4Address) and not _canonical_ipv4(host):
        return "write an IPv4 address as four decimal numbers"
    if internal_address(address):
        return "url must point to a public host"
    return None


def check_url(url: str, *, allow_http: bool) -> str:
    """The URL, stripped, or INVALID.

    https only unless ``allow_http`` (development); user:password@ is refused
    because the URL is shown back and logged, while the signing secret is the
    credential. Outside development, addresses inside our network are refused
    in every spelling (see the module docstring).
    """
    value = url.strip()
    if not value or len(value) > MAX_URL_LENGTH:
        raise InvalidInput(f"url must be 1 to {MAX_URL_LENGTH} characters", FIELD)
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        raise InvalidInput("url must not contain spaces or control characters", FIELD)
    parts = urlsplit(value)
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme.lower() not in schemes:
        allowed = " or ".join(f"{s}://" for s in schemes)
        raise InvalidInput(f"url must start with {allowed}", FIELD)
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise InvalidInput("url must not contain credentials; verify the signature instead", FIELD)
    host = (parts.hostname or "").lower()
    if not host:
        raise InvalidInput("url needs a host", FIELD)
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise InvalidInput("url has an invalid port", FIELD) from None
    if parts.fragment:
        raise InvalidInput("url must not have a #fragment", FIELD)
    if not allow_http:
        reason = _internal_host(host)
        if reason is not None:
            raise InvalidInput(reason, FIELD)
    return value
