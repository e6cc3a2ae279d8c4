"""Fixtures of the token tests: a fresh key, a settable clock, a token service on both."""

from __future__ import annotations

import pytest

from auth.tokens import TokenService
from tests.unit.tokens_support import AUD, ISS, Clock, private_pem


@pytest.fixture
def pem() -> bytes:
    return private_pem()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def svc(pem: bytes, clock: Clock) -> TokenService:
    return TokenService(pem, ISS, AUD, clock=clock)
