"""GraphQL documents and small drivers shared by the transfer tests."""

from __future__ import annotations

from typing import Any

TRANSFER_FIELDS = """
  transfer { id status version reference fromLocation { code } toLocation { code }
    lines { product { sku } quantity shippedQuantity receivedQuantity rejectedQuantity
            resolvedQuantity missingQuantity rejectionReason }
    approvalRequest { id status requiredRank nextRank
      decisions { actor rank decision comment } } }
  userErrors { code field message }
"""

MUTATIONS = {
    name: f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {TRANSFER_FIELDS} }} }}"
    for name, input_type in {
        "createTransfer": "CreateTransferInput",
        "requestTransfer": "TransitionTransferInput",
        "approveTransfer": "TransitionTransferInput",
        "rejectTransfer": "TransitionTransferInput",
        "shipTransfer": "ShipTransferInput",
        "receiveTransfer": "ReceiveTransferInput",
        "resolveTransferDiscrepancy": "ResolveTransferDiscrepancyInput",
        "cancelTransfer": "TransitionTransferInput",
    }.items()
}

RECEIVE_STOCK = """mutation($input: ReceiveStockInput!) {
  receiveStock(input: $input) { userErrors { code } } }"""


async def call(gql: Any, caller: Any, name: str, **input: Any) -> dict[str, Any]:
    data = await gql.ok(MUTATIONS[name], caller, {"input": input})
    return data[name]  # type: ignore[no-any-return]


async def ok(gql: Any, caller: Any, name: str, **input: Any) -> dict[str, Any]:
    result = await call(gql, caller, name, **input)
    assert result["userErrors"] == [], result
    return result["transfer"]  # type: ignore[no-any-return]


async def stock(gql: Any, tenant: Any, loc: str, sku: str, qty: int) -> None:
    data = await gql.ok(
        RECEIVE_STOCK,
        tenant.owner,
        {"input": {"locationId": tenant.loc(loc), "lines": [{"sku": sku, "quantity": qty}]}},
    )
    assert data["receiveStock"]["userErrors"] == []


def lines(**quantities: int) -> list[dict[str, Any]]:
    return [{"sku": sku, "quantity": q} for sku, q in quantities.items()]
