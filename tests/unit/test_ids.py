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
