"""Envelope encryption of members' personal data, and the phone blind index. Pure.

Key hierarchy (every key is 32 random bytes unless said otherwise):

- the **master key** comes from ``STOCKGRAPH_DATA_KEY`` (or a file generated under
  ``$STOCKGRAPH_HOME`` in development); it only wraps tenant keys;
- per tenant, a **data key** and a separate **index key**, each wrapped by the
  master key (AES-256-GCM, associated data naming the tenant and the purpose);
- per member, a **member key**, wrapped by the tenant's data key (AES-256-GCM,
  associated data naming the tenant and the member); deleting it is erasure;
- each personal field is sealed with the member key (AES-256-GCM) under
  associated data binding tenant, table, column and row, so a ciphertext moved
  to another row, column, table or tenant no longer opens.

Sealed blobs are ``version byte (1) || nonce (12) || ciphertext || tag (16)``.
The blind index is HMAC-SHA256(index key, normalised E.164 phone): the same
phone gives different index values in different tenants.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import tempfile
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = b"\x01"
NONCE_BYTES = 12
KEY_BYTES = 32
PREFIX = "stockgraph/v1"


class CryptoError(Exception):
    """A blob that does not open: wrong key, wrong associated data, or tampered."""


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def parse_master_key(value: str) -> bytes:
    """32 bytes given as 64 hex digits or base64 (standard or URL-safe, padding optional)."""
    text = value.strip()
    if len(text) == 64:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    try:
        raw = base64.urlsafe_b64decode(
            text.replace("+", "-").replace("/", "_") + "=" * (-len(text) % 4)
        )
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != KEY_BYTES:
        raise ValueError("STOCKGRAPH_DATA_KEY must be 32 bytes, as 64 hex digits or base64")
    return raw


def load_or_create_master_key(path: Path) -> bytes:
    """The key in ``path`` (base64), generating one (0600) if missing; race-free like the
    signing key: written to a temporary file and hard-linked into place."""
    if path.exists():
        return parse_master_key(path.read_text())
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".key-")  # created 0600
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(base64.urlsafe_b64encode(new_key()).decode() + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)
    return parse_master_key(path.read_text())


def key_id(master: bytes) -> str:
    """A short public name of the master key, stored beside what it wraps."""
    return hmac.new(master, b"stockgraph/key-id", hashlib.sha256).hexdigest()[:16]


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return VERSION + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def open_sealed(key: bytes, blob: bytes, aad: bytes) -> bytes:
    if len(blob) < 1 + NONCE_BYTES + 16 or blob[:1] != VERSION:
        raise CryptoError("not a sealed value")
    try:
        return AESGCM(key).decrypt(blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :], aad)
    except (InvalidTag, ValueError):
        raise CryptoError("the value does not open with this key and context") from None


def tenant_key_aad(tenant_id: int, purpose: str) -> bytes:
    return f"{PREFIX}|tenant-key|purpose={purpose}|tenant={tenant_id}".encode()


def member_key_aad(tenant_id: int, member_id: int) -> bytes:
    return f"{PREFIX}|member-key|tenant={tenant_id}|member={member_id}".encode()


def field_aad(tenant_id: int, table: str, column: str, row_id: int) -> bytes:
    return f"{PREFIX}|field|tenant={tenant_id}|table={table}|column={column}|row={row_id}".encode()


def wrap_key(kek: bytes, key: bytes, aad: bytes) -> bytes:
    return seal(kek, key, aad)


def unwrap_key(kek: bytes, blob: bytes, aad: bytes) -> bytes:
    key = open_sealed(kek, blob, aad)
    if len(key) != KEY_BYTES:
        raise CryptoError("a wrapped key has the wrong length")
    return key


def encrypt_field(
    member_key: bytes, value: str, tenant_id: int, table: str, column: str, row_id: int
) -> bytes:
    return seal(member_key, value.encode(), field_aad(tenant_id, table, column, row_id))


def decrypt_field(
    member_key: bytes, blob: bytes, tenant_id: int, table: str, column: str, row_id: int
) -> str:
    return open_sealed(member_key, blob, field_aad(tenant_id, table, column, row_id)).decode()


def blind_index(index_key: bytes, normalised_phone: str) -> bytes:
    return hmac.new(index_key, b"phone|" + normalised_phone.encode(), hashlib.sha256).digest()
