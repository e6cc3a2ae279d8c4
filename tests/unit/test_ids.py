"""Global IDs: one spelling per object, and what callers send never fills the cache."""

from __future__ import annotations

from domain import ids


def test_round_trip_and_the_one_spelling():
    gid = ids.encode("StockLevel", 12345)
    assert ids.decode(gid) == ("StockLevel", "12345")
    assert ids.decode_int(gid, "StockLevel") == 12345
    assert ids.decode_int(gid, "Product") is None
    assert ids.decode(gid + "=") is None  # padding is not ours
    assert ids.decode_int(ids.encode("StockLevel", "012"), "StockLevel") is None


def test_ids_callers_send_do_not_fill_the_encode_cache():
    ids.encode.cache_clear()
    ours = ids.encode("Product", 7)
    before = ids.encode.cache_info().currsize
    for n in range(500):
        sent = ids.encode.__wrapped__("Product", f"{n}-" + "x" * 100)
        assert ids.decode(sent) == ("Product", f"{n}-" + "x" * 100)
    assert ids.decode(ours) == ("Product", "7")
    assert ids.encode.cache_info().currsize == before


def test_overlong_ids_are_refused_before_decoding():
    long_id = ids.encode.__wrapped__("Product", "9" * 300)
    assert len(long_id) > ids.MAX_ID_LENGTH
    assert ids.decode(long_id) is None
    assert ids.decode("A" * 1_000_000) is None


def test_consecutive_keys_give_unrelated_ids_that_hide_the_key():
    import base64

    first, second = ids.encode("Product", 1000), ids.encode("Product", 1001)
    raw = [base64.urlsafe_b64decode(g + "=" * (-len(g) % 4)) for g in (first, second)]
    assert all(r.startswith(b"Product.") and len(r) == len("Product.") + 16 for r in raw)
    same = sum(a == b for a, b in zip(raw[0][8:], raw[1][8:], strict=True))
    assert same < 8  # not a counter: most bytes differ
    assert b"1000" not in raw[0] and ids.decode(first) == ("Product", "1000")


def test_ids_of_the_earlier_readable_form_are_still_accepted():
    legacy = base64_id("Location:42")
    assert ids.decode_int(legacy, "Location") == 42
    assert ids.encode("Location", 42) != legacy  # what we hand out now is opaque


def test_forged_blocks_and_other_keys_are_not_ours():
    import base64

    forged = base64.urlsafe_b64encode(b"Product." + bytes(16)).decode().rstrip("=")
    assert ids.decode(forged) is None
    gid = ids.encode("Product", 5)
    try:
        ids.configure(b"another deployment key")
        assert ids.decode(gid) is None  # 8 zero bytes do not come out under another key
        assert ids.decode_int(ids.encode("Product", 5), "Product") == 5
    finally:
        ids.configure(ids._DEVELOPMENT_KEY)
    assert ids.decode(gid) == ("Product", "5")


def test_scoped_ids_round_trip_and_hide_the_tenant():
    gid = ids.encode_scoped("AuditEvent", 7, 3)
    assert ids.decode_scoped(gid, "AuditEvent") == (7, 3)
    assert ids.decode_scoped(gid, "Other") is None
    assert ids.decode_scoped(base64_id("AuditEvent:7-3"), "AuditEvent") is None


def base64_id(text: str) -> str:
    import base64

    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")
