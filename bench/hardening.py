"""Costs of two hardening changes, measured in-process (no server, no database).

``python -m bench.hardening`` prints:
- the CPU cost of one failed client-secret check, legacy scrypt vs the keyed
  HMAC-SHA256 (the bar: a failed try should cost well under a millisecond);
- the cost of encoding and decoding one global ID with ``domain.ids``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from auth.secrets import check_secret, hash_secret, hashing_key, new_client_secret
from domain import ids


def per_call(fn: Callable[[], object], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def main() -> None:
    key = hashing_key(b"\x07" * 32)
    secret = new_client_secret()
    legacy, keyed = hash_secret(secret), hash_secret(secret, key)
    scrypt_s = per_call(lambda: check_secret("wrong", legacy, key), 30)
    hmac_s = per_call(lambda: check_secret("wrong", keyed, key), 20_000)
    print(f"failed secret check, scrypt:      {scrypt_s * 1e3:9.3f} ms")
    print(f"failed secret check, HMAC-SHA256: {hmac_s * 1e6:9.3f} µs")
    print(f"ratio: {scrypt_s / hmac_s:,.0f}× cheaper (bar: < 1 ms a try)")

    pks = list(range(1, 20_001))
    encoded = [ids.encode("StockLevel", pk) for pk in pks]
    ids.encode.cache_clear()
    start = time.perf_counter()
    for pk in pks:
        ids.encode("StockLevel", pk)
    cold = (time.perf_counter() - start) / len(pks)
    warm = per_call(lambda: ids.encode("StockLevel", 12345), 200_000)
    dec = per_call(lambda: ids.decode_int(encoded[12344], "StockLevel"), 100_000)
    legacy = [ids._legacy("StockLevel", pk) for pk in pks]
    old_enc = per_call(lambda: ids._legacy("StockLevel", 12345), 100_000)
    old_dec = per_call(lambda: ids.decode_int(legacy[12344], "StockLevel"), 100_000)
    print(f"ids.encode uncached: {cold * 1e6:6.2f} µs, cached: {warm * 1e6:6.2f} µs")
    print(f"ids.decode_int:      {dec * 1e6:6.2f} µs")
    print(
        f"readable (earlier) form: encode {old_enc * 1e6:6.2f} µs, decode {old_dec * 1e6:6.2f} µs"
    )


if __name__ == "__main__":
    main()
