"""Access tokens: JWTs signed with an EC P-256 key (RFC 7519, RFC 9068 shape).

An asymmetric key lets anything holding the JWKS verify tokens without being
able to mint them. Verification pins the algorithm to ES256 and picks the key
by ``kid`` before looking at the signature, so ``alg: none``, HS256-with-the-
public-key and unknown-key tricks fail on the header alone.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import secrets
import tempfile
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jwt
from joserfc.jwk import ECKey

from auth.revocations import Revocations

ALGORITHM = "ES256"
TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})  # RFC 9068 §4
LEEWAY_SECONDS = 30
MAX_TOKEN_LENGTH = 8192
VERIFIED_CACHE_SIZE = 4096
VERIFIED_CACHE_BYTES = 8 * 1024 * 1024
# A cached entry: the token's text (twice: key and the claims' copy of nothing) and a
# claims dict of a dozen short strings, about 1 KB measured; rounded up.
CLAIMS_BYTES = 1024
_RESERVED_CLAIMS = frozenset({"iss", "aud", "iat", "nbf", "exp", "jti"})


class InvalidToken(Exception):
    """Any reason a token is not accepted; ``reason`` is for logs, not clients."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def load_or_create_signing_key(path: Path) -> bytes:
    """Return the PEM private key at ``path``, generating one (0600) if missing.

    The new key is written to a temporary file and hard-linked into place, so
    two processes starting together never read a half-written key and never
    overwrite each other's: the loser reads the winner's file.
    """
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".key-")  # created 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return path.read_bytes()
    finally:
        os.unlink(tmp)
    return pem


def _p256_public_pem(pem: bytes) -> bytes:
    """Public PEM of a P-256 key given as private or public PEM; else ValueError."""
    key: Any
    try:
        key = serialization.load_pem_private_key(pem, password=None).public_key()
    except (ValueError, TypeError):
        key = serialization.load_pem_public_key(pem)
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise ValueError("signing keys must be EC P-256 (ES256)")
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _entry_bytes(token: str) -> int:
    """The estimated size of one verified-token cache entry."""
    return 2 * len(token) + CLAIMS_BYTES


def _b64url_json(segment: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


class TokenService:
    """Issues and verifies access tokens for one issuer and audience."""

    def __init__(
        self,
        private_key_pem: bytes,
        issuer: str,
        audience: str,
        previous_public_keys_pem: Sequence[bytes] = (),
        *,
        clock: Callable[[], float] = time.time,
        cache_bytes: int = VERIFIED_CACHE_BYTES,
    ) -> None:
        _p256_public_pem(private_key_pem)  # reject a wrong curve or key type early
        self._signing_key = ECKey.import_key(private_key_pem)
        if not self._signing_key.is_private:
            raise ValueError("private_key_pem must hold a private key")
        self.kid = self._signing_key.thumbprint()
        self.issuer = issuer
        self.audience = audience
        self._clock = clock
        # Epochs of revoked subjects, reloaded in the background (see auth.revocations)
        self.revocations = Revocations()
        # kid -> public key; the current key first so jwks() lists it first.
        self._verify_keys: dict[str, ECKey] = {}
        # token → claims of tokens whose header and signature verified (see _verify)
        # bounded by count and by estimated bytes (tokens may be up to 8 KB each)
        self._verified: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._verified_bytes = 0
        self._cache_bytes = cache_bytes
        for pem in (private_key_pem, *previous_public_keys_pem):
            public = ECKey.import_key(_p256_public_pem(pem))
            self._verify_keys.setdefault(public.thumbprint(), public)

    def issue(self, claims: dict[str, Any], ttl_seconds: int) -> str:
        """Sign ``claims`` plus the registered claims this service owns."""
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        clash = _RESERVED_CLAIMS & claims.keys()
        if clash:
            raise ValueError(f"claims set by the token service: {sorted(clash)}")
        now = int(self._clock())
        payload = {
            **claims,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "nbf": now,
            "exp": now + ttl_seconds,
            "jti": secrets.token_urlsafe(16),
        }
        header = {"alg": ALGORITHM, "kid": self.kid, "typ": "at+jwt"}
        return jwt.encode(header, payload, self._signing_key, algorithms=[ALGORITHM])

    def verify(self, token: str, *, copied: bool = True) -> dict[str, Any]:
        """Return the claims of a valid token; raise InvalidToken for anything else.

        ``copied=False`` hands out the cached claims themselves, for a caller that only
        reads them (a deep copy per request cost more than the rest of the check)."""
        try:
            return self._verify(token, copied)
        except InvalidToken:
            raise
        except Exception as exc:  # the contract: callers only ever see InvalidToken
            raise InvalidToken(f"{type(exc).__name__}: {exc}") from exc

    def _verify(self, token: str, copied: bool = True) -> dict[str, Any]:
        """Header and signature are checked once per token (an ES256 verification is most
        of a small request's cost); the claims, expiry included, on every call."""
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken("not a token")
        claims = self._verified.get(token)
        if claims is not None:
            self._verified.move_to_end(token)
            if self.revocations.revoked(claims):
                raise InvalidToken("revoked")
            if self._still_current(claims):
                # issuer and audience were checked when it was cached; a copy, so no
                # caller can change what the next request of this token gets
                return copy.deepcopy(claims) if copied else claims
        else:
            claims = self._verify_signature(token)
        self._validate_claims(claims)
        if self.revocations.revoked(claims):
            raise InvalidToken("revoked")
        if self._verified.pop(token, None) is not None:
            self._verified_bytes -= _entry_bytes(token)
        self._verified[token] = copy.deepcopy(claims)
        self._verified_bytes += _entry_bytes(token)
        while len(self._verified) > VERIFIED_CACHE_SIZE or self._verified_bytes > self._cache_bytes:
            dropped, _ = self._verified.popitem(last=False)
            self._verified_bytes -= _entry_bytes(dropped)
        return claims

    def _still_current(self, claims: dict[str, Any]) -> bool:
        """The time claims of a token that passed every check before: within exp and nbf."""
        now = self._clock()
        exp, nbf = claims.get("exp"), claims.get("nbf")
        if not isinstance(exp, int | float) or now > exp + LEEWAY_SECONDS:
            return False
        return not (isinstance(nbf, int | float) and nbf > now + LEEWAY_SECONDS)

    def _verify_signature(self, token: str) -> dict[str, Any]:
        parts = token.split(".")
        if len(parts) != 3 or not all(parts):
            raise InvalidToken("not a compact JWS")
        header = _b64url_json(parts[0])
        if not isinstance(header, dict):
            raise InvalidToken("header is not an object")
        if header.get("alg") != ALGORITHM:
            raise InvalidToken(f"algorithm not allowed: {header.get('alg')!r}")
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() not in TOKEN_TYPES:
            raise InvalidToken("not an access token (typ)")
        kid = header.get("kid")
        key = self._verify_keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise InvalidToken("unknown key id")
        return jwt.decode(token, key, algorithms=[ALGORITHM]).claims

    def _validate_claims(self, claims: dict[str, Any]) -> None:
        registry = jwt.JWTClaimsRegistry(
            now=int(self._clock()),
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.audience},
            exp={"essential": True},
        )
        registry.validate(claims)

    def jwks(self) -> dict[str, Any]:
        """The public JWK Set served at /.well-known/jwks.json."""
        keys = [
            {**key.as_dict(private=False), "kid": kid, "use": "sig", "alg": ALGORITHM}
            for kid, key in self._verify_keys.items()
        ]
        return {"keys": keys}
