"""The GraphQL-over-HTTP spec, as audited by the npm package graphql-http's
``serverAudits``, against a real server: with a token and without one.

The audit package and its version are pinned in tests/conformance/package-lock.json
and installed with ``npm ci``; each audit is asserted by its id and name, so a new
failure (or an audit that disappears) fails here.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from db.session import Database
from tests.api.conftest import Server, app_token, new_client
from tests.conftest import make_tenant

_JSON = "when accepting application/json"
_GRAPHQL = "when accepting application/graphql-response+json"
CONFORMANCE = Path(__file__).resolve().parent.parent / "conformance"


@pytest.fixture(scope="session")
def audit_script() -> Path:
    """tests/conformance/audit.mjs with its pinned node_modules (``npm ci`` once)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("node and npm are needed for the GraphQL-over-HTTP audits")
    installed = CONFORMANCE / "node_modules" / ".package-lock.json"
    lock = CONFORMANCE / "package-lock.json"
    with open(CONFORMANCE / ".npm-ci.lock", "w") as guard:  # parallel test workers
        fcntl.flock(guard, fcntl.LOCK_EX)
        if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
            subprocess.run(
                ["npm", "ci", "--silent", "--no-audit", "--no-fund", "--ignore-scripts"],
                cwd=CONFORMANCE,
                check=True,
                timeout=300,
            )
    return CONFORMANCE / "audit.mjs"


def run_audits(script: Path, server: Server, token: str | None) -> list[dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if k != "STOCKGRAPH_TOKEN"}
    if token is not None:
        env["STOCKGRAPH_TOKEN"] = token
    done = subprocess.run(
        ["node", str(script), server.url + "/graphql"],
        env=env,
        capture_output=True,
        check=True,
        timeout=120,
    )
    return list(json.loads(done.stdout))


