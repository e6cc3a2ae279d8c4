"""Persisted documents (Apollo's automatic persisted queries, version 1).

A client sends ``extensions.persistedQuery.sha256Hash`` instead of the document;
the first time, the server answers PERSISTED_QUERY_NOT_FOUND and the client sends
the document once more with its hash, which registers it. From then on the request
carries only the hash and the variables: less to send and nothing to parse, and
(through api/compiled.py) nothing to validate either.

Documents are kept per tenant, so one tenant cannot tell which documents another
one uses, and per process, in an LRU bounded by count and by bytes (a document over
64 KiB runs but is not kept): a client that meets another process (or a restart,
or an eviction) is told NOT_FOUND and registers again, as the protocol expects.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
MAX_DOCUMENTS = 10_000
MAX_DOCUMENT_BYTES = 64 * 1024  # a longer document runs, but is not kept
MAX_TOTAL_BYTES = 32 * 1024 * 1024  # all kept documents of the process together


@dataclass(frozen=True, slots=True)
class Refusal:
    code: str
    message: str


def requested_hash(extensions: Any) -> str | Refusal | None:
    """The sha256 a request names; None when it names none; a Refusal when malformed."""
    if not isinstance(extensions, dict) or "persistedQuery" not in extensions:
        return None
    persisted = extensions["persistedQuery"]
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        return Refusal(NOT_SUPPORTED, "only persistedQuery version 1 is supported")
    sha = persisted.get("sha256Hash")
    if not isinstance(sha, str) or len(sha) != 64:
        return Refusal(NOT_SUPPORTED, "persistedQuery.sha256Hash must be 64 hex digits")
    return sha.lower()


class PersistedDocuments:
    """Document text by (tenant, sha256), learnt from the clients that send them."""

    def __init__(self, size: int = MAX_DOCUMENTS, max_bytes: int = MAX_TOTAL_BYTES) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self.bytes = 0
        self.documents: OrderedDict[tuple[int | None, str], str] = OrderedDict()

    def resolve(
        self, tenant_id: int | None, query: str | None, extensions: Any
    ) -> str | Refusal | None:
        """The document to run: ``query`` itself, or the one stored under the named hash.

        Registers ``query`` when it comes with its hash. None: nothing was asked of
        persisted documents (and no query was sent either).
        """
        sha = requested_hash(extensions)
        if isinstance(sha, Refusal):
            return sha
        if sha is None:
            return query
        if tenant_id is None:
            return Refusal(NOT_FOUND, "PersistedQueryNotFound")
        key = (tenant_id, sha)
        if query is None:
            stored = self.documents.get(key)
            if stored is None:
                return Refusal(NOT_FOUND, "PersistedQueryNotFound")
            self.documents.move_to_end(key)
            return stored
        try:
            encoded = query.encode()
        except UnicodeEncodeError:  # a lone surrogate: no client could have hashed it
            return Refusal(HASH_MISMATCH, "persistedQuery.sha256Hash is not the query's SHA-256")
        if hashlib.sha256(encoded).hexdigest() != sha:
            return Refusal(HASH_MISMATCH, "persistedQuery.sha256Hash is not the query's SHA-256")
        if len(encoded) <= MAX_DOCUMENT_BYTES:
            self._keep(key, query, len(encoded))
        return query

    def _keep(self, key: tuple[int | None, str], query: str, size: int) -> None:
        """Least recently used out, by count and by bytes."""
        previous = self.documents.pop(key, None)
        if previous is not None:
            self.bytes -= len(previous.encode())
        self.documents[key] = query
        self.bytes += size
        while len(self.documents) > self.size or self.bytes > self.max_bytes:
            _, dropped = self.documents.popitem(last=False)
            self.bytes -= len(dropped.encode())
