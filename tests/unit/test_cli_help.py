"""Every command-line option says what it takes: help text, and the allowed values where the
set is closed (roles, scopes, currencies, location kinds)."""

from __future__ import annotations

from typing import Any

import typer.main

from api.cli import app
from auth.permissions import Permission, Role
from domain.tenancy.service import CURRENCIES, LOCATION_KINDS


def _commands(group: Any, path: tuple[str, ...] = ()) -> list[tuple[str, Any]]:
    if hasattr(group, "commands"):  # a group (Typer's, whichever click it builds on)
        found = []
        for name, command in group.commands.items():
            found += _commands(command, (*path, name))
        return found
    return [(" ".join(path), group)]


def _help(command: Any, name: str) -> str:
    for param in command.params:
        if param.name == name:
            return getattr(param, "help", None) or ""
    raise AssertionError(f"no parameter {name}")


def test_every_option_and_argument_has_help_text():
    commands = _commands(typer.main.get_command(app))
    assert len(commands) >= 24
    missing = [
        f"{path} {param.name}"
        for path, command in commands
        for param in command.params
        if not (getattr(param, "help", None) or "").strip()
    ]
    assert missing == []


def test_closed_sets_are_named_in_the_help():
    commands = dict(_commands(typer.main.get_command(app)))
    assert all(r.value in _help(commands["staff create"], "role") for r in Role)
    assert all(p.value in _help(commands["clients create"], "scopes") for p in Permission)
    assert all(c in _help(commands["tenants create"], "currency") for c in CURRENCIES)
    assert all(k in _help(commands["locations create"], "kind") for k in LOCATION_KINDS)
    assert "60 to 43200" in _help(commands["staff token"], "ttl")
    assert "csv or xlsx" in _help(commands["export levels"], "fmt")
    assert "1 to 65535" in _help(commands["serve"], "port")
