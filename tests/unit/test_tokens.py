"""Access-token signing and verification, including the classic JWT attacks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from auth.tokens import InvalidToken, TokenService, load_or_create_signing_key
from tests.unit.tokens_support import AUD, ISS, NOW, Clock, private_pem


def _public_pem(key_pem: bytes) -> bytes:
    key = serialization.load_pem_private_key(key_pem, password=None)
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64json(obj: dict[str, Any]) -> str:
    return _b64(json.dumps(obj).encode())


def _segments(token: str) -> list[dict[str, Any]]:
    head, body, _ = token.split(".")
    return [json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))) for s in (head, body)]


def _reason(svc: TokenService, token: Any) -> str:
    with pytest.raises(InvalidToken) as info:
        svc.verify(token)
    assert type(info.value) is InvalidToken
    return info.value.reason


def test_round_trip_keeps_claims_and_adds_registered_ones(svc: TokenService) -> None:
    token = svc.issue({"sub": "app:abc", "scope": "stock:read", "tid": 7}, ttl_seconds=300)
    claims = svc.verify(token)
    assert claims["sub"] == "app:abc"
    assert claims["scope"] == "stock:read"
    assert claims["tid"] == 7
    assert claims["iss"] == ISS
    assert claims["aud"] == AUD
    assert claims["iat"] == NOW
    assert claims["nbf"] == NOW
    assert claims["exp"] == NOW + 300
    assert isinstance(claims["jti"], str) and len(claims["jti"]) >= 16
    assert svc.verify(svc.issue({}, 300))["jti"] != claims["jti"]


def test_header_has_alg_kid_and_typ(svc: TokenService) -> None:
    header, _ = _segments(svc.issue({"sub": "x"}, 60))
    assert header == {"alg": "ES256", "kid": svc.kid, "typ": "at+jwt"}


def test_kid_is_rfc7638_thumbprint(svc: TokenService) -> None:
    jwk = svc.jwks()["keys"][0]
    canonical = json.dumps(
        {k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True
    )
    assert svc.kid == _b64(hashlib.sha256(canonical.encode()).digest())


def test_issue_refuses_to_override_registered_claims(svc: TokenService) -> None:
    with pytest.raises(ValueError):
        svc.issue({"aud": "someone-else"}, 60)
    with pytest.raises(ValueError):
        svc.issue({"sub": "x"}, 0)


def test_alg_none_rejected(svc: TokenService) -> None:
    _, payload = _segments(svc.issue({"sub": "x"}, 60))
    for header in ({"alg": "none"}, {"alg": "none", "kid": svc.kid, "typ": "at+jwt"}):
        forged = f"{_b64json(header)}.{_b64json(payload)}."
        assert "alg" in _reason(svc, forged) or "compact" in _reason(svc, forged)


def test_hs256_with_public_key_as_secret_rejected(svc: TokenService, pem: bytes) -> None:
    _, payload = _segments(svc.issue({"sub": "x"}, 60))
    header = {"alg": "HS256", "kid": svc.kid, "typ": "at+jwt"}
    signing_input = f"{_b64json(header)}.{_b64json(payload)}"
    mac = hmac.new(_public_pem(pem), signing_input.encode(), hashlib.sha256).digest()
    assert "algorithm" in _reason(svc, f"{signing_input}.{_b64(mac)}")


def test_token_from_another_key_rejected(svc: TokenService, clock: Clock) -> None:
    other = TokenService(private_pem(), ISS, AUD, clock=clock)
    assert "key id" in _reason(svc, other.issue({"sub": "x"}, 60))


def test_other_key_claiming_our_kid_rejected(svc: TokenService, clock: Clock) -> None:
    other = TokenService(private_pem(), ISS, AUD, clock=clock)
    other.kid = svc.kid  # forge the header, keep the other key's signature
    token = other.issue({"sub": "x"}, 60)
    assert _segments(token)[0]["kid"] == svc.kid
    _reason(svc, token)


def test_tampered_payload_rejected(svc: TokenService) -> None:
    head, _, sig = svc.issue({"sub": "app:a"}, 60).split(".")
    _, payload = _segments(svc.issue({"sub": "app:a"}, 60))
    payload["sub"] = "app:b"
    _reason(svc, f"{head}.{_b64json(payload)}.{sig}")


def test_expiry_with_leeway(svc: TokenService, clock: Clock) -> None:
    token = svc.issue({"sub": "x"}, ttl_seconds=60)
    clock.now = NOW + 60 + 29
    assert svc.verify(token)["sub"] == "x"
    clock.now = NOW + 60 + 31
    assert "exp" in _reason(svc, token)


def test_not_yet_valid_rejected(svc: TokenService, clock: Clock) -> None:
    token = svc.issue({"sub": "x"}, ttl_seconds=3600)
    clock.now = NOW - 120
    _reason(svc, token)


def test_wrong_audience_and_issuer_rejected(pem: bytes, clock: Clock) -> None:
    token = TokenService(pem, ISS, "other-api", clock=clock).issue({"sub": "x"}, 60)
    assert "aud" in _reason(TokenService(pem, ISS, AUD, clock=clock), token)
    token = TokenService(pem, "https://evil.test", AUD, clock=clock).issue({"sub": "x"}, 60)
    assert "iss" in _reason(TokenService(pem, ISS, AUD, clock=clock), token)


def test_missing_exp_rejected(svc: TokenService, pem: bytes) -> None:
    from joserfc import jwt
    from joserfc.jwk import ECKey

    claims = {"iss": ISS, "aud": AUD, "iat": NOW, "sub": "x"}
    header = {"alg": "ES256", "kid": svc.kid, "typ": "at+jwt"}
    token = jwt.encode(header, claims, ECKey.import_key(pem), algorithms=["ES256"])
    assert "exp" in _reason(svc, token)


def test_wrong_typ_rejected(svc: TokenService, pem: bytes) -> None:
    from joserfc import jwt
    from joserfc.jwk import ECKey

    claims = {"iss": ISS, "aud": AUD, "iat": NOW, "exp": NOW + 60}
    header = {"alg": "ES256", "kid": svc.kid, "typ": "JWT"}
    token = jwt.encode(header, claims, ECKey.import_key(pem), algorithms=["ES256"])
    assert "typ" in _reason(svc, token)


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "abc",
        "a.b.c",
        "a.b",
        "....",
        "eyJhbGciOiJFUzI1NiJ9..",
        f"{_b64json({'alg': 'ES256'})}.!!!.***",
        f"{_b64(b'[1,2]')}.{_b64json({})}.AAAA",
        f"{_b64(b'not json')}.{_b64json({})}.AAAA",
        "\udcff.\udcff.\udcff",
        "x" * 10_000,
        None,
        b"a.b.c",
        12,
    ],
)
def test_garbage_rejected_with_invalid_token(svc: TokenService, garbage: Any) -> None:
    _reason(svc, garbage)


def test_non_object_payload_with_valid_signature_rejected(svc: TokenService, pem: bytes) -> None:
    from joserfc import jws
    from joserfc.jwk import ECKey

    header = {"alg": "ES256", "kid": svc.kid, "typ": "at+jwt"}
    token = jws.serialize_compact(header, b"[1,2,3]", ECKey.import_key(pem), ["ES256"])
    _reason(svc, token)


def test_rotation_accepts_previous_key(clock: Clock) -> None:
    old_pem, new_pem = private_pem(), private_pem()
    old = TokenService(old_pem, ISS, AUD, clock=clock)
    old_token = old.issue({"sub": "x"}, 60)
    rotated = TokenService(new_pem, ISS, AUD, [_public_pem(old_pem)], clock=clock)
    assert rotated.kid != old.kid
    assert rotated.verify(old_token)["sub"] == "x"
    assert rotated.verify(rotated.issue({"sub": "y"}, 60))["sub"] == "y"
    assert _segments(rotated.issue({}, 60))[0]["kid"] == rotated.kid
    assert [k["kid"] for k in rotated.jwks()["keys"]] == [rotated.kid, old.kid]
    # Without the old key the old token is refused.
    _reason(TokenService(new_pem, ISS, AUD, clock=clock), old_token)


def test_jwks_shape(svc: TokenService) -> None:
    jwks = svc.jwks()
    assert list(jwks) == ["keys"]
    (key,) = jwks["keys"]
    assert key["kty"] == "EC"
    assert key["crv"] == "P-256"
    assert key["kid"] == svc.kid
    assert key["use"] == "sig"
    assert key["alg"] == "ES256"
    assert set(key) == {"kty", "crv", "x", "y", "kid", "use", "alg"}  # no private "d"
    json.dumps(jwks)


def test_rejects_keys_that_cannot_do_es256(pem: bytes) -> None:
    with pytest.raises(ValueError):
        TokenService(private_pem(ec.SECP384R1()), ISS, AUD)
    with pytest.raises(ValueError):
        TokenService(_public_pem(pem), ISS, AUD)
    with pytest.raises(ValueError):
        TokenService(pem, ISS, AUD, [_public_pem(private_pem(ec.SECP384R1()))])


def test_load_or_create_signing_key(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "signing.pem"
    pem = load_or_create_signing_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert list(path.parent.iterdir()) == [path]
    assert load_or_create_signing_key(path) == pem
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert key.curve.name == "secp256r1"
    svc = TokenService(pem, ISS, AUD)
    assert svc.verify(svc.issue({"sub": "x"}, 60))["sub"] == "x"
