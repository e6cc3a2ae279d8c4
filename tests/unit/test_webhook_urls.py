"""Webhook and notification URLs cannot reach inside: every spelling of an internal
address is refused at registration, and at connection time every resolved address
is checked and the socket goes to the checked one (no second lookup to rebind)."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator

import httpx
import pytest

from domain.errors import InvalidInput
from domain.webhooks import egress
from domain.webhooks.urls import check_url, internal_address

INTERNAL_HOSTS = [
    "127.0.0.1",
    "127.1",
    "2130706433",
    "0x7f000001",
    "0x7F.0.0.1",
    "0177.0.0.1",
    "017700000001",
    "0",
    "0.0.0.0",
    "10.1",
    "10.0.0.1",
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",  # carrier-grade NAT
    "169.254.169.254",  # cloud metadata
    "169.254.169.254.",  # trailing dot
    "224.0.0.1",
    "255.255.255.255",
    "localhost",
    "localhost.",
    "api.localhost",
    "[::1]",
    "[::]",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "[::ffff:169.254.169.254]",
    "[fd00::1]",
    "[fe80::1]",
    "[fe80::1%25eth0]",
    "[ff02::1]",
    "[64:ff9b::a9fe:a9fe]",  # NAT64 of 169.254.169.254
    "[2002:7f00:1::]",  # 6to4 of 127.0.0.1
    "[::127.0.0.1]",
]


@pytest.mark.parametrize("host", INTERNAL_HOSTS)
def test_every_spelling_of_an_internal_address_is_refused_in_production(host: str) -> None:
    for url in (f"https://{host}/hook", f"https://{host}:8443/hook"):
        with pytest.raises(InvalidInput) as refused:
            check_url(url, allow_http=False)
        assert refused.value.code == "INVALID" and refused.value.field == ["url"]


@pytest.mark.parametrize(
    "url",
    ["https://example.com/hook", "https://93.184.216.34/x", "https://[2606:4700::1111]/x"],
)
def test_public_hosts_are_accepted(url: str) -> None:
    assert check_url(url, allow_http=False) == url


def test_development_allows_local_receivers() -> None:
    assert check_url("http://127.0.0.1:9000/hook", allow_http=True)


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.9.9.9", "::1", "::ffff:10.0.0.1", "64:ff9b::7f00:1", "2001:db8::1"],
)
def test_internal_address_predicate(address: str) -> None:
    assert internal_address(ipaddress.ip_address(address))


async def _serve() -> tuple[asyncio.AbstractServer, int]:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


@pytest.fixture
async def local_port() -> AsyncIterator[int]:
    server, port = await _serve()
    yield port
    server.close()
    await server.wait_closed()


@pytest.mark.parametrize(
    "host", ["127.1", "2130706433", "0x7f000001", "0", "localhost", "[::1]", "[::ffff:127.0.0.1]"]
)
async def test_the_guarded_transport_never_connects_inside(local_port: int, host: str) -> None:
    async with httpx.AsyncClient(transport=egress.GuardedTransport()) as client:
        # control: the same server answers an unguarded client
        async with httpx.AsyncClient() as plain:
            assert (await plain.get(f"http://127.0.0.1:{local_port}/")).status_code == 200
        with pytest.raises(httpx.ConnectError, match="not public"):
            await client.get(f"http://{host}:{local_port}/")


async def test_an_octal_address_does_not_even_parse_as_a_url(local_port: int) -> None:
    async with httpx.AsyncClient(transport=egress.GuardedTransport()) as client:
        with pytest.raises(httpx.InvalidURL):
            await client.get(f"http://0177.0.0.1:{local_port}/")


class Rebinding:
    """A name whose answer changes after the first lookup, as in DNS rebinding."""

    def __init__(self, *answers: str) -> None:
        self.answers = [ipaddress.ip_address(a) for a in answers]
        self.calls = 0

    async def __call__(self, host: str, port: int) -> list[egress.IPAddress]:
        answer = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        return [answer]


async def test_a_name_resolving_inside_is_refused_whatever_it_is_called() -> None:
    resolver = Rebinding("10.0.0.7")
    async with httpx.AsyncClient(transport=egress.GuardedTransport(resolver)) as client:
        with pytest.raises(httpx.ConnectError, match="not public"):
            await client.get("https://hooks.partner.example/x")
    assert resolver.calls == 1


async def test_a_mixed_answer_is_refused_as_a_whole() -> None:
    async def mixed(host: str, port: int) -> list[egress.IPAddress]:
        return [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("127.0.0.1")]

    async with httpx.AsyncClient(transport=egress.GuardedTransport(mixed)) as client:
        with pytest.raises(httpx.ConnectError, match="not public"):
            await client.get("https://hooks.partner.example/x")


async def test_the_socket_goes_to_the_checked_address_without_a_second_lookup(
    local_port: int,
) -> None:
    """The check passes on the first answer; a rebinding second answer is never asked for.
    (Here the 'public' first answer is our loopback receiver, checked by a backend whose
    predicate treats it as public, so that a real socket can be observed.)"""
    resolver = Rebinding("127.0.0.1", "10.0.0.7")
    backend = egress.GuardedBackend(resolver, is_internal=lambda a: str(a) != "127.0.0.1")
    transport = egress.GuardedTransport(resolver)
    transport._pool._network_backend = backend  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=transport) as client:
        response = await client.get(f"http://hooks.partner.example:{local_port}/")
    assert response.status_code == 200 and response.text == "ok"
    assert resolver.calls == 1
