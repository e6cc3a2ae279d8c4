"""The API's own login: a role that is only a member of ``stockgraph_app``.

Connecting as the schema owner and switching to ``stockgraph_app`` (the
development default) leaves ``RESET ROLE`` one statement away. A dedicated
login that is a member of ``stockgraph_app`` and nothing else cannot become the
owner, so row-level security holds even against injected SQL.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

from db.base import APP_ROLE
from db.session import plain_url

NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def login_url(owner_url: str, name: str, password: str) -> str:
    parts = urlsplit(plain_url(owner_url))
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{quote(name, safe='')}:{quote(password, safe='')}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


async def create_app_login(owner_url: str, name: str, password: str) -> str:
    """Create (or reset the password of) the login; return the URL the API should use."""
    if not NAME.match(name):
        raise ValueError("the role name must be lower-case letters, digits and _")
    conn = await asyncpg.connect(plain_url(owner_url))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", name)
        literal = await conn.fetchval("SELECT quote_literal($1)", password)
        verb = "ALTER" if exists else "CREATE"
        await conn.execute(
            f'{verb} ROLE "{name}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS '
            f"PASSWORD {literal}"
        )
        await conn.execute(f'GRANT {APP_ROLE} TO "{name}"')
    finally:
        await conn.close()
    return login_url(owner_url, name, password)
