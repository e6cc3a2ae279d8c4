"""``stockgraph serve``: the API, and with ``--demo`` the first run a new user sees.

It says what it is doing in stages on stderr, holds the port from the first moment (a busy
port fails at once, before anything else is printed), and ends with what the reader needs
next: whom to act as, credentials and a first curl. Ctrl-C stops the embedded PostgreSQL
it started or reused, so no postmaster is left behind.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.cli import _where, app, fail, run
from api.settings import Settings

CREDENTIALS_FILE = "demo-credentials.json"  # under $STOCKGRAPH_HOME, 0600: development only

console = Console(stderr=True, highlight=False)


def bind_port(host: str, port: int) -> socket.socket:
    """Hold the listening socket now: the port is ours before we print a URL naming it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            fail(
                f"port {port} on {host} is in use: stop what holds it or choose another "
                f"(make run PORT={port + 10}, or stockgraph serve --port {port + 10})",
                1,
            )
        fail(f"cannot listen on {host}:{port}: {exc.strerror}", 1)
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def preflight(settings: Settings) -> None:
    """The settings the app factory needs, checked here so a gap is one line, not a traceback."""
    if settings.production and not settings.app_database_url:
        fail(
            "production needs STOCKGRAPH_APP_DATABASE_URL: a login that is only a member of "
            "stockgraph_app (make one with `stockgraph db app-login`)"
        )
    try:
        settings.signing_key_pem()
        settings.data_key_bytes()
        settings.id_key_bytes()
    except (RuntimeError, ValueError) as exc:
        fail(f"{exc} (`stockgraph keys generate` makes both keys)")
    except OSError as exc:
        fail(f"cannot read a key file: {exc.filename}: {exc.strerror}")


@contextlib.contextmanager
def stage(text: str) -> Iterator[None]:
    """One line per stage: a spinner while it runs, a tick and its time when it is done."""
    began = time.monotonic()
    with console.status(text + "…"):
        yield
    console.print(f"[green]✓[/] {text} [dim]({time.monotonic() - began:.1f} s)[/]")


@app.command("serve")
def serve(
    host: str = typer.Option(
        "127.0.0.1", help="Address to listen on: 127.0.0.1 (this machine) or 0.0.0.0 (all)."
    ),
    port: int = typer.Option(8000, min=1, max=65535, help="TCP port, 1 to 65535."),
    workers: int = typer.Option(
        1, min=1, help="Worker processes, 1 or more (one per core is plenty)."
    ),
    demo: bool = typer.Option(
        False, "--demo", help="Load the demo chain first, unless it is there already."
    ),
) -> None:
    """Run the API (embedded PostgreSQL when DATABASE_URL is unset)."""
    from api.cli import database_url

    # The stages below say what happens; INFO logs would bury them (warnings still show).
    logging.getLogger().setLevel(logging.WARNING)
    settings = Settings()
    preflight(settings)
    sock = bind_port(host, port)
    embedded = not settings.database_url
    home = settings.home.resolve()
    try:
        if embedded:
            with stage(f"PostgreSQL (embedded, in {home / 'pgdata'}; its log: pgdata/log)"):
                url = database_url(settings)
        else:
            url = settings.database_url or ""
            console.print(f"[green]✓[/] PostgreSQL from DATABASE_URL ({_where(url)})")
        os.environ["DATABASE_URL"] = url
        with stage("Database schema up to date"):
            run(_noop)
        loaded = _load_demo_with_progress(home) if demo else None
        _serve(settings, sock, host, port, workers, embedded, loaded)
    finally:
        sock.close()
        if embedded:
            from db.embedded import stop_embedded_postgres

            with console.status("Stopping the embedded PostgreSQL…"):
                stop_embedded_postgres(home)
            console.print("[green]✓[/] Embedded PostgreSQL stopped")


async def _noop(db: Any) -> None:
    return None


