"""GET /reports/{tenant}/{job}?expires=…&signature=…: a finished report's file.

No token: the signed URL is the permission (see ``domain.reports.jobs``). Any
bad, expired, foreign or unfinished URL gets the same 404.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from domain.reports.jobs import fetch_download


async def download(request: Request) -> Response:
    try:
        tenant_id = int(request.path_params["tenant"])
        job_id = int(request.path_params["job"])
        expires = int(request.query_params.get("expires", ""))
    except ValueError:
        return PlainTextResponse("not found", status_code=404)
    sig = request.query_params.get("signature", "")
    if not 0 < tenant_id < 2**63 or not 0 < job_id < 2**63 or len(sig) != 64:
        return PlainTextResponse("not found", status_code=404)
    async with request.app.state.db.owner_transaction() as session:
        row = await fetch_download(session, tenant_id, job_id, expires, sig)
    if row is None:
        return PlainTextResponse("not found", status_code=404)
    return Response(
        row.content,
        media_type=row.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{row.file_name}"',
            "Cache-Control": "private, no-store",
        },
    )


ROUTE = Route("/reports/{tenant}/{job}", download, methods=["GET"])
