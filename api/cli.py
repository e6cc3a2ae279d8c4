"""The ``stockgraph`` command line. Results are one JSON object on stdout; logs go to stderr."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn, TypeVar

import typer

from api.cli_forecast import forecast_app
from api.settings import Settings
from auth.permissions import Permission, Role

T = TypeVar("T")

app = typer.Typer(
    help="stockgraph: GraphQL inventory API for Hong Kong and Macau retail.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
demo_app = typer.Typer(help="The demo chain.", no_args_is_help=True)
tenants_app = typer.Typer(help="Tenants (retailers).", no_args_is_help=True)
locations_app = typer.Typer(help="Locations.", no_args_is_help=True)
products_app = typer.Typer(help="Products.", no_args_is_help=True)
clients_app = typer.Typer(help="Partner apps (OAuth clients).", no_args_is_help=True)
staff_app = typer.Typer(help="Staff members and their tokens.", no_args_is_help=True)
schema_app = typer.Typer(help="The GraphQL schema.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
members_app = typer.Typer(help="Loyalty members.", no_args_is_help=True)
for sub, name in (
    (db_app, "db"),
    (demo_app, "demo"),
    (tenants_app, "tenants"),
    (locations_app, "locations"),
    (products_app, "products"),
    (clients_app, "clients"),
    (staff_app, "staff"),
    (schema_app, "schema"),
    (audit_app, "audit"),
    (members_app, "members"),
    (forecast_app, "forecast"),
):
    app.add_typer(sub, name=name)

log = logging.getLogger("stockgraph")

TENANT = typer.Option(..., help="The tenant's code (as given to `tenants create`).")
SCOPES = ", ".join(p.value for p in Permission)
ROLES = ", ".join(r.value for r in Role)


def emit(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def fail(message: str, code: int = 2) -> NoReturn:
    sys.stderr.write(f"error: {message}\n")
    raise typer.Exit(code)


def database_url(settings: Settings) -> str:
    """DATABASE_URL, or the embedded PostgreSQL under $STOCKGRAPH_HOME."""
    if settings.database_url:
        return settings.database_url
    from db.embedded import EmbeddedPostgresError, ensure_embedded_postgres

    try:
        url = ensure_embedded_postgres(settings.home.resolve())
    except EmbeddedPostgresError as exc:
        fail(str(exc))
    log.info("using embedded PostgreSQL under %s", settings.home)
    return url


def run(fn: Callable[[Any], Awaitable[T]], *, migrate: bool = True) -> T:
    """Run ``fn(db)`` with migrations applied; DomainErrors become a clean exit 2."""
    from db.migrate import upgrade
    from db.session import Database
    from domain.errors import DomainError

    settings = Settings()
    url = database_url(settings)

    async def main() -> T:
        if migrate:
            await upgrade(url)
        db = Database.connect(url, pool_size=2)
        try:
            return await fn(db)
        finally:
            await db.dispose()

    try:
        return asyncio.run(main())
    except DomainError as exc:
        fail(f"{exc.message} ({exc.code})")
    except OSError as exc:
        fail(f"cannot reach PostgreSQL at {_where(url)}: {exc}")
    except Exception as exc:
        if (refusal := postgres_refusal(exc)) is None:
            raise
        fail(f"PostgreSQL at {_where(url)}: {refusal}")


def _where(url: str) -> str:
    """Host and database of a URL, never its password."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:
        return "DATABASE_URL"
    return f"{parsed.host or parsed.query.get('host', 'socket')}/{parsed.database}"


def postgres_refusal(exc: BaseException) -> str | None:
    """PostgreSQL's own one-line message when it refused us (no such database, bad password),
    found through SQLAlchemy's and Alembic's wrapping; None for any other error."""
    import asyncpg

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, asyncpg.PostgresError | asyncpg.InterfaceError):
            message = str(seen).splitlines()[0]
            if isinstance(seen, asyncpg.InvalidCatalogNameError):
                message += " (create it, or point DATABASE_URL at one that exists)"
            return message
        seen = seen.__cause__ or seen.__context__
    return None