AUDITS = {
    "22EB": "SHOULD accept application/graphql-response+json and match the content-type",
    "4655": "MUST accept application/json and match the content-type",
    "47DE": "SHOULD accept */* and use application/json for the content-type",
    "80D8": "SHOULD assume application/json content-type when accept is missing",
    "82A3": "MUST use utf-8 encoding when responding",
    "BF61": "MUST accept utf-8 encoded request",
    "78D5": "MUST assume utf-8 in request if encoding is unspecified",
    "2C94": "MUST accept POST requests",
    "5A70": "MAY accept application/x-www-form-urlencoded formatted GET requests",
    "9C48": "MAY NOT allow executing mutations on GET requests",
    "9ABE": "SHOULD respond with 4xx status code if content-type is not supplied on POST requests",
    "03D4": "MUST accept application/json POST requests",
    "A5BF": "MAY use 400 status code when request body is missing on POST",
    "423L": "MAY use 400 status code on missing {query} parameter",
    "LKJ0": "MAY use 400 status code on object {query} parameter",
    "LKJ1": "MAY use 400 status code on number {query} parameter",
    "LKJ2": "MAY use 400 status code on boolean {query} parameter",
    "LKJ3": "MAY use 400 status code on array {query} parameter",
    "34A2": f"SHOULD allow string {{query}} parameter {_GRAPHQL}",
    "13EE": f"MUST allow string {{query}} parameter {_JSON}",
    "6C00": "MAY use 400 status code on object {operationName} parameter",
    "6C01": "MAY use 400 status code on number {operationName} parameter",
    "6C02": "MAY use 400 status code on boolean {operationName} parameter",
    "6C03": "MAY use 400 status code on array {operationName} parameter",
    "8161": f"SHOULD allow string {{operationName}} parameter {_GRAPHQL}",
    "B8B3": f"MUST allow string {{operationName}} parameter {_JSON}",
    "94B0": f"SHOULD allow null {{variables}} parameter {_GRAPHQL}",
    "0220": f"MUST allow null {{variables}} parameter {_JSON}",
    "94B1": f"SHOULD allow null {{operationName}} parameter {_GRAPHQL}",
    "0221": f"MUST allow null {{operationName}} parameter {_JSON}",
    "94B2": f"SHOULD allow null {{extensions}} parameter {_GRAPHQL}",
    "0222": f"MUST allow null {{extensions}} parameter {_JSON}",
    "4760": "MAY use 400 status code on string {variables} parameter",
    "4761": "MAY use 400 status code on number {variables} parameter",
    "4762": "MAY use 400 status code on boolean {variables} parameter",
    "4763": "MAY use 400 status code on array {variables} parameter",
    "2EA1": f"SHOULD allow map {{variables}} parameter {_GRAPHQL}",
    "28B9": f"MUST allow map {{variables}} parameter {_JSON}",
    "D6D5": f"MAY allow URL-encoded JSON string {{variables}} parameter in GETs {_GRAPHQL}",
    "6A70": f"MAY allow URL-encoded JSON string {{variables}} parameter in GETs {_JSON}",
    "58B0": "MAY use 400 status code on string {extensions} parameter",
    "58B1": "MAY use 400 status code on number {extensions} parameter",
    "58B2": "MAY use 400 status code on boolean {extensions} parameter",
    "58B3": "MAY use 400 status code on array {extensions} parameter",
    "428F": f"SHOULD allow map {{extensions}} parameter {_GRAPHQL}",
    "1B7A": f"MUST allow map {{extensions}} parameter {_JSON}",
    "B6DC": f"MAY use 2xx, 4xx, or 5xx status codes on JSON parsing failure {_JSON}",
    "BCF8": f"SHOULD use 400 status code on JSON parsing failure {_JSON}",
    "B7N8": f"SHOULD use 400 status code on JSON parsing failure {_GRAPHQL}",
    "8764": "MAY use 4xx or 5xx status codes if parameters are invalid",
    "3E3A": "MAY use 400 status code if parameters are invalid",
    "572B": f"SHOULD use 200 status code on document parsing failure {_JSON}",
    "FDE2": f"SHOULD use 200 status code on document validation failure {_JSON}",
    "7B9B": f"SHOULD use a status code of 200 on variable coercion failure {_JSON}",
    "865D": f"SHOULD use 4xx or 5xx status codes on document parsing failure {_GRAPHQL}",
    "556A": f"SHOULD use 400 status code on document parsing failure {_GRAPHQL}",
    "D586": f"SHOULD not contain the data entry on document parsing failure {_GRAPHQL}",
    "51FE": f"SHOULD use 4xx or 5xx status codes on document validation failure {_GRAPHQL}",
    "74FF": f"SHOULD use 400 status code on document validation failure {_GRAPHQL}",
    "5E5B": f"SHOULD not contain the data entry on document validation failure {_GRAPHQL}",
    "86EE": f"SHOULD use a status code of 400 on variable coercion failure {_GRAPHQL}",
}
MODES = ("with a token", "without a token")


@pytest.fixture(scope="module")
async def results(audit_script: Path, server: Server, db: Database) -> dict[str, dict[str, Any]]:
    """Every audit's result by mode and id: the suite runs once per mode."""
    tenant = await make_tenant(db, "audit")
    token = await app_token(server, await new_client(tenant, "stock:read"))
    by_mode: dict[str, dict[str, Any]] = {}
    for mode, sent in zip(MODES, (token, None), strict=True):
        by_mode[mode] = {r["id"]: r for r in run_audits(audit_script, server, sent)}
    return by_mode


def test_the_pinned_package_runs_exactly_these_audits(
    results: dict[str, dict[str, Any]],
) -> None:
    for mode in MODES:
        assert {k: r["name"] for k, r in results[mode].items()} == AUDITS


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("audit", sorted(AUDITS))
def test_audit_passes(results: dict[str, dict[str, Any]], mode: str, audit: str) -> None:
    """Every MUST, every SHOULD (and every MAY) holds."""
    result = results[mode][audit]
    assert result["name"] == AUDITS[audit]
    assert result["status"] == "ok", result["reason"]
