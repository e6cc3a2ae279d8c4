"""The audit hash chain, pure.

``hash_n = sha256(hash_{n-1} || canonical_json(event_n))`` with ``hash_0`` 32
zero bytes. The canonical JSON holds every stored field of the event except its
sequence and hash (the link to the previous hash fixes the position), with
sorted keys, no whitespace and UTF-8, so anyone can recompute it from a row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

GENESIS = b"\x00" * 32

CHAINED_FIELDS = (
    "occurred_at",
    "actor_kind",
    "actor",
    "staff_id",
    "staff_role",
    "client_id",
    "action",
    "target_type",
    "target_id",
    "before",
    "after",
    "reason",
    "request_id",
    "idempotency_key",
    "outcome",
)


def _default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return str(value)


def canonical_json(event: Mapping[str, Any]) -> bytes:
    body = {name: event.get(name) for name in CHAINED_FIELDS}
    return json.dumps(
        body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default
    ).encode()


def link(prev_hash: bytes, event: Mapping[str, Any]) -> bytes:
    return hashlib.sha256(prev_hash + canonical_json(event)).digest()


def first_broken(
    events: Iterable[Mapping[str, Any]], prev_hash: bytes = GENESIS, expected_sequence: int = 1
) -> tuple[int | None, int, bytes]:
    """Walk events in sequence order; return (first bad sequence or None, count, last hash).

    A gap in sequences is a break too: a deleted event is tampering.
    """
    checked = 0
    for event in events:
        seq = int(event["sequence"])
        if seq != expected_sequence or link(prev_hash, event) != bytes(event["hash"]):
            return expected_sequence if seq != expected_sequence else seq, checked, prev_hash
        prev_hash = bytes(event["hash"])
        expected_sequence += 1
        checked += 1
    return None, checked, prev_hash
