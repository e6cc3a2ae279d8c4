"""``stockgraph forecast``: how good the demand forecast is on a tenant's own history."""

from __future__ import annotations

from typing import Any

import typer

forecast_app = typer.Typer(help="The demand forecast.", no_args_is_help=True)


@forecast_app.command("backtest")
def backtest(
    tenant: str = typer.Option(..., help="The tenant's code."),
    days: int = typer.Option(28, help="The last N days (1 to 56) to forecast and compare."),
) -> None:
    """WAPE and bias of the model and of seasonal-naive (same weekday last week), per
    location and overall, as JSON."""
    from api.cli import emit, run
    from domain.replenishment import demand
    from domain.tenancy.service import tenant_by_code

    async def go(db: Any) -> dict[str, Any]:
        async with db.owner_transaction() as session:
            found = await tenant_by_code(session, tenant)
            return await demand.backtest(session, found.tenant_id, days)

    emit({"tenant": tenant, **run(go)})
