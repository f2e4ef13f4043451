"""``detente key encryption``, ``detente open`` and ``detente disclose``: sealed records (docs/sealed.md)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from detente.cli.args import parse_record_ref
from detente.cli.notices import NODE, TOKEN, _call

__all__ = ["disclose", "encryption", "open_record"]


def _key(text: str) -> tuple[str, int]:
    return parse_record_ref(text, hint="e.g. us.detente.example/log#17 (detente inbox)")


def encryption(
    revoke: str | None = typer.Option(None, "--revoke", help="publish that this key ID must no longer be sealed to"),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """Make a new encryption key and publish it in this party's log (admin): peers seal TLP:AMBER
    and TLP:RED records to it. Earlier keys stay in the node folder, so what was sealed to them
    stays readable. With --revoke KEY_ID, publish that a key must no longer be sealed to."""
    path = f"/api/v1/keys/encryption/{revoke}/revoke" if revoke else "/api/v1/keys/encryption"
    typer.echo(json.dumps(_call(node_dir, token, "POST", path), indent=2))


def open_record(
    record: str = typer.Argument(..., help="ORIGIN#INDEX of a sealed record addressed to this party"),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """Print the content of a sealed record addressed to this party (TLP:RED: officers only)."""
    origin, index = _key(record)
    opened = _call(node_dir, token, "GET", f"/api/v1/records/{origin}/{index}/open")
    typer.echo(json.dumps(opened, indent=2, ensure_ascii=False))


def disclose(
    record: str = typer.Argument(..., help="ORIGIN#INDEX of a sealed record addressed to this party"),
    out: Path = typer.Option(..., "--out", "-o", help="file to write the disclosure to"),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """Write a disclosure of a sealed record's content (officer): anyone can check it against the
    sender's signed commitment with ``detente audit --verify-disclosure``. It breaks the TLP."""
    origin, index = _key(record)
    shown = _call(node_dir, token, "GET", f"/api/v1/records/{origin}/{index}/disclosure")
    out.write_text(json.dumps(shown, indent=2) + "\n")
    typer.echo(f"disclosure of {origin}#{index} written to {out}")