def _load_demo_with_progress(home: Path) -> dict[str, Any] | None:
    """Load the demo chain with a progress bar; None when it was loaded before."""
    from api.cli import load_demo_result

    async def maybe_demo(db: Any) -> dict[str, Any] | None:
        from domain.demo import demo_exists

        async with db.owner_transaction() as s:
            if await demo_exists(s):
                return None
        began = time.monotonic()
        with Progress(
            TextColumn("  Loading the demo chain"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            TextColumn("[dim]{task.description}"),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("catalog", total=None)

            def progress(label: str, done: int, total: int) -> None:
                bar.update(task, description=label, completed=done, total=total)

            result = await load_demo_result(db, progress)
        console.print(
            f"[green]✓[/] Demo chain loaded: {result['locations']} locations, "
            f"{result['products']} products, {result['sales']:,} sales, "
            f"{result['members']} members [dim]({time.monotonic() - began:.0f} s)[/]"
        )
        return result

    loaded = run(maybe_demo)
    path = home / CREDENTIALS_FILE
    if loaded is not None:
        home.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)
        path.write_text(json.dumps(loaded, ensure_ascii=False, indent=2) + "\n")
        return loaded
    if path.exists():
        console.print(f"[green]✓[/] Demo chain already loaded (its credentials: {path})")
        saved: dict[str, Any] = json.loads(path.read_text())
        return saved
    console.print(
        "[yellow]![/] The demo chain is already loaded; its credentials were printed when it "
        "was created (make new ones with `stockgraph clients create`)"
    )
    return None


def _serve(
    settings: Settings,
    sock: socket.socket,
    host: str,
    port: int,
    workers: int,
    embedded: bool,
    loaded: dict[str, Any] | None,
) -> None:
    import uvicorn

    base = f"http://{host}:{port}"
    console.print(f"[green]✓[/] API listening on {base}/graphql")
    if settings.graphiql_enabled:
        console.print(f"  GraphiQL: {base}/graphql (in a browser)")
    stops = "the API and the embedded PostgreSQL" if embedded else "the API"
    if loaded is not None:
        print_first_steps(base, loaded, stops)
    else:
        console.print(f"  Ctrl-C stops {stops}.")
    # Quiet: the last lines on screen stay the ones above; errors still show.
    config = uvicorn.Config(
        "api.app:app_from_env",
        factory=True,
        workers=workers,
        log_level="warning",
        loop="uvloop",
        http="httptools",
        ws_per_message_deflate=False,
        # a frame over the setting is refused by api/ws.py with 4400; one over twice
        # the setting is never even assembled (uvicorn closes with 1009)
        ws_max_size=2 * settings.ws_max_frame_bytes,
        proxy_headers=False,
        access_log=False,  # api.access_log writes it, when the settings ask
    )
    server = uvicorn.Server(config)
    if workers > 1:
        from uvicorn.supervisors import Multiprocess

        Multiprocess(config, sockets=[sock]).run()
    else:
        server.run(sockets=[sock])
    console.print()


def print_first_steps(base: str, loaded: dict[str, Any], stops: str) -> None:
    """Whom to act as, then the credentials and a first curl: the last thing on screen."""
    staff = Table(
        title="Demo staff (act as one: stockgraph staff token --tenant demo --staff CODE)"
    )
    for column in ("code", "name", "role", "locations"):
        staff.add_column(column)
    for member in loaded["staff"]:
        staff.add_row(
            member["code"], member["name"], member["role"], ", ".join(member.get("locations", []))
        )
    console.print(staff)
    # Plain lines, not a table: a table wraps long secrets, and readers copy them.
    lines = ["Demo partner apps (OAuth client credentials):"]
    for client in loaded["clients"]:
        lines += [
            f"  {client.get('name', '')}  scopes: {client.get('scopes', '')}",
            f"    client_id:     {client['client_id']}",
            f"    client_secret: {client['client_secret']}",
        ]
    console.print("\n".join(lines), markup=False, soft_wrap=True)
    client = loaded["clients"][-1]
    # Plain text, not Rich markup: a reader copies these lines into a shell.
    console.print(
        f"First steps (Ctrl-C stops {stops}):\n"
        f"  TOKEN=$(curl -s -u '{client['client_id']}:{client['client_secret']}' "
        f"-d grant_type=client_credentials {base}/oauth/token | python3 -c "
        "'import sys, json; print(json.load(sys.stdin)[\"access_token\"])')\n"
        f'  curl -s {base}/graphql -H "Authorization: Bearer $TOKEN" '
        "-H 'Content-Type: application/json' -d '{\"query\": \"{ viewer { tenant { name } } "
        "locations { edges { node { code nameZh nameEn } } } }\"}'\n",
        markup=False,
        soft_wrap=True,
    )
