"""The envelope encryption and blind index of members' personal data, without a database."""

from __future__ import annotations

import base64

import pytest

from domain.errors import InvalidInput
from domain.members import crypto, pii

KEY = crypto.new_key()


def test_a_field_opens_only_with_its_key_and_its_exact_context():
    blob = crypto.encrypt_field(KEY, "+85291234567", 1, "members", "phone", 7)
    assert b"91234567" not in blob
    assert crypto.decrypt_field(KEY, blob, 1, "members", "phone", 7) == "+85291234567"
    for tenant, table, column, row in (
        (2, "members", "phone", 7),  # another tenant
        (1, "staff", "phone", 7),  # another table
        (1, "members", "email", 7),  # another column (a swap between columns)
        (1, "members", "phone", 8),  # another row (a swap between rows)
    ):
        with pytest.raises(crypto.CryptoError):
            crypto.decrypt_field(KEY, blob, tenant, table, column, row)
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt_field(crypto.new_key(), blob, 1, "members", "phone", 7)  # wrong key


def test_tampering_is_detected():
    blob = bytearray(crypto.encrypt_field(KEY, "c@example.com", 1, "members", "email", 1))
    for index in (0, 5, len(blob) // 2, len(blob) - 1):
        bad = bytearray(blob)
        bad[index] ^= 0x01
        with pytest.raises(crypto.CryptoError):
            crypto.decrypt_field(KEY, bytes(bad), 1, "members", "email", 1)
    aad = crypto.field_aad(1, "members", "email", 1)
    with pytest.raises(crypto.CryptoError):
        crypto.open_sealed(KEY, bytes(blob), aad + b"x")  # tampered associated data
    with pytest.raises(crypto.CryptoError):
        crypto.open_sealed(KEY, b"\x01short", aad)


def test_swapped_ciphertexts_between_rows_do_not_open():
    a = crypto.encrypt_field(KEY, "+85290000001", 1, "members", "phone", 1)
    b = crypto.encrypt_field(KEY, "+85290000002", 1, "members", "phone", 2)
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt_field(KEY, a, 1, "members", "phone", 2)
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt_field(KEY, b, 1, "members", "phone", 1)


def test_same_plaintext_gives_different_ciphertexts():
    one = crypto.encrypt_field(KEY, "+85291234567", 1, "members", "phone", 1)
    two = crypto.encrypt_field(KEY, "+85291234567", 1, "members", "phone", 1)
    assert one != two


def test_wrapped_keys_are_bound_to_their_tenant_and_member():
    master, tenant_key, member_key = crypto.new_key(), crypto.new_key(), crypto.new_key()
    wrapped = crypto.wrap_key(master, tenant_key, crypto.tenant_key_aad(1, "data"))
    assert crypto.unwrap_key(master, wrapped, crypto.tenant_key_aad(1, "data")) == tenant_key
    for aad in (crypto.tenant_key_aad(2, "data"), crypto.tenant_key_aad(1, "index")):
        with pytest.raises(crypto.CryptoError):
            crypto.unwrap_key(master, wrapped, aad)
    with pytest.raises(crypto.CryptoError):
        crypto.unwrap_key(crypto.new_key(), wrapped, crypto.tenant_key_aad(1, "data"))
    mk = crypto.wrap_key(tenant_key, member_key, crypto.member_key_aad(1, 5))
    with pytest.raises(crypto.CryptoError):
        crypto.unwrap_key(tenant_key, mk, crypto.member_key_aad(1, 6))


def test_blind_index_is_keyed():
    k1, k2 = crypto.new_key(), crypto.new_key()
    assert crypto.blind_index(k1, "+85291234567") == crypto.blind_index(k1, "+85291234567")
    assert crypto.blind_index(k1, "+85291234567") != crypto.blind_index(k2, "+85291234567")
    assert crypto.blind_index(k1, "+85291234567") != crypto.blind_index(k1, "+85291234568")


def test_master_key_formats(tmp_path):
    raw = bytes(range(32))
    assert crypto.parse_master_key(raw.hex()) == raw
    assert crypto.parse_master_key(base64.b64encode(raw).decode()) == raw
    assert crypto.parse_master_key(base64.urlsafe_b64encode(raw).decode().rstrip("=")) == raw
    with pytest.raises(ValueError):
        crypto.parse_master_key("too short")
    path = tmp_path / "home" / "data-key"
    made = crypto.load_or_create_master_key(path)
    assert len(made) == 32 and crypto.load_or_create_master_key(path) == made
    assert path.stat().st_mode & 0o077 == 0


def test_settings_rule_for_the_data_key(tmp_path):
    from api.settings import Settings

    raw = bytes(range(32))
    assert Settings(data_key=raw.hex(), home=tmp_path).data_key_bytes() == raw
    generated = Settings(home=tmp_path).data_key_bytes()
    assert generated == Settings(home=tmp_path).data_key_bytes()
    with pytest.raises(RuntimeError, match="STOCKGRAPH_DATA_KEY"):
        Settings(env="production", home=tmp_path).data_key_bytes()


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("9123 4567", "+85291234567"),
        ("+852 9123-4567", "+85291234567"),
        ("00853 6612 3456", "+85366123456"),
        ("+8613812345678", "+8613812345678"),
    ],
)
def test_phone_normalisation(raw, want):
    assert pii.normalise_phone(raw) == want


@pytest.mark.parametrize("raw", ["12345", "abc", "+0123456789", "+852 9123 4567 8901 234"])
def test_bad_phones(raw):
    with pytest.raises(InvalidInput):
        pii.normalise_phone(raw)


def test_masks():
    assert pii.mask_phone("+85212345678") == "****5678"
    assert pii.mask_email("chan@example.com") == "c***@example.com"
    assert pii.mask_birthday("05-17") == "--05"
    assert pii.mask_birthday("1990-05-17") == "--05"
    assert pii.mask_phone(None) is None


def test_birthdays():
    assert pii.normalise_birthday("02-29") == "02-29"
    assert pii.normalise_birthday("1990-05-17") == "1990-05-17"
    for bad in ("13-01", "02-30", "1990-02-29", "5-17", "3000-01-01", "1850-01-01"):
        with pytest.raises(InvalidInput):
            pii.normalise_birthday(bad)
