"""Operator commands that take access away: rotate a client secret, disable a client or
a staff member. Each refuses the subject's tokens on every process within seconds."""

from __future__ import annotations

from typing import Any

import typer

from api.cli import TENANT, _system, _tenant, clients_app, emit, run, staff_app
from api.settings import Settings

CLIENT_ID = typer.Option(..., help="The app's client_id (sgc_…), as `clients create` printed it.")


def hashing_key() -> bytes:
    """The client-secret hashing key, from the same data key the server uses."""
    from auth.secrets import hashing_key as derive

    return derive(Settings().data_key_bytes())


@clients_app.command("rotate-secret")
def clients_rotate_secret(tenant: str = TENANT, client_id: str = CLIENT_ID) -> None:
    """A new client secret, printed once; the old secret and its tokens stop working."""
    from domain.tenancy.service import rotate_client_secret

    key = hashing_key()

    async def go(db: Any) -> dict[str, Any]:
        async with db.owner_transaction() as s:
            t = await _tenant(s, tenant)
            creds = await rotate_client_secret(s, _system(t.tenant_id), client_id, hashing_key=key)
            return {"client_id": creds.client_id, "client_secret": creds.client_secret}

    emit(run(go))


@clients_app.command("disable")
def clients_disable(tenant: str = TENANT, client_id: str = CLIENT_ID) -> None:
    """Disable a partner app: no new tokens, and its tokens are refused."""
    from domain.tenancy.service import set_client_active

    async def go(db: Any) -> dict[str, Any]:
        async with db.owner_transaction() as s:
            t = await _tenant(s, tenant)
            await set_client_active(s, _system(t.tenant_id), client_id, False)
            return {"client_id": client_id, "active": False}

    emit(run(go))


@staff_app.command("disable")
def staff_disable(
    tenant: str = TENANT, staff: str = typer.Option(..., help="The staff member's code.")
) -> None:
    """Disable a staff member: no new tokens, and their tokens are refused."""
    from domain.tenancy.service import set_staff_active

    async def go(db: Any) -> dict[str, Any]:
        async with db.owner_transaction() as s:
            t = await _tenant(s, tenant)
            await set_staff_active(s, _system(t.tenant_id), staff, False)
            return {"staff": staff, "active": False}

    emit(run(go))
