"""Every hint detente gives names what exists (issue #20): each ``--option`` a hint mentions is an
option of some ``detente`` command, each command after a colon ("with: detente …") is a command, and a hint
points at an absolute URL or a command, never at a path in this repository (``docs/…``). Read
from the source (every ``hint=`` argument and ``default_hint``), so a new hint is checked too."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import click
import typer

import detente
from detente.cli.app import app

SRC = Path(detente.__file__).parent


def _commands() -> tuple[set[str], set[str]]:
    """Every option name and every command path (``incident show``) of the CLI."""
    options: set[str] = set()
    paths: set[str] = set()

    def walk(command: click.Command, path: list[str]) -> None:
        paths.add(" ".join(path))
        for param in command.params:
            options.update(param.opts)
            options.update(param.secondary_opts)
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return options, paths


def _strings(node: ast.expr) -> list[str]:
    """The literal text of a hint expression (f-string placeholders as ``{}``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return ["".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)]  # type: ignore[misc]
    if isinstance(node, ast.BinOp):
        return _strings(node.left) + _strings(node.right)
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    return []


def _hints() -> list[tuple[str, str]]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            hint = isinstance(node, ast.keyword) and node.arg == "hint"
            default = isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "default_hint" for t in node.targets
            )
            texts = _strings(node.value) if hint or default else []  # type: ignore[attr-defined]
            out += [(f"{path.relative_to(SRC)}:{node.lineno}", t) for t in texts]  # type: ignore[attr-defined]
    return out


def test_the_checks_read_the_hints_and_the_commands() -> None:
    hints = _hints()
    options, paths = _commands()
    assert len(hints) > 100
    assert {"--vkey", "--key", "--force-lang", "--to", "--listen"} <= options
    assert {"incident show", "notice send", "peer add", "catalogue"} <= paths


def test_every_option_a_hint_names_exists() -> None:
    options, _ = _commands()
    wrong = [
        f"{where}: {option} in {text!r}"
        for where, text in _hints()
        for option in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", text)
        if option not in options | {"--help"}  # every command has --help
    ]
    assert not wrong, wrong


def test_every_command_a_hint_tells_to_run_exists() -> None:
    _, paths = _commands()
    wrong = []
    for where, text in _hints():
        for words in re.findall(r"(?:with|run)?: detente ([a-z][a-z-]*(?: [a-z][a-z-]*)?)", text):
            first = words.split()[0]
            if words not in paths and first not in paths:
                wrong.append(f"{where}: detente {words}")
    assert not wrong, wrong


def test_hints_point_at_urls_or_commands_not_at_files_of_this_repository() -> None:
    relative = [
        f"{where}: {text!r}" for where, text in _hints() if re.search(r"(?<![/\w.])(docs|examples|src)/\S", text)
    ]
    assert not relative, relative
    assert not [f"{w}: {t!r}" for w, t in _hints() if re.search(r"(?<![\w}:/])/openapi\.json", t)]
