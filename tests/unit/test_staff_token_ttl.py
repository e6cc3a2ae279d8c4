"""Staff tokens last at most 12 hours: the CLI refuses a longer --ttl before doing anything."""

from __future__ import annotations

from typer.testing import CliRunner

from api.cli import app


def test_staff_token_ttl_is_capped_at_twelve_hours():
    result = CliRunner().invoke(
        app, ["staff", "token", "--tenant", "T", "--staff", "S", "--ttl", str(12 * 3600 + 1)]
    )
    assert result.exit_code == 2
    assert "43200" in result.output


def test_access_commands_are_registered():
    for args in (["clients", "rotate-secret"], ["clients", "disable"], ["staff", "disable"]):
        result = CliRunner().invoke(app, [*args, "--help"])
        assert result.exit_code == 0, result.output
