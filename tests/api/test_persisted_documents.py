"""Automatic persisted queries (Apollo, version 1) over HTTP, per tenant."""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any

import httpx

from api.persisted import PersistedDocuments, Refusal, requested_hash
from auth.backend import app_claims
from auth.permissions import parse_scopes
from auth.tokens import TokenService
from tests.api.conftest import app_token, new_client
from tests.api.test_compiled_http import delta, metrics, rows
from tests.helpers import receive_lines

LEVELS = """query($first: Int = 10) { stockLevels(first: $first) { totalCount
  edges { node { onHand location { code } product { sku } } } } }"""


def document(doc: str = LEVELS) -> tuple[str, str]:
    """A document no other test has sent, and its SHA-256."""
    text = f"# {uuid.uuid4().hex}\n{doc}"
    return text, hashlib.sha256(text.encode()).hexdigest()


def persisted(sha: str, version: Any = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha}}


async def send(
    server: Any,
    token: str,
    *,
    query: str | None = None,
    extensions: dict[str, Any] | None = None,
    variables: dict[str, Any] | None = None,
) -> httpx.Response:
    body: dict[str, Any] = {}
    if query is not None:
        body["query"] = query
    if extensions is not None:
        body["extensions"] = extensions
    if variables is not None:
        body["variables"] = variables
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as http:
        return await http.post("/graphql", json=body)


def error_codes(response: httpx.Response) -> list[str]:
    body = response.json()
    assert body.get("data") is None, body
    return [e["extensions"]["code"] for e in body["errors"]]


async def test_register_then_send_only_the_hash(server, gql, tenant):
    await receive_lines(gql, tenant, {"S1": [("A", 6)], "S2": [("B", 1)]})
    token = await app_token(server, await new_client(tenant, "stock:read"))
    text, sha = document()

    unknown = await send(server, token, extensions=persisted(sha))
    assert error_codes(unknown) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert unknown.json()["errors"][0]["message"] == "PersistedQueryNotFound"

    registered = await send(server, token, query=text, extensions=persisted(sha))
    assert registered.status_code == 200
    assert rows(registered.json()) == [("S1", "A", 6), ("S2", "B", 1)]

    by_hash = await send(server, token, extensions=persisted(sha))
    assert by_hash.status_code == 200
    assert by_hash.json() == registered.json()
    # with variables, and with the hash in upper case
    first = await send(server, token, extensions=persisted(sha.upper()), variables={"first": 1})
    assert first.json()["data"]["stockLevels"]["totalCount"] == 2
    assert rows(first.json()) == [("S1", "A", 6)]


async def test_an_unknown_hash_is_not_found(server, tenant):
    token = await app_token(server, await new_client(tenant, "stock:read"))
    for sha in (hashlib.sha256(uuid.uuid4().bytes).hexdigest(), "0" * 64):
        response = await send(server, token, extensions=persisted(sha))
        assert response.status_code == 200
        assert error_codes(response) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_a_hash_that_is_not_the_documents_is_a_mismatch(server, tenant):
    token = await app_token(server, await new_client(tenant, "stock:read"))
    text, sha = document('{ product(sku: "A") { sku } }')
    other_text, other_sha = document('{ product(sku: "B") { sku } }')
    response = await send(server, token, query=text, extensions=persisted(other_sha))
    assert error_codes(response) == ["PERSISTED_QUERY_HASH_MISMATCH"]
    # nothing was registered under either hash
    for name in (sha, other_sha):
        assert error_codes(await send(server, token, extensions=persisted(name))) == [
            "PERSISTED_QUERY_NOT_FOUND"
        ]
    ok = await send(server, token, query=other_text, extensions=persisted(other_sha))
    assert ok.json()["data"] == {"product": {"sku": "B"}}


