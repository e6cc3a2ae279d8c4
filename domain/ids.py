"""Opaque global IDs that say nothing about other tenants' activity.

Primary keys are numbered across all tenants, so a readable ``Type:pk`` would let
a tenant count the rows every other tenant creates between two of its own. An
integer key is therefore encrypted as one AES block (the key's 8 bytes and 8 zero
bytes, which decoding checks) before it is encoded: ``base64url(type + "." + 16
bytes)``; one block costs about half a microsecond. Consecutive keys give unrelated
IDs, and the IDs cannot be turned back into keys without the ID key. The type
name stays inside, so IDs of two types never collide.

The key is the deployment's (``configure``; ``STOCKGRAPH_ID_KEY``, or derived from
the data key in production) and must never change: clients store IDs. IDs of the
earlier readable form (``base64url("Type:pk")``) are still accepted on input.
Non-numeric keys keep the readable form.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

_URLSAFE = bytes.maketrans(b"+/", b"-_")
MAX_ID_LENGTH = 200  # far longer than any ID we hand out
_DEVELOPMENT_KEY = hashlib.sha256(b"stockgraph/development-id-key").digest()
_TAIL = bytes(8)  # the block is pk (8 bytes) and 8 zero bytes, checked on decode


def _block_cipher(key: bytes) -> Cipher[modes.ECB]:
    # One block per call, never a message: AES itself as a keyed permutation, which is
    # what single-block ECB is (the warning is about multi-block messages).
    return Cipher(algorithms.AES(hashlib.sha256(key).digest()[:16]), modes.ECB())  # noqa: S305


_encryptor = _block_cipher(_DEVELOPMENT_KEY).encryptor()
_decryptor = _block_cipher(_DEVELOPMENT_KEY).decryptor()


def configure(key: bytes) -> None:
    """Use ``key`` (at least 16 bytes) for every ID this process encodes and decodes."""
    global _encryptor, _decryptor
    if len(key) < 16:
        raise ValueError("the ID key must be at least 16 bytes")
    cipher = _block_cipher(key)
    _encryptor, _decryptor = cipher.encryptor(), cipher.decryptor()
    encode.cache_clear()


def permute(value: int) -> bytes:
    """The keyed permutation of a key below 2**63: one AES block, 16 bytes."""
    return _encryptor.update(value.to_bytes(8, "big") + _TAIL)


def unpermute(block: bytes) -> int | None:
    """The key inside a block from ``permute``; None for any other 16 bytes."""
    if len(block) != 16:
        return None
    plain = _decryptor.update(block)
    if plain[8:] != _TAIL:
        return None
    value = int.from_bytes(plain[:8], "big")
    return value if value < 2**63 else None


def _b64(raw: bytes) -> str:
    return binascii.b2a_base64(raw, newline=False).translate(_URLSAFE).rstrip(b"=").decode()


def _numeric(pk: int | str) -> int | None:
    if isinstance(pk, int) and not isinstance(pk, bool):
        return pk if 0 <= pk < 2**63 else None
    text = str(pk)
    if text.isascii() and text.isdigit() and not text.startswith("0") and len(text) <= 19:
        value = int(text)
        return value if value < 2**63 else None
    return None


def _legacy(type_name: str, pk: int | str) -> str:
    return _b64(f"{type_name}:{pk}".encode())


def _encode(type_name: str, pk: int | str) -> str:
    number = _numeric(pk)
    if number is None:
        return _legacy(type_name, pk)
    return _b64(type_name.encode() + b"." + permute(number))


# Cached for the IDs we hand out (the same rows are listed again and again); decode
# checks IDs that callers send with the uncached one, so they never fill this cache.
encode = functools.lru_cache(maxsize=65_536)(_encode)


def decode(global_id: str) -> tuple[str, str] | None:
    """(type, pk) or None when the ID is not one of ours."""
    if len(global_id) > MAX_ID_LENGTH:
        return None
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii"))
    except (binascii.Error, UnicodeError, ValueError):
        return None
    type_bytes, dot, packed = raw.partition(b".")
    if dot and len(packed) == 16 and type_bytes.isascii() and type_bytes.isalnum():
        pk = unpermute(packed)
        if pk is None:
            return None
        type_name = type_bytes.decode()
        return (type_name, str(pk)) if _encode(type_name, pk) == global_id else None
    try:
        text = raw.decode()
    except UnicodeError:
        return None
    type_name, sep, pk_text = text.partition(":")
    if not sep or not type_name or not pk_text or _legacy(type_name, pk_text) != global_id:
        return None  # only the spellings we hand out (or handed out before) are accepted
    return type_name, pk_text


def decode_int(global_id: str, type_name: str) -> int | None:
    """The integer pk of an ID of ``type_name``, or None for anything else."""
    parsed = decode(global_id)
    if parsed is None or parsed[0] != type_name:
        return None
    digits = parsed[1]
    if not digits.isascii() or not digits.isdigit() or digits.startswith("0"):
        return None
    value = int(digits)
    return value if value < 2**63 else None


def encode_scoped(type_name: str, tenant_id: int, pk: int) -> str:
    """For rows numbered per tenant (audit events): the tenant is part of the ID."""
    return encode(type_name, f"{permute(tenant_id).hex()}-{pk}")


def decode_scoped(global_id: str, type_name: str) -> tuple[int, int] | None:
    parsed = decode(global_id)
    if parsed is None or parsed[0] != type_name:
        return None
    tenant, sep, pk = parsed[1].partition("-")
    if not sep or not pk.isascii() or not pk.isdigit() or pk.startswith("0"):
        return None
    try:
        tenant_id = unpermute(bytes.fromhex(tenant)) if len(tenant) == 32 else None
    except ValueError:
        return None
    if tenant_id is None or tenant_id == 0 or permute(tenant_id).hex() != tenant:
        return None
    return tenant_id, int(pk)
