"""``detente key``: create and show party identities; rotate and revoke a node's log key."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from detente.cli.notices import NODE, TOKEN, _call
from detente.crypto.keys import Ed25519Identity, VerifierKey
from detente.node.keyfile import check_party_key_name, read_identity, write_identity
from detente.records.keys import parse_time

app = typer.Typer(help="Create and inspect party signing keys.", no_args_is_help=True)


@app.command("generate")
def generate(
    name: str = typer.Argument(..., help="key name = the party's log origin, e.g. aisi.example/log"),
    out: Path = typer.Option(..., "--out", "-o", help="private key file to create (mode 0600)"),
) -> None:
    """Generate an Ed25519 party key; print its log and cosigner verifier keys."""
    ident = Ed25519Identity.generate(check_party_key_name(name))
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


@app.command("rotate")
def rotate(
    reason: str = typer.Option("", "--reason", help="why (scheduled, suspected compromise, ...)"),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """Rotate the node's log key (admin): the current key signs a rotation record naming the new
    one; the old key file is kept as KEY_FILE.<old key ID>. Peers follow it; nothing to re-pin."""
    typer.echo(json.dumps(_call(node_dir, token, "POST", "/api/v1/keys/rotate", json={"reason": reason}), indent=2))


@app.command("revoke")
def revoke(
    vkey: str = typer.Argument(..., help="the earlier log key to revoke (not the one in force)"),
    effective: str = typer.Option(..., "--effective", help="ISO 8601 time from which it must not be trusted"),
    reason: str = typer.Option(..., "--reason", help="why, e.g. key file stolen"),
    last_index: int | None = typer.Option(
        None, "--last-index", help="last log index vouched for (default: the last it signed before --effective)"
    ),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """Revoke a compromised earlier log key (admin); verifiers then refuse and flag what it signed later."""
    VerifierKey.parse(vkey)
    body: dict[str, object] = {"vkey": vkey, "effective": parse_time(effective).isoformat(), "reason": reason}
    if last_index is not None:
        body["last_index"] = last_index
    typer.echo(json.dumps(_call(node_dir, token, "POST", "/api/v1/keys/revoke", json=body), indent=2))