async def test_other_versions_and_malformed_hashes_are_not_supported(server, tenant):
    token = await app_token(server, await new_client(tenant, "stock:read"))
    text, sha = document('{ product(sku: "A") { sku } }')
    assert (await send(server, token, query=text, extensions=persisted(sha))).status_code == 200
    for extensions in (
        persisted(sha, version=2),
        persisted(sha, version="1"),
        persisted(sha, version=None),
        persisted(sha[:-1]),
        persisted(sha + "0"),
        {"persistedQuery": {"version": 1, "sha256Hash": 12}},
        {"persistedQuery": {"version": 1}},
        {"persistedQuery": sha},
    ):
        for query in (None, text):
            response = await send(server, token, query=query, extensions=extensions)
            assert error_codes(response) == ["PERSISTED_QUERY_NOT_SUPPORTED"], extensions


async def test_a_hash_registered_by_one_tenant_is_not_found_for_another(
    server, gql, tenant, other_tenant
):
    await receive_lines(gql, tenant, {"S1": [("A", 6)]})
    await receive_lines(gql, other_tenant, {"WH": [("C", 2)]})
    mine = await app_token(server, await new_client(tenant, "stock:read"))
    theirs = await app_token(server, await new_client(other_tenant, "stock:read"))
    text, sha = document()
    assert rows((await send(server, mine, query=text, extensions=persisted(sha))).json()) == [
        ("S1", "A", 6)
    ]
    assert rows((await send(server, mine, extensions=persisted(sha))).json()) == [("S1", "A", 6)]

    refused = await send(server, theirs, extensions=persisted(sha))
    assert error_codes(refused) == ["PERSISTED_QUERY_NOT_FOUND"]
    # once they register it themselves, each tenant gets its own rows
    registered = await send(server, theirs, query=text, extensions=persisted(sha))
    assert rows(registered.json()) == [("WH", "C", 2)]
    assert rows((await send(server, theirs, extensions=persisted(sha))).json()) == [("WH", "C", 2)]
    assert rows((await send(server, mine, extensions=persisted(sha))).json()) == [("S1", "A", 6)]


async def test_another_app_of_the_same_tenant_shares_the_tenants_documents(server, gql, tenant):
    await receive_lines(gql, tenant, {"S2": [("B", 4)]})
    first = await app_token(server, await new_client(tenant, "stock:read"))
    second = await app_token(server, await new_client(tenant, "stock:read stock:write"))
    text, sha = document()
    assert (await send(server, first, query=text, extensions=persisted(sha))).status_code == 200
    assert rows((await send(server, second, extensions=persisted(sha))).json()) == [("S2", "B", 4)]


async def test_hash_only_requests_of_a_compiled_document_are_answered_by_the_plan(
    server, gql, tenant
):
    await receive_lines(gql, tenant, {"S1": [("A", 6), ("C", 3)]})
    token = await app_token(server, await new_client(tenant, "stock:read"))
    text, sha = document()

    m0 = await metrics(server)
    registered = await send(server, token, query=text, extensions=persisted(sha))
    m1 = await metrics(server)
    # strawberry parses and validates it; its plan answers inside strawberry's execution
    assert delta(m0, m1) == {"answered": 1, "gave_up": 0, "failed": 0}

    by_hash = await send(server, token, extensions=persisted(sha))
    m2 = await metrics(server)
    assert delta(m1, m2) == {"answered": 1, "gave_up": 0, "failed": 0}
    assert by_hash.content == registered.content
    assert rows(by_hash.json()) == [("S1", "A", 6), ("S1", "C", 3)]

    paged = await send(server, token, extensions=persisted(sha), variables={"first": 1})
    m3 = await metrics(server)
    assert delta(m2, m3) == {"answered": 1, "gave_up": 0, "failed": 0}
    assert rows(paged.json()) == [("S1", "A", 6)]
    # the document with its hash again: answered by the plan too
    again = await send(server, token, query=text, extensions=persisted(sha))
    assert delta(m3, await metrics(server)) == {"answered": 1, "gave_up": 0, "failed": 0}
    assert again.content == registered.content


