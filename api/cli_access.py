"""Operator commands that take access away: rotate a client secret, disable a client or
a staff member. Each refuses the subject's tokens on every process within seconds."""

from __future__ import annotations

from typing import Any

import typer

from api.cli import _system, _tenant, clients_app, emit, run, staff_app
from api.settings import Settings


def hashing_key() -> bytes:
    """The client-secret hashing key, from the same data key the server uses."""
    from auth.secrets import hashing_key as derive

    return derive(Settings().data_key_bytes())


@clients_app.command("rotate-secret")
def clients_rotate_secret(
    tenant: str = typer.Option(...), client_id: str = typer.Option(...)
) -> None:
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
def clients_disable(tenant: str = typer.Option(...), client_id: str = typer.Option(...)) -> None:
    """Disable a partner app: no new tokens, and its tokens are refused."""
    from domain.tenancy.service import set_client_active

    async def go(db: Any) -> dict[str, Any]:
        async with db.owner_transaction() as s:
            t = await _tenant(s, tenant)
            await set_client_active(s, _system(t.tenant_id), client_id, False)
            return {"client_id": client_id, "active": False}

    emit(run(go))


@staff_app.command("disable")
def staff_disable(tenant: str = typer.Option(...), staff: str = typer.Option(...)) -> None:
    """Disable a staff member: no new tokens, and their tokens are refused."""
    from domain.tenancy.service import set_staff_active

    async def go(db: Any) -> dict[str, Any]:
        async with db.owner_transaction() as s:
            t = await _tenant(s, tenant)
            await set_staff_active(s, _system(t.tenant_id), staff, False)
            return {"staff": staff, "active": False}

    emit(run(go))
