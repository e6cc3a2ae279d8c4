"""GraphiQL, served by stockgraph itself: the page, and the bundle it loads.

Why: shop and head-office networks often cannot reach a public CDN, and a page that
loads its code from one is a blank "Loading…" there. The bundle (React, GraphiQL,
the graphql-ws client) is built from web/graphiql's lockfile by `make graphiql` into
api/static/graphiql/, with content-hashed names listed in its manifest.json; the
page names them, and they are cached for good. The page itself is never cached, so
a new build is picked up at once. GraphiQL is on only where the setting allows it
(off in production unless STOCKGRAPH_GRAPHIQL=true), and so are its files.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

ASSETS = Path(__file__).parent / "static" / "graphiql"
ASSET_PREFIX = "/graphql/graphiql/"
PLACEHOLDER = "<token>"

# Everything the page loads comes from this server; the WebSocket goes back to it too.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self' ws: wss:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
IMMUTABLE = "public, max-age=31536000, immutable"
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}

EXAMPLE_QUERY = """\
# stockgraph in GraphiQL
#
# 1. Get an access token. An app's client credentials:
#    curl -u ID:SECRET -d grant_type=client_credentials \\
#      {base}/oauth/token
#    (`make run` prints a demo app's as it loads the demo.)
#    A staff member's: stockgraph staff token --help
# 2. In Headers below, put it in place of <token>:
#      {"Authorization": "Bearer <token>"}
#    Headers stay in this tab, never in browser storage.
# 3. Run Locations; put a location's id in Variables;
#    run StockAtLocation (▶, or Ctrl-Enter inside it).
#    StockChanges shows that location's stock changes
#    live, over a WebSocket, with the same Authorization.

query Locations {
  locations(first: 20) {
    edges { node { id code nameEn kind } }
  }
}

query StockAtLocation($locationId: ID!) {
  stockLevels(locationIds: [$locationId], first: 20) {
    totalCount
    edges {
      node {
        product { sku nameEn }
        onHand
        available
        reserved
        inTransit
        updatedAt
      }
    }
  }
}

subscription StockChanges($locationId: ID!) {
  stockChanged(locationIds: [$locationId]) {
    sequence
    movement { kind delta reference }
    stockLevel { product { sku } onHand available }
  }
}
"""
EXAMPLE_VARIABLES = '{\n  "locationId": "<a location id from Locations>"\n}\n'
EXAMPLE_HEADERS = '{\n  "Authorization": "Bearer <token>"\n}\n'


@dataclass(frozen=True)
class Bundle:
    """The built files: the script and stylesheet the page loads, and what may be served."""

    script: str
    stylesheet: str
    files: frozenset[str]
    gzipped: frozenset[str]  # those of files that have a .gz beside them


@cache
def bundle(folder: Path = ASSETS) -> Bundle | None:
    """The build's manifest and files, read once; None when GraphiQL has not been built."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    script, stylesheet = manifest.get("script"), manifest.get("stylesheet")
    if not isinstance(script, str) or not isinstance(stylesheet, str):
        return None
    names = {p.name for p in folder.iterdir()}
    files = frozenset(n for n in names if Path(n).suffix in MEDIA_TYPES)
    if script not in files or stylesheet not in files:
        return None
    return Bundle(script, stylesheet, files, frozenset(n for n in files if f"{n}.gz" in names))


def page(request: Request, public_url: str | None) -> Response:
    """The GraphiQL page: the example query, the Authorization hint, and the bundle's names."""
    built = bundle()
    if built is None:
        message = (
            "<!doctype html><title>GraphiQL is not built</title>"
            "<p>GraphiQL's files are not built. Run <code>make graphiql</code> "
            "(node and npm), or <code>make run</code>, which does it.</p>"
        )
        return HTMLResponse(message, status_code=503, headers=PAGE_HEADERS)
    base = (public_url or str(request.base_url)).rstrip("/")
    config = {
        "endpoint": request.url.path,
        "query": EXAMPLE_QUERY.replace("{base}", base),
        "variables": EXAMPLE_VARIABLES,
        "headers": EXAMPLE_HEADERS,
        "placeholder": PLACEHOLDER,
    }
    # "<" escaped: the JSON cannot end its <script> element early
    data = json.dumps(config).replace("<", "\\u003c")
    prefix = html.escape(ASSET_PREFIX)
    body = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>stockgraph GraphiQL</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{prefix}{html.escape(built.stylesheet)}">
<style>body {{ margin: 0; }} #graphiql {{ height: 100vh; }}</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script id="stockgraph-graphiql" type="application/json">{data}</script>
<script src="{prefix}{html.escape(built.script)}"></script>
</body>
</html>
"""
    return HTMLResponse(body, headers=PAGE_HEADERS)


async def asset(request: Request) -> Response:
    """One file of the bundle, cached for good (its name changes with its content)."""
    built = bundle()
    name = request.path_params["name"]
    if not request.app.state.settings.graphiql_enabled or built is None:
        return Response("Not Found", status_code=404, media_type="text/plain")
    if name not in built.files:  # only the build's own files: no path ever reaches the disk
        return Response("Not Found", status_code=404, media_type="text/plain")
    path = ASSETS / name
    headers = {"Cache-Control": IMMUTABLE, "X-Content-Type-Options": "nosniff"}
    media_type = MEDIA_TYPES[path.suffix]
    if name in built.gzipped:
        headers["Vary"] = "Accept-Encoding"
        if "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"
            path = path.with_name(name + ".gz")
    response = FileResponse(path, media_type=media_type, headers=headers, stat_result=path.stat())
    if request.headers.get("if-none-match") == response.headers["etag"]:
        return Response(status_code=304, headers={**headers, "ETag": response.headers["etag"]})
    return response
