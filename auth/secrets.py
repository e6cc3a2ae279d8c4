"""Client secrets: generated, stored only as scrypt hashes, compared in constant time.

The stored string names its own parameters (``scrypt$n$r$p$salt$hash``) so
the cost can be raised later without invalidating existing secrets.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

SCHEME = "scrypt"
N, R, P = 2**14, 8, 1  # ~16 MiB, a few tens of ms: cheap enough per token request
SALT_BYTES = 16
HASH_BYTES = 32
# Bounds on parameters read back from storage, so a tampered row cannot make
# a token request allocate gigabytes or spin for minutes.
_MAX_N, _MAX_R, _MAX_P = 2**20, 32, 16
_MAXMEM = 256 * 1024 * 1024


def new_client_secret() -> str:
    """A fresh secret: 32 random bytes (256 bits), URL-safe base64."""
    return secrets.token_urlsafe(32)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    return hashlib.scrypt(
        secret.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=dklen
    )


def hash_secret(secret: str) -> str:
    """The string to store for ``secret``, with a random salt."""
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(secret, salt, N, R, P, HASH_BYTES)
    return f"{SCHEME}${N}${R}${P}${_b64(salt)}${_b64(digest)}"


def verify_secret(secret: str, stored: str) -> bool:
    """True when ``secret`` matches ``stored``; False on mismatch or a malformed hash."""
    try:
        scheme, n_s, r_s, p_s, salt_s, hash_s = stored.split("$")
        if scheme != SCHEME:
            return False
        n, r, p = int(n_s), int(r_s), int(p_s)
        if not (1 < n <= _MAX_N and n & (n - 1) == 0 and 0 < r <= _MAX_R and 0 < p <= _MAX_P):
            return False
        salt, expected = _unb64(salt_s), _unb64(hash_s)
        if not salt or not 16 <= len(expected) <= 64:
            return False
        actual = _scrypt(secret, salt, n, r, p, len(expected))
    except (ValueError, TypeError, AttributeError, binascii.Error, MemoryError):
        return False
    return hmac.compare_digest(actual, expected)


def equalize_timing(secret: str) -> None:
    """Spend the time of one verification when the client does not exist.

    Call this instead of ``verify_secret`` for an unknown ``client_id`` so the
    response time does not reveal which client ids are registered.
    """
    try:
        _scrypt(secret, b"\x00" * SALT_BYTES, N, R, P, HASH_BYTES)
    except ValueError:  # e.g. a lone surrogate that cannot be encoded
        pass
