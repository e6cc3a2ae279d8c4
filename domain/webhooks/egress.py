"""Outgoing HTTP for webhooks and notifications that cannot be pointed inside our network.

The check happens where the connection is made: the host is resolved once, every
address it resolves to is checked (``urls.internal_address``), and the socket is
opened to one of those checked addresses, never to the name. A name that
resolves to any internal address is refused as a whole, so a round-robin answer
mixing public and private addresses gets nowhere, and so does DNS rebinding (a
different answer between a check and the connection): there is no second
lookup. TLS still verifies the certificate against the URL's host name
(httpcore takes the server name from the request's origin, not from the socket).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import httpcore
import httpx

from domain.webhooks.urls import IPAddress, internal_address

Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]


class BlockedAddress(httpcore.ConnectError):
    """The host is, or resolves to, an address inside our network."""


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to, for a TCP connection (the system resolver)."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    found: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    return found


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting only to checked global addresses."""

    def __init__(
        self,
        resolver: Resolver = resolve,
        is_internal: Callable[[IPAddress], bool] = internal_address,
    ) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._resolve = resolver
        self._is_internal = is_internal

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await self._resolve(host, port)
        except (OSError, UnicodeError, ValueError) as exc:
            raise httpcore.ConnectError(f"cannot resolve the host: {type(exc).__name__}") from None
        if not addresses:
            raise httpcore.ConnectError("the host has no address")
        if any(self._is_internal(a) for a in addresses):
            raise BlockedAddress("the host resolves to an address that is not public")
        error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedAddress("unix sockets are not a webhook destination")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with the guarded backend under its connection pool.

    httpx 0.29 has no parameter for the backend, so the pool it builds is replaced
    by an identical one that has it (``_pool`` is what ``handle_async_request``
    sends through); tests in ``tests/unit/test_webhook_urls.py`` hold this in place.
    """

    def __init__(self, resolver: Resolver = resolve) -> None:
        super().__init__(trust_env=False)
        limits = httpx.Limits()
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(resolver),
        )


def transport(*, allow_internal: bool) -> httpx.AsyncBaseTransport:
    """The transport outgoing deliveries use: guarded unless internal targets are
    allowed (development, where receivers run on this machine)."""
    return httpx.AsyncHTTPTransport(trust_env=False) if allow_internal else GuardedTransport()
