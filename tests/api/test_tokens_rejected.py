"""Forged, expired or misdirected tokens: 401 UNAUTHENTICATED and no side effect."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.jwk import ECKey

from auth.backend import app_claims
from auth.permissions import parse_scopes
from auth.tokens import TokenService
from tests.helpers import count_rows

MUTATION = """mutation($loc: ID!) { adjustStock(input: {locationId: $loc, sku: "A", delta: 5,
  reason: FOUND}) { stockLevels { onHand } userErrors { code } } }"""


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _claims(tenant) -> dict:
    return app_claims(tenant.tenant_id, "forged", parse_scopes("stock:read stock:write"), None)


def _other_key() -> bytes:
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def forged_tokens(server, tenant) -> dict[str, str]:
    claims = _claims(tenant)
    now = int(time.time())
    full = {**claims, "iss": server.url, "aud": "stockgraph-api", "iat": now, "exp": now + 600}
    ours = TokenService(server.signing_key, server.url, "stockgraph-api")
    expired = TokenService(
        server.signing_key, server.url, "stockgraph-api", clock=lambda: time.time() - 7200
    ).issue(claims, 600)
    wrong_key = TokenService(_other_key(), server.url, "stockgraph-api").issue(claims, 600)
    wrong_aud = TokenService(server.signing_key, server.url, "another-api").issue(claims, 600)
    wrong_iss = TokenService(server.signing_key, "evil", "stockgraph-api").issue(claims, 600)
    none_alg = f"{_b64({'alg': 'none', 'typ': 'at+jwt', 'kid': ours.kid})}.{_b64(full)}."
    public_pem = ECKey.import_key(server.signing_key).as_pem(private=False)
    signing_input = f"{_b64({'alg': 'HS256', 'typ': 'at+jwt', 'kid': ours.kid})}.{_b64(full)}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    hs256 = f"{signing_input}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"
    return {
        "alg none": none_alg,
        "wrong key": wrong_key,
        "expired": expired,
        "wrong audience": wrong_aud,
        "wrong issuer": wrong_iss,
        "hs256 with public key": hs256,
        "garbage": "abc.def.ghi",
    }


@pytest.mark.parametrize(
    "case",
    [
        "alg none",
        "wrong key",
        "expired",
        "wrong audience",
        "wrong issuer",
        "hs256 with public key",
        "garbage",
    ],
)
async def test_bad_tokens_are_unauthenticated_without_side_effects(server, tenant, case):
    token = forged_tokens(server, tenant)[case]
    before = await count_rows(tenant.db, "stock_movements", tenant.tenant_id)
    audit_before = await count_rows(tenant.db, "audit_events", tenant.tenant_id)
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.post(
            "/graphql",
            json={"query": MUTATION, "variables": {"loc": tenant.loc("S1")}},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 401, case
    body = response.json()
    assert "data" not in body  # a request error has no data entry
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await count_rows(tenant.db, "stock_movements", tenant.tenant_id) == before
    assert await count_rows(tenant.db, "audit_events", tenant.tenant_id) == audit_before


async def test_a_good_token_is_accepted_as_control(server, tenant):
    token = TokenService(server.signing_key, server.url, "stockgraph-api").issue(
        _claims(tenant), 600
    )
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.post(
            "/graphql",
            json={"query": MUTATION, "variables": {"loc": tenant.loc("S1")}},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200
    assert response.json()["data"]["adjustStock"]["stockLevels"] == [{"onHand": 5}]
