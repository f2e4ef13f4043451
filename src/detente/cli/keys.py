"""``detente key``: create and show party identities."""

from __future__ import annotations

from pathlib import Path

import typer

from detente.crypto.keys import Ed25519Identity
from detente.node.keyfile import read_identity, write_identity

app = typer.Typer(help="Create and inspect party signing keys.", no_args_is_help=True)


@app.command("generate")
def generate(
    name: str = typer.Argument(..., help="key name = the party's log origin, e.g. aisi.example/log"),
    out: Path = typer.Option(..., "--out", "-o", help="private key file to create (mode 0600)"),
) -> None:
    """Generate an Ed25519 party key; print its log and cosigner verifier keys."""
    ident = Ed25519Identity.generate(name)
    write_identity(ident, out)
    typer.echo(f"private key: {out} (mode 0600; never share it)")
    typer.echo(f"log vkey:      {ident.vkey()}")
    typer.echo(f"cosigner vkey: {ident.cosigner_vkey()}")


@app.command("show")
def show(path: Path = typer.Argument(..., help="private key file")) -> None:
    """Print the public verifier keys of a private key file."""
    ident = read_identity(path)
    typer.echo(f"log vkey:      {ident.vkey()}")
    typer.echo(f"cosigner vkey: {ident.cosigner_vkey()}")
