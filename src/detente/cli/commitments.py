"""``detente commitment …`` and ``detente glossary …``: draft, co-sign, read and withdraw
commitments through a running node's API (token from ``--token`` or ``DETENTE_TOKEN``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from detente.cli.notices import NODE, TOKEN, _call
from detente.crypto.canonical import parse_json
from detente.errors import MalformedRecord

commitment_app = typer.Typer(help="Joint statements, principles, moratoria and agreements.", no_args_is_help=True)
glossary_app = typer.Typer(help="Each party's definitions of terms, side by side.", no_args_is_help=True)


def _print(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _text(text: str, lang: str, translation: list[str]) -> dict[str, Any]:
    return {
        "original": {"lang": lang, "text": text},
        "translations": dict(t.split("=", 1) for t in translation if "=" in t),
    }


@commitment_app.command("list")
def list_(node_dir: Path = NODE, token: str | None = TOKEN) -> None:
    """Every document version: signers, adopted, in force, withdrawn."""
    table = Table(title="commitments")
    for col in ("document", "v", "kind", "signed by", "state", "digest"):
        table.add_column(col)
    for d in _call(node_dir, token, "GET", "/api/v1/commitments"):
        state = (
            "withdrawn"
            if d["withdrawn"]
            else "in force"
            if d["in_force"]
            else "adopted"
            if d["adopted_at"]
            else "draft"
        )
        signers = ", ".join(s.split("/")[0] for s in d["signed_by"]) or "-"
        table.add_row(d["document_id"], str(d["version"]), d["kind"], signers, state, d["digest"][:16] + "…")
    Console().print(table)


@commitment_app.command("draft")
def draft(
    document: Path = typer.Argument(..., help="JSON file with the document (see GET /api/v1/catalogue)"),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """Draft a document or a new version of one; prints its digest (what the parties sign)."""
    try:
        body = parse_json(document.read_bytes(), what=str(document))
    except OSError as exc:
        raise MalformedRecord(f"cannot read {document}: {exc.strerror}") from None
    _print(_call(node_dir, token, "POST", "/api/v1/commitments/draft", json=body))


@commitment_app.command("show")
def show(document_id: str = typer.Argument(...), node_dir: Path = NODE, token: str | None = TOKEN) -> None:
    """A document's latest text and every version's state."""
    shown = _call(node_dir, token, "GET", "/api/v1/commitments/document", params={"document_id": document_id})
    typer.echo("\n".join(shown["text"]))
    for v in shown["versions"]:
        typer.echo(f"v{v['version']} sha256:{v['digest']} signed by {', '.join(v['signed_by']) or 'nobody'}"
                   f"{' — in force' if v['in_force'] else ''}")  # fmt: skip


@commitment_app.command("sign")
def sign(
    document_id: str = typer.Argument(...),
    version: int = typer.Argument(...),
    digest: str = typer.Argument(..., help="the SHA-256 of the exact version you read (detente commitment show)"),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """Co-sign the exact version named by its digest."""
    body = {"document_id": document_id, "version": version, "digest": digest}
    _print(_call(node_dir, token, "POST", "/api/v1/commitments/sign", json=body))


@commitment_app.command("diff")
def diff(
    document_id: str = typer.Argument(...),
    old: int = typer.Argument(...),
    new: int = typer.Argument(...),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """A unified diff between two versions."""
    config_params = {"document_id": document_id, "old": old, "new": new}
    typer.echo(_call(node_dir, token, "GET", "/api/v1/commitments/diff", params=config_params, raw=True))


@commitment_app.command("withdraw")
def withdraw(
    document_id: str = typer.Argument(...),
    version: int = typer.Argument(...),
    reason: str = typer.Option(..., "--reason"),
    lang: str = typer.Option("en", "--lang"),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """Withdraw from a document version (recorded; nothing is deleted)."""
    body = {"document_id": document_id, "version": version, "reason": _text(reason, lang, [])}
    _print(_call(node_dir, token, "POST", "/api/v1/commitments/withdraw", json=body))


@commitment_app.command("report")
def report(
    document_id: str = typer.Argument(...),
    year: int = typer.Argument(...),
    text: str = typer.Option(..., "--text"),
    lang: str = typer.Option("en", "--lang"),
    translation: list[str] = typer.Option([], "--translation", "-t", help="LANG=TEXT (repeatable)"),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """File this party's annual implementation report on an adopted commitment."""
    body = {"document_id": document_id, "year": year, "report": _text(text, lang, translation)}
    _print(_call(node_dir, token, "POST", "/api/v1/commitments/report", json=body))


@glossary_app.command("define")
def define(
    term_id: str = typer.Argument(..., help="e.g. frontier-model"),
    term: list[str] = typer.Option(..., "--term", help="LANG=TERM (repeatable), e.g. en='frontier model'"),
    definition: str = typer.Option(..., "--definition"),
    lang: str = typer.Option("en", "--lang", help="language of --definition"),
    translation: list[str] = typer.Option([], "--translation", "-t", help="LANG=TEXT (repeatable)"),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """Publish this party's own definition of a term."""
    terms = dict(t.split("=", 1) for t in term if "=" in t)
    if not terms:
        raise MalformedRecord("--term must be LANG=TERM", hint="e.g. --term en='frontier model' --term zh=前沿模型")
    body = {"term_id": term_id, "term": terms, "definition": _text(definition, lang, translation)}
    _print(_call(node_dir, token, "POST", "/api/v1/glossary", json=body))


@glossary_app.command("lookup")
def lookup(term: str = typer.Argument(""), node_dir: Path = NODE, token: str | None = TOKEN) -> None:
    """Each party's definitions side by side, and the jointly interpreted entries."""
    for entry in _call(node_dir, token, "GET", "/api/v1/glossary", params={"term": term}):
        table = Table(title=f"{entry['term_id']}: {' / '.join(entry['term'].values())}")
        table.add_column("party")
        table.add_column("definition (original; translations marked)")
        for party, d in entry["by_party"].items():
            extra = "".join(f"\n[{k}, translation] {t}" for k, t in d.get("translations", {}).items())
            table.add_row(party, d["original"]["text"] + extra)
        for j in entry["joint"]:
            table.add_row(f"joint ({j['document_id']} v{j['version']})", j["definition"]["original"]["text"])
        Console().print(table)
