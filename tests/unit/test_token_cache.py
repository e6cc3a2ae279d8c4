"""The cache of verified tokens (auth/tokens.py): signatures once, claims every time."""

from __future__ import annotations

import base64
import json

import pytest

import auth.tokens
from auth.tokens import LEEWAY_SECONDS, InvalidToken, TokenService
from tests.unit.tokens_support import AUD, ISS, NOW, Clock, private_pem


def _refused(svc: TokenService, token: str) -> str:
    with pytest.raises(InvalidToken) as info:
        svc.verify(token)
    return info.value.reason


def _flip_signature(token: str) -> str:
    head, body, sig = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)))
    raw[-1] ^= 0x01
    return f"{head}.{body}.{base64.urlsafe_b64encode(bytes(raw)).rstrip(b'=').decode()}"


def _swap_payload(token: str, **changes: object) -> str:
    head, body, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims.update(changes)
    new_body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{head}.{new_body}.{sig}"


def test_the_clock_is_injected(svc: TokenService, clock: Clock) -> None:
    clock.now = NOW + 1234
    claims = svc.verify(svc.issue({"sub": "x"}, 60))
    assert (claims["iat"], claims["nbf"], claims["exp"]) == (NOW + 1234, NOW + 1234, NOW + 1294)


def test_a_verified_token_is_accepted_again_from_the_cache(
    svc: TokenService, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = svc.issue({"sub": "app:a", "tid": 7}, 300)
    assert token not in svc._verified
    first = svc.verify(token)
    assert token in svc._verified
    signatures: list[str] = []
    original = svc._verify_signature

    def counting(t: str) -> dict:
        signatures.append(t)
        return original(t)

    monkeypatch.setattr(svc, "_verify_signature", counting)
    second = svc.verify(token)
    assert second == first and second["sub"] == "app:a" and second["tid"] == 7
    assert signatures == []  # the signature was not checked again
    other = svc.issue({"sub": "app:b"}, 300)
    assert svc.verify(other)["sub"] == "app:b"
    assert signatures == [other]


def test_a_cached_token_is_refused_once_the_clock_passes_its_expiry(
    svc: TokenService, clock: Clock
) -> None:
    token = svc.issue({"sub": "x"}, ttl_seconds=60)
    assert svc.verify(token)["sub"] == "x"
    assert token in svc._verified
    clock.now = NOW + 60 + LEEWAY_SECONDS - 1
    assert svc.verify(token)["sub"] == "x"  # within the leeway
    clock.now = NOW + 60 + LEEWAY_SECONDS + 1
    assert "exp" in _refused(svc, token)
    assert "exp" in _refused(svc, token)  # and on every call after


def test_a_cached_token_is_refused_before_it_is_valid(svc: TokenService, clock: Clock) -> None:
    token = svc.issue({"sub": "x"}, ttl_seconds=3600)
    assert svc.verify(token)["sub"] == "x"
    clock.now = NOW - 10 * LEEWAY_SECONDS  # a clock set back
    _refused(svc, token)
    clock.now = NOW
    assert svc.verify(token)["sub"] == "x"


def test_an_expired_token_is_not_cached(svc: TokenService, clock: Clock) -> None:
    token = svc.issue({"sub": "x"}, ttl_seconds=60)
    clock.now = NOW + 3600
    assert "exp" in _refused(svc, token)
    assert token not in svc._verified


def test_a_wrong_signature_is_never_cached_or_accepted(svc: TokenService) -> None:
    good = svc.issue({"sub": "app:a"}, 300)
    assert svc.verify(good)["sub"] == "app:a"
    for forged in (
        _flip_signature(good),
        _swap_payload(good, sub="app:admin"),
        _swap_payload(good, exp=NOW + 10**6),
    ):
        for _ in range(3):
            _refused(svc, forged)
        assert forged not in svc._verified
    # a token signed by another key that claims our kid
    other = TokenService(private_pem(), ISS, AUD, clock=Clock())
    other.kid = svc.kid
    stranger = other.issue({"sub": "app:a"}, 300)
    for _ in range(2):
        _refused(svc, stranger)
    assert stranger not in svc._verified
    assert list(svc._verified) == [good]


def test_tokens_of_another_issuer_or_audience_are_refused(pem: bytes, clock: Clock) -> None:
    ours = TokenService(pem, ISS, AUD, clock=clock)
    other_aud = TokenService(pem, ISS, "another-api", clock=clock)
    other_iss = TokenService(pem, "https://evil.test", AUD, clock=clock)
    for issuer, claim in ((other_aud, "aud"), (other_iss, "iss")):
        token = issuer.issue({"sub": "x"}, 300)
        assert issuer.verify(token)["sub"] == "x"  # valid for its own service, and cached there
        for _ in range(2):
            assert claim in _refused(ours, token)
        assert token not in ours._verified
    # and ours is refused by them, although it sits verified in our cache
    token = ours.issue({"sub": "y"}, 300)
    assert ours.verify(token)["sub"] == "y"
    assert "aud" in _refused(other_aud, token)
    assert "iss" in _refused(other_iss, token)


def test_the_cache_is_bounded(svc: TokenService, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth.tokens, "VERIFIED_CACHE_SIZE", 3)
    tokens = [svc.issue({"sub": f"app:{i}"}, 300) for i in range(5)]
    for token in tokens:
        svc.verify(token)
    assert list(svc._verified) == tokens[2:]
    svc.verify(tokens[2])  # a hit moves to the end
    svc.verify(tokens[0])  # an evicted token verifies again, evicting the oldest
    assert list(svc._verified) == [tokens[4], tokens[2], tokens[0]]
    assert [svc.verify(t)["sub"] for t in tokens] == [f"app:{i}" for i in range(5)]


def test_claims_handed_out_do_not_change_the_cache(svc: TokenService) -> None:
    token = svc.issue({"sub": "app:a", "scope": "stock:read"}, 300)
    claims = svc.verify(token)
    claims["scope"] = "admin"
    claims["exp"] = NOW + 10**9
    again = svc.verify(token)
    assert again["scope"] == "stock:read"
    assert again["exp"] == NOW + 300
