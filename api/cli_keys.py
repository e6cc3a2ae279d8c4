"""``stockgraph keys generate``: the two secrets production needs, made the way the server
reads them. The signing key signs access tokens; the data key seals members' personal data
and derives the global-ID key, so it must never change and never be lost."""

from __future__ import annotations

import base64
import os
import sys
from pathlib import Path

import typer

from api.cli import app, emit, fail

keys_app = typer.Typer(help="Production secrets.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

ADVICE = """\
Keep both keys in a secret store or in files readable by the API's user only (chmod 600,
in a 700 directory), never in the repository or the database backup.
  signing key: signs access tokens. Replacing it signs everyone out; nothing is lost.
  data key:    seals members' personal data and derives the global-ID key in production.
               Never replace or lose it: sealed data and every client's stored IDs depend on it.
               Back it up apart from the database.
"""


def _signing_key_pem() -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_secret(path: Path, data: bytes) -> None:
    """Create ``path`` 0600 (never replacing one): a second run must not lose a data key."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        fail(f"{path} exists: keys are never replaced by this command (move it away first)")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


@keys_app.command("generate")
def keys_generate(
    out: Path | None = typer.Option(
        None,
        "--out",
        file_okay=False,
        help="Write signing-key.pem and data-key (mode 0600) into this directory, created "
        "0700 if missing; without it, print both keys as JSON.",
    ),
) -> None:
    """A new ES256 token-signing key and a 32-byte data key, with how to keep them."""
    from domain.members.crypto import new_key

    pem = _signing_key_pem()
    data_key = base64.urlsafe_b64encode(new_key()).decode()
    if out is None:
        emit({"signing_key": pem.decode(), "data_key": data_key})
        sys.stderr.write(
            ADVICE + "Set STOCKGRAPH_SIGNING_KEY and STOCKGRAPH_DATA_KEY from them, or use "
            "--out DIR and the *_FILE settings.\n"
        )
        return
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    signing, data = out / "signing-key.pem", out / "data-key"
    for path in (signing, data):
        if path.exists():
            fail(f"{path} exists: keys are never replaced by this command (move it away first)")
    _write_secret(signing, pem)
    _write_secret(data, data_key.encode() + b"\n")
    emit(
        {
            "signing_key_file": str(signing.resolve()),
            "data_key_file": str(data.resolve()),
            "environment": {
                "STOCKGRAPH_SIGNING_KEY_FILE": str(signing.resolve()),
                "STOCKGRAPH_DATA_KEY_FILE": str(data.resolve()),
            },
        }
    )
    sys.stderr.write(ADVICE)
