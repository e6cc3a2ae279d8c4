"""Client secrets: generated, stored only as keyed hashes, compared in constant time.

A client secret is 256 random bits, not a password: nobody can guess it, so
a slow password KDF buys nothing and hands anyone who sends wrong secrets a
cheap way to burn our CPU and memory (scrypt costs ~16 MiB and tens of
milliseconds per try). Secrets are stored as ``hmac-sha256$<key id>$<digest>``:
HMAC-SHA256 under a server-side key derived from the data key, so a stolen
table alone cannot even confirm a guess. A try costs about a microsecond.

Hashes of the older ``scrypt$n$r$p$salt$hash`` form keep working;
``check_secret`` says when a successful check should replace one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass

SCHEME = "hmac-sha256"
LEGACY_SCHEME = "scrypt"
N, R, P = 2**14, 8, 1  # the legacy scrypt cost, for hashes made before the keyed form
SALT_BYTES = 16
HASH_BYTES = 32
# Bounds on parameters read back from storage, so a tampered row cannot make
# a token request allocate gigabytes or spin for minutes.
_MAX_N, _MAX_R, _MAX_P = 2**20, 32, 16
_MAXMEM = 256 * 1024 * 1024
_KEY_LABEL = b"stockgraph/client-secret-hash/v1"


@dataclass(frozen=True, slots=True)
class Verdict:
    """The result of a check; ``rehash`` is the keyed hash to store instead, if any."""

    ok: bool
    rehash: str | None = None


def new_client_secret() -> str:
    """A fresh secret: 32 random bytes (256 bits), URL-safe base64."""
    return secrets.token_urlsafe(32)


def hashing_key(master: bytes) -> bytes:
    """The key client secrets are hashed under, derived from the data (master) key."""
    return hmac.new(master, _KEY_LABEL, hashlib.sha256).digest()


def _key_id(key: bytes) -> str:
    return hmac.new(key, b"key-id", hashlib.sha256).hexdigest()[:8]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, secret: str) -> bytes:
    return hmac.new(key, secret.encode("utf-8"), hashlib.sha256).digest()


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    return hashlib.scrypt(
        secret.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=dklen
    )


def hash_secret(secret: str, key: bytes | None = None) -> str:
    """The string to store for ``secret``: keyed when a key is given.

    Without a key (code that has no data key at hand), the legacy scrypt form,
    which the token endpoint replaces with the keyed one at the first success.
    """
    if key is not None:
        return f"{SCHEME}${_key_id(key)}${_b64(_mac(key, secret))}"
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(secret, salt, N, R, P, HASH_BYTES)
    return f"{LEGACY_SCHEME}${N}${R}${P}${_b64(salt)}${_b64(digest)}"


def _check_keyed(secret: str, rest: list[str], key: bytes | None) -> bool:
    if key is None or len(rest) != 2 or rest[0] != _key_id(key):
        return False
    return hmac.compare_digest(_mac(key, secret), _unb64(rest[1]))


def _check_scrypt(secret: str, rest: list[str]) -> bool:
    n_s, r_s, p_s, salt_s, hash_s = rest
    n, r, p = int(n_s), int(r_s), int(p_s)
    if not (1 < n <= _MAX_N and n & (n - 1) == 0 and 0 < r <= _MAX_R and 0 < p <= _MAX_P):
        return False
    salt, expected = _unb64(salt_s), _unb64(hash_s)
    if not salt or not 16 <= len(expected) <= 64:
        return False
    return hmac.compare_digest(_scrypt(secret, salt, n, r, p, len(expected)), expected)


def check_secret(secret: str, stored: str, key: bytes | None = None) -> Verdict:
    """Does ``secret`` match ``stored``? A legacy match comes with its keyed rehash."""
    try:
        scheme, *rest = stored.split("$")
        if scheme == SCHEME:
            return Verdict(_check_keyed(secret, rest, key))
        if scheme == LEGACY_SCHEME and _check_scrypt(secret, rest):
            return Verdict(True, hash_secret(secret, key) if key is not None else None)
    except (ValueError, TypeError, AttributeError, binascii.Error, MemoryError):
        pass
    return Verdict(False)


def verify_secret(secret: str, stored: str, key: bytes | None = None) -> bool:
    """True when ``secret`` matches ``stored``; False on mismatch or a malformed hash."""
    return check_secret(secret, stored, key).ok


def equalize_timing(secret: str, key: bytes | None = None) -> None:
    """Spend the time of one keyed verification when the client does not exist.

    Call this instead of ``check_secret`` for an unknown ``client_id`` so the
    response time does not reveal which client ids are registered.
    """
    try:
        _mac(key or b"\x00" * 32, secret)
    except ValueError:  # e.g. a lone surrogate that cannot be encoded
        pass
