"""What a webhook URL may be: ours to call, and never a carrier of credentials."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from domain.errors import InvalidInput

MAX_URL_LENGTH = 2000
FIELD = ["url"]


def _private_host(host: str) -> bool:
    """Loopback, private and link-local literals (and ``localhost``) point inside our network."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_unspecified
        or address.is_multicast
    )


def check_url(url: str, *, allow_http: bool) -> str:
    """The URL, stripped, or INVALID.

    https only unless ``allow_http`` (development); user:password@ is refused
    because the URL is shown back and logged, while the signing secret is the
    credential. Outside development, literal private addresses are refused too
    (a first line against pointing our requests at internal services).
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
    if not allow_http and _private_host(host):
        raise InvalidInput("url must point to a public host", FIELD)
    return value
