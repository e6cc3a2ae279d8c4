"""GraphQL documents and small steps shared by the point-of-sale tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

REGISTER = """mutation($input: RegisterDeviceInput!) { registerDevice(input: $input) {
  device { id name status clientId location { code } } clientId clientSecret
  userErrors { code field message } } }"""
DISABLE = """mutation($input: DisableDeviceInput!) { disableDevice(input: $input) {
  device { id status disabledAt } userErrors { code field message } } }"""
SYNC = """mutation($input: SyncSalesInput!) { syncSales(input: $input) {
  accepted duplicates rejected
  returnResults { clientId status reversal { id kind amount } userErrors { code field } }
  voidResults { clientId status reversal { id kind amount } userErrors { code field } }
  results { clientSaleId status sale { id receiptNumber total { amount } oversold }
            userErrors { code field message } }
  userErrors { code field message } } }"""
RETURN = """mutation($input: RecordReturnInput!) { recordReturn(input: $input) {
  status reversal { id kind amount lines { sku quantity } } userErrors { code field message } } }"""
VOID = """mutation($input: VoidSaleInput!) { voidSale(input: $input) {
  status reversal { id kind amount lines { sku quantity } } userErrors { code field message } } }"""
STATUS = """query($id: ID!) { deviceSyncStatus(deviceId: $id) {
  lastSaleAt lastClientSaleId lastSyncAt salesCount voidedCount returnsCount } }"""


def sale(
    sku: str = "A",
    quantity: int = 1,
    price: str = "10.00",
    *,
    method: str = "CASH",
    reference: str | None = None,
    terminal: str | None = None,
    when: datetime | None = None,
    client: str | None = None,
) -> dict[str, Any]:
    amount = f"{float(price) * quantity:.2f}"
    tender: dict[str, Any] = {"method": method, "amount": amount}
    if reference is not None:
        tender["providerReference"] = reference
    if terminal is not None:
        tender["terminalId"] = terminal
    return {
        "clientSaleId": client or str(uuid.uuid4()),
        "occurredAt": (when or datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
        "lines": [{"sku": sku, "quantity": quantity, "unitPrice": price}],
        "tenders": [tender],
    }


async def register(gql: Any, tenant: Any, location: str = "S1", name: str = "Till 1") -> Any:
    from auth.caller import Caller
    from auth.permissions import parse_scopes

    data = await gql.ok(
        REGISTER, tenant.owner, {"input": {"locationId": tenant.loc(location), "name": name}}
    )
    payload = data["registerDevice"]
    assert payload["userErrors"] == [], payload
    device = payload["device"]
    caller = Caller.for_app(
        tenant.tenant_id,
        payload["clientId"],
        parse_scopes("stock:write"),
        frozenset({tenant.locations[location]}),
    )
    return device, caller


async def sync(
    gql: Any, caller: Any, device_id: str, sales: list[dict[str, Any]], **more: Any
) -> Any:
    data = await gql.ok(SYNC, caller, {"input": {"deviceId": device_id, "sales": sales, **more}})
    return data["syncSales"]
