"""``detente note``: verify C2SP signed notes (checkpoints, cosigned checkpoints, any note)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from detente.crypto.note import open_note
from detente.crypto.note_verifiers import verifier_for
from detente.errors import ConfigError

app = typer.Typer(help="Verify C2SP signed notes.", no_args_is_help=True)


def read_input(path: Path) -> bytes:
    if str(path) == "-":
        return sys.stdin.buffer.read()
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"cannot read {path}: {exc.strerror}", hint="check the path (or give - to read standard input)"
        ) from None


@app.command("verify")
def verify(
    file: Path = typer.Argument(..., help="signed note file, or - for stdin"),
    key: list[str] = typer.Option(..., "--key", "-k", help="trusted verifier key (repeatable)"),
    as_json: bool = typer.Option(False, "--json", help="print a JSON object instead of text"),
) -> None:
    """Verify a signed note against trusted keys; print its text and the keys that verified.

    Signatures from keys not given are ignored; a given key whose signature fails, or no given
    key verifying at all, exits non-zero.
    """
    verifiers = [verifier_for(k) for k in key]
    verified = open_note(read_input(file), verifiers)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "text": verified.text,
                    "verified": list(verified.verified_names),
                    "ignored": [s.name for s in verified.unverified],
                },
                ensure_ascii=False,
            )
        )
        return
    sys.stdout.write(verified.text)
    for name in verified.verified_names:
        typer.echo(f"detente: verified by {name}", err=True)
    for sig in verified.unverified:
        typer.echo(f"detente: ignored signature from unknown key {sig.name}", err=True)