async def test_persisted_requests_without_a_valid_token_are_unauthenticated(server, tenant):
    """The contract: a request that needs a caller and has none gets 401 UNAUTHENTICATED.
    A client whose token expired must be told so, or it never fetches a new one."""
    token = await app_token(server, await new_client(tenant, "stock:read"))
    text, sha = document('{ product(sku: "C") { sku } }')
    assert (await send(server, token, query=text, extensions=persisted(sha))).status_code == 200
    claims = app_claims(tenant.tenant_id, "forged", parse_scopes("stock:read"), None)
    expired = TokenService(
        server.signing_key, server.url, "stockgraph-api", clock=lambda: time.time() - 7200
    ).issue(claims, 600)
    for bearer in (None, expired):
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        async with httpx.AsyncClient(base_url=server.url, headers=headers) as http:
            for body in (
                {"extensions": persisted(sha)},  # the hash alone
                {"query": text, "extensions": persisted(sha)},  # the APQ retry
            ):
                response = await http.post("/graphql", json=body)
                assert response.status_code == 401, (bearer is None, body, response.text)
                assert [e["extensions"]["code"] for e in response.json()["errors"]] == [
                    "UNAUTHENTICATED"
                ]


def test_persisted_documents_are_kept_per_tenant_in_a_bounded_lru() -> None:
    store = PersistedDocuments(size=2)
    docs = [f'{{ product(sku: "{s}") {{ sku }} }}' for s in "ABC"]
    shas = [hashlib.sha256(d.encode()).hexdigest() for d in docs]
    for doc, sha in zip(docs, shas, strict=True):
        assert store.resolve(1, doc, persisted(sha)) == doc
    assert store.resolve(1, None, persisted(shas[0])) == Refusal(
        "PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound"
    )
    assert store.resolve(1, None, persisted(shas[2])) == docs[2]
    assert store.resolve(2, None, persisted(shas[2])) == Refusal(
        "PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound"
    )
    assert store.resolve(None, None, persisted(shas[2])) == Refusal(
        "PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound"
    )
    # without persistedQuery the query is returned untouched, None included
    assert store.resolve(1, docs[0], None) == docs[0]
    assert store.resolve(1, None, {"other": 1}) is None
    assert (
        requested_hash({"persistedQuery": {"version": 1, "sha256Hash": shas[0].upper()}})
        == (shas[0])
    )


def test_the_store_is_bounded_by_bytes_and_keeps_no_huge_document() -> None:
    """Memory is the bound that matters: a tenant registering large documents evicts
    older ones instead of growing the process, and one over 64 KiB runs but is not kept."""
    store = PersistedDocuments(size=1000, max_bytes=3000)
    docs = [f'{{ product(sku: "{i}") {{ sku }} }}' + " " * 900 for i in range(5)]
    shas = [hashlib.sha256(d.encode()).hexdigest() for d in docs]
    for doc, sha in zip(docs, shas, strict=True):
        assert store.resolve(1, doc, persisted(sha)) == doc
    assert store.bytes <= 3000
    assert len(store.documents) == 3
    kept = [store.resolve(1, None, persisted(sha)) for sha in shas]
    assert kept[:2] == [Refusal("PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")] * 2
    assert kept[2:] == docs[2:]
    # registering the same document again does not count its bytes twice
    before = store.bytes
    assert store.resolve(1, docs[4], persisted(shas[4])) == docs[4]
    assert store.bytes == before

    huge = "{ __typename }" + " " * (64 * 1024)
    sha = hashlib.sha256(huge.encode()).hexdigest()
    assert store.resolve(1, huge, persisted(sha)) == huge  # it runs
    assert store.resolve(1, None, persisted(sha)) == Refusal(
        "PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound"
    )
    assert store.bytes == before


def test_a_document_no_client_could_hash_is_a_mismatch() -> None:
    """A lone surrogate has no UTF-8 form: refused, not a server error."""
    store = PersistedDocuments()
    refused = store.resolve(1, "{ __typename } #\ud800", persisted("0" * 64))
    assert isinstance(refused, Refusal) and refused.code == "PERSISTED_QUERY_HASH_MISMATCH"
    assert store.documents == {}
