"""``detente log``: a party's log on the embedded store: create, append records, prove, audit."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import Progress

from detente._internal.validation import describe_validation_error
from detente.cli.args import BODY_HINT, parse_translations
from detente.cli.tlog import consistency_json, inclusion_json
from detente.crypto.canonical import parse_json
from detente.crypto.keys import VerifierKey
from detente.errors import InclusionError, LogNotFound, MalformedRecord, StoreUnavailable
from detente.node.audit import audit_log
from detente.node.keyfile import read_identity
from detente.node.tilelog import TileLog
from detente.records.catalogue import check_type, validate_record
from detente.records.entry import open_entry, seal_record
from detente.records.record import Record
from detente.records.text import BilingualText, LangText
from detente.store.open import open_store
from detente.store.protocol import LogStore
from detente.tlog.hashing import leaf_hash

app = typer.Typer(help="Append to, prove and audit a party log.", no_args_is_help=True)
err = Console(stderr=True)

STORE = typer.Option("detente.db", "--store", "-s", help="SQLite path or postgresql://host/db URL")
KEY = typer.Option(None, "--key", help="the party's private key file (to write, or to read its own log)")
VKEY = typer.Option(None, "--vkey", help="the log's verifier key (to read someone else's log)")


def open_log(
    store_url: str, key: Path | None, vkey: str | None, *, write: bool = False, create: bool = False
) -> TileLog:
    """The log in ``store_url``: with ``create`` (``detente log init`` only) made if missing;
    otherwise the store and the log must exist (a mistyped --store is refused, never a new log)."""
    if key is not None:
        ident = read_identity(key)
        if create:
            return TileLog.create(open_store(store_url, create=True), ident)
        store = _open_existing(store_url, f"--key {key}")
        _require_log(store, store_url, ident.name, f"create it first: detente log init --store {store_url} --key {key}")
        return TileLog(store, ident.name, [ident.vkey()], identity=ident if write else None)
    if vkey is None:
        raise MalformedRecord(
            "give --key (your own log) or --vkey (a log you audit)",
            hint="e.g. --key party.key, or --vkey with the log's verifier key (name+keyid+base64)",
        )
    vk = VerifierKey.parse(vkey)
    store = _open_existing(store_url, "--key KEYFILE")
    _require_log(store, store_url, vk.name, "check --store, and --vkey: the log's origin is its key's name")
    return TileLog(store, vk.name, [vk])


def _require_log(store: LogStore, store_url: str, origin: str, hint: str) -> None:
    try:
        found = store.latest_checkpoint(origin) is not None
    except LogNotFound:
        found = False
    if not found:
        raise LogNotFound(f"no log {origin!r} in {store_url}", hint=hint)


def _open_existing(store_url: str, key_option: str) -> LogStore:
    if "://" not in store_url and not Path(store_url).exists():
        raise StoreUnavailable(
            f"no database at {store_url}",
            hint=f"check --store; a new log is created with: detente log init --store {store_url} {key_option}",
        )
    return open_store(store_url)


@app.command("init")
def init(store: str = STORE, key: Path = typer.Option(..., "--key", help="party private key file")) -> None:
    """Create the party's log (with a signed empty checkpoint) in the store."""
    log = open_log(store, key, None, create=True)
    typer.echo(log.signed_checkpoint().decode(), nl=False)


@app.command("append")
def append(
    text: str = typer.Argument(..., help="the record's authoritative text"),
    store: str = STORE,
    key: Path = typer.Option(..., "--key", help="party private key file"),
    record_type: str = typer.Option("detente.dev/statement/v1", "--type", help="record type"),
    lang: str = typer.Option("en", "--lang", help="language of TEXT (BCP 47)"),
    translation: list[str] = typer.Option([], "--translation", "-t", help="LANG=TEXT (repeatable)"),
    body: str = typer.Option("{}", "--body", help="type-specific body as a JSON object"),
) -> None:
    """Sign a record and append it to the party log; print its index and leaf hash."""
    ident = read_identity(key)
    translations = parse_translations(translation)
    parsed = parse_json(body, what="--body", hint=BODY_HINT)
    if not isinstance(parsed, dict):
        raise MalformedRecord("--body must be a JSON object")
    try:
        record = Record(
            type=record_type,
            party=ident.name,
            issued=datetime.now(UTC),
            body=parsed,
            text=BilingualText(original=LangText(lang=lang, text=text), translations=translations),
        )
    except ValidationError as exc:
        raise MalformedRecord(
            describe_validation_error(exc, "record"),
            hint="TEXT must not be empty, --lang is a BCP 47 tag (e.g. zh-Hans); record types: detente catalogue",
        ) from None
    check_type(record.type)
    validate_record(record)
    entry = seal_record(record, ident)  # validate and sign before touching the store
    log = open_log(store, key, None, write=True)
    result = log.append([entry])
    typer.echo(
        json.dumps(
            {
                "origin": log.origin,
                "index": result.first_index,
                "leaf_hash": result.leaf_hashes[0].hex(),
                "tree_size": result.checkpoint.size,
            }
        )
    )


@app.command("checkpoint")
def checkpoint(store: str = STORE, key: Path | None = KEY, vkey: str | None = VKEY) -> None:
    """Print the log's latest signed checkpoint (verified with the log key first)."""
    typer.echo(open_log(store, key, vkey).signed_checkpoint().decode(), nl=False)


@app.command("prove")
def prove(
    index: int = typer.Option(..., "--index", help="leaf index"),
    size: int | None = typer.Option(None, "--size", help="tree size (default: latest)"),
    store: str = STORE,
    key: Path | None = KEY,
    vkey: str | None = VKEY,
) -> None:
    """Print an inclusion proof as JSON (checkable with `detente tlog verify-inclusion --file`)."""
    log = open_log(store, key, vkey)
    n = log.size if size is None else size
    if not 0 <= index < n:
        raise InclusionError(f"leaf {index} is not in a tree of size {n}")
    leaf = leaf_hash(log.entry(index))
    typer.echo(inclusion_json(index, n, log.root(n), leaf, log.inclusion_proof(index, n)))


@app.command("prove-consistency")
def prove_consistency(
    old_size: int = typer.Option(..., "--old-size", help="the earlier tree size"),
    size: int | None = typer.Option(None, "--size", help="the later tree size (default: latest)"),
    store: str = STORE,
    key: Path | None = KEY,
    vkey: str | None = VKEY,
) -> None:
    """Print a consistency proof as JSON (checkable with `detente tlog verify-consistency --file`)."""
    log = open_log(store, key, vkey)
    n = log.size if size is None else size
    proof = log.consistency_proof(old_size, n)
    typer.echo(consistency_json(old_size, n, log.root(old_size), log.root(n), proof))


@app.command("show")
def show(
    index: int = typer.Argument(..., help="leaf index"),
    store: str = STORE,
    key: Path | None = KEY,
    vkey: str | None = VKEY,
) -> None:
    """Verify one entry's signature and print its record as JSON."""
    log = open_log(store, key, vkey)
    opened = open_entry(log.entry(index), list(log.keys))
    typer.echo(json.dumps(json.loads(opened.record.to_json()), ensure_ascii=False, indent=2))


@app.command("audit")
def audit(store: str = STORE, key: Path | None = KEY, vkey: str | None = VKEY) -> None:
    """Re-verify the whole log: checkpoint signature, every entry's signature and party, and
    the root recomputed from every entry."""
    log = open_log(store, key, vkey)
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("auditing", total=log.size)
        report = audit_log(log, progress=lambda n: progress.update(task, completed=n))
    typer.echo(json.dumps(report.as_dict()))