async def _tenant(session: Any, code: str) -> Any:
    from domain.tenancy.service import tenant_by_code

    return await tenant_by_code(session, code)


def _system(tenant_id: int) -> Any:
    from auth.caller import Caller

    return Caller.system(tenant_id)


def _codes(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [c.strip() for c in value.split(",") if c.strip()]


def _decimal(value: str | None, name: str) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        fail(f"--{name} must be a decimal number, not {value!r}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations."""
    from db.migrate import head_revision

    async def noop(db: Any) -> None:
        return None

    run(noop)
    emit({"upgraded": True, "revision": head_revision()})


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded PostgreSQL under $STOCKGRAPH_HOME (one left running); data is kept."""
    from db.embedded import EmbeddedPostgresError, stop_embedded_postgres

    settings = Settings()
    pgdata = settings.home.resolve() / "pgdata"
    try:
        stopped = stop_embedded_postgres(settings.home)
    except EmbeddedPostgresError as exc:
        fail(str(exc), 1)
    except PermissionError:
        fail(f"not allowed to stop the PostgreSQL in {pgdata}: run as its owner", 1)
    emit({"stopped": stopped, "pgdata": str(pgdata)})


@db_app.command("app-login")
def db_app_login(
    name: str = typer.Option(
        "stockgraph_api", help="The login (role) to create: letters, digits and _."
    ),
) -> None:
    """Create the API's own database login (prints STOCKGRAPH_APP_DATABASE_URL)."""
    import secrets

    from db.roles import create_app_login

    password = secrets.token_urlsafe(24)

    async def go(db: Any) -> str:
        return await create_app_login(
            str(db.owner_engine.url.render_as_string(False)).replace(
                "postgresql+asyncpg://", "postgresql://"
            ),
            name,
            password,
        )

    try:
        url = run(go)
    except ValueError as exc:
        fail(str(exc))
    emit({"role": name, "app_database_url": url})


@tenants_app.command("create")
def tenants_create(
    code: str = typer.Option(..., help="Short unique code, e.g. wellcare (used by every command)."),
    name: str = typer.Option(..., help="Display name, any language."),
    currency: str = typer.Option("HKD", help="Home currency: HKD, MOP or CNY."),
    timezone: str = typer.Option(
        "Asia/Hong_Kong", help="IANA time zone that days are counted in, e.g. Asia/Macau."
    ),
) -> None:
    """Create a tenant."""
    from domain.tenancy.service import create_tenant

    async def go(db: Any) -> dict[str, Any]:
        async with db.owner_transaction() as s:
            tenant = await create_tenant(s, code, name, currency, timezone)
            return {"id": tenant.tenant_id, "code": tenant.code}

    emit(run(go))


@locations_app.command("create")
def locations_create(
    tenant: str = TENANT,
    code: str = typer.Option(..., help="Short code unique in the tenant, e.g. CWB."),
    name_zh: str = typer.Option(..., "--name-zh", help="Chinese name, e.g. 銅鑼灣店."),
    name_en: str = typer.Option(..., "--name-en", help="English name, e.g. Causeway Bay."),
    kind: str = typer.Option("STORE", help="STORE, CENTRAL_WAREHOUSE or TEMPORARY_WAREHOUSE."),
) -> None:
    """Create a location."""
    from domain.tenancy.service import NewLocation, create_location

    async def go(db: Any) -> dict[str, Any]:
        async with db.owner_transaction() as s:
            t = await _tenant(s, tenant)
            pk = await create_location(
                s, _system(t.tenant_id), NewLocation(code, name_zh, name_en, kind.upper())
            )
            return {"id": _gid("Location", pk), "code": code}

    emit(run(go))


def _gid(type_name: str, pk: int) -> str:
    from domain.ids import encode

    return encode(type_name, pk)


@products_app.command("create")
def products_create(
    tenant: str = TENANT,
    sku: str = typer.Option(..., help="Stock-keeping unit, unique in the tenant."),
    name_zh: str = typer.Option(..., "--name-zh", help="Chinese name."),
    name_en: str = typer.Option(..., "--name-en", help="English name."),
    price: str | None = typer.Option(None, help="Retail price, a decimal, e.g. 12.50."),
    cost: str | None = typer.Option(None, help="Cost price, a decimal, e.g. 7.10."),
    barcode: str | None = typer.Option(None, help="EAN-13, UPC or the shop's own code."),
    category: str | None = typer.Option(None, help="Free text, e.g. skincare."),
) -> None:
    """Create a product."""
    from domain.tenancy.service import NewProduct, create_product

    cmd = NewProduct(
        sku,
        name_zh,
        name_en,
        barcode=barcode,
        category=category,
        retail_price=_decimal(price, "price"),
        cost_price=_decimal(cost, "cost"),
    )

    async def go(db: Any) -> dict[str, Any]:
        async with db.owner_transaction() as s:
            t = await _tenant(s, tenant)
            pk = await create_product(s, _system(t.tenant_id), cmd)
            return {"id": _gid("Product", pk), "sku": sku}

    emit(run(go))


@clients_app.command("create")
def clients_create(
    tenant: str = TENANT,
    name: str = typer.Option(..., help="What the app is, e.g. 'POS Causeway Bay'."),
    scopes: str = typer.Option(..., help="Space-separated, from: " + SCOPES + "."),
    locations: str | None = typer.Option(
        None, help="Comma-separated location codes it may act on (default: all)."
    ),
) -> None:
    """Create a partner app; prints its client secret once."""
    from api.cli_access import hashing_key
    from domain.tenancy.service import create_client

    key = hashing_key()

    async def go(db: Any) -> dict[str, Any]:
        async with db.owner_transaction() as s:
            t = await _tenant(s, tenant)
            creds = await create_client(
                s, _system(t.tenant_id), name, scopes, _codes(locations), hashing_key=key
            )
            return {"client_id": creds.client_id, "client_secret": creds.client_secret}

    emit(run(go))


@staff_app.command("create")
def staff_create(
    tenant: str = TENANT,
    code: str = typer.Option(..., help="Staff code unique in the tenant, e.g. E101."),
    name: str = typer.Option(..., help="Full name."),
    role: str = typer.Option(..., help="Rank: " + ROLES + "."),
    locations: str | None = typer.Option(
        None, help="Comma-separated location codes they work at (default: none)."
    ),
) -> None:
    """Create a staff member of a rank, assigned to locations."""
    from domain.tenancy.service import create_staff

    async def go(db: Any) -> dict[str, Any]:
        async with db.owner_transaction() as s:
            t = await _tenant(s, tenant)
            pk = await create_staff(
                s, _system(t.tenant_id), code, name, role.upper(), _codes(locations) or []
            )
            return {"id": _gid("Staff", pk), "code": code}

    emit(run(go))


@staff_app.command("token")
def staff_token(
    tenant: str = TENANT,
    staff: str = typer.Option(..., help="The staff member's code."),
    ttl: int = typer.Option(
        3600, min=60, max=12 * 3600, help="Lifetime in seconds, 60 to 43200 (12 hours)."
    ),
) -> None:
    """Issue an access token for a staff member (an operator's tool); 12 hours at most."""
    from auth.backend import staff_claims
    from auth.tokens import TokenService
    from domain.tenancy import revocation
    from domain.tenancy.service import staff_by_code

    settings = Settings()

    async def go(db: Any) -> dict[str, Any]:
        async with db.owner_transaction() as s:
            t = await _tenant(s, tenant)
            member = await staff_by_code(s, t.tenant_id, staff)
            claims = staff_claims(t.tenant_id, member.id, member.role, list(member.location_ids))
            subject = revocation.staff_subject(member.id)
            claims["rev"] = await revocation.current_epoch(s, t.tenant_id, subject)
        tokens = TokenService(
            settings.signing_key_pem(),
            settings.token_issuer,
            settings.audience,
            cache_bytes=settings.token_cache_bytes,
        )
        return {
            "access_token": tokens.issue(claims, ttl),
            "token_type": "Bearer",
            "expires_in": ttl,
        }

    emit(run(go))


@demo_app.command("load")
def demo_load() -> None:
    """Load the demo chain (Hong Kong and Macau pharmacy and cosmetics)."""
    emit(run(load_demo_result))


async def load_demo_result(db: Any, progress: Any = None) -> dict[str, Any]:
    """Load the demo chain; its credentials and staff, for printing."""
    from domain.demo import demo_exists, load_demo
    from domain.errors import AlreadyExists

    async with db.owner_transaction() as s:
        if await demo_exists(s):
            raise AlreadyExists("the demo tenant already exists", ["tenant"])
        result = await load_demo(s, master=Settings().data_key_bytes(), progress=progress)
    return {
        "tenant": result.tenant,
        "clients": result.clients,
        "staff": [
            {"code": m["code"], "role": m["role"], "name": m["name"], "locations": m["locations"]}
            for m in result.staff
        ],
        "products": result.products,
        "locations": result.locations,
        "sales": result.sales,
        "movements": result.movements,
        "members": result.members,
    }


@schema_app.command("export")
def schema_export() -> None:
    """Print the SDL."""
    from api.graphql import build_schema

    sys.stdout.write(build_schema().as_str() + "\n")


@audit_app.command("verify")
def audit_verify(tenant: str = TENANT) -> None:
    """Recompute the hash chain; exit 1 and name the first bad sequence if broken."""
    from domain.audit.service import verify

    async def go(db: Any) -> Any:
        async with db.owner_transaction() as s:
            t = await _tenant(s, tenant)
            return await verify(s, t.tenant_id)

    result = run(go)
    if result.valid:
        emit({"valid": True, "checked": result.checked})
        return
    emit(
        {"valid": False, "checked": result.checked, "first_bad_sequence": result.first_bad_sequence}
    )
    raise typer.Exit(1)


@members_app.command("retag")
def members_retag(
    tenant: str | None = typer.Option(None, help="One tenant's code (default: every tenant)."),
) -> None:
    """Recompute every member's computed tags (one tenant, or all)."""
    from datetime import UTC, datetime

    from domain.members.tags import recompute_all

    async def go(db: Any) -> dict[str, Any]:
        async with db.owner_transaction() as s:
            one = (await _tenant(s, tenant)).tenant_id if tenant is not None else None
            done = await recompute_all(s, now=datetime.now(UTC), tenant_id=one)
        return {"tenants": len(done), "members": sum(done.values())}

    emit(run(go))


from api import cli_export, cli_import  # noqa: E402

app.command("import")(cli_import.import_file)
app.add_typer(cli_export.export_app, name="export")


def main() -> None:
    """Entry point: logs on stderr, and a bad setting or a refused connection as one line."""
    from pydantic import ValidationError

    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("pgserver").setLevel(logging.WARNING)  # its pg_ctl chatter
    # httpx logs whole URLs at INFO: robot tokens, SMS gateway queries with numbers in them.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    try:
        app()
    except ValidationError as exc:
        for error in exc.errors():
            name = "_".join(str(p) for p in error["loc"]).upper()
            if not name.startswith(("STOCKGRAPH_", "DATABASE_URL")):
                name = "STOCKGRAPH_" + name
            sys.stderr.write(f"error: setting {name}: {error['msg']}\n")
        sys.exit(2)


from api import cli_access, cli_keys, cli_serve  # noqa: E402, F401  (register their commands)
from api.cli_reconcile import reconcile_app  # noqa: E402 - it builds on the helpers above

app.add_typer(reconcile_app, name="reconcile")

if __name__ == "__main__":
    # Run as `python -m api.cli`: this copy is __main__, and the command modules registered
    # themselves on the `api.cli` module's app; run that one.
    from api import cli as registered

    registered.main()
