"""``detente journal``: export the operator journal of a node (who did what through it, when, and
what came of it), read from the node's own database and checked link by link; and
:func:`journaled`, with which the commands that change a node's files directly (``peer add``,
``token create``, …) write their row."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import typer

from detente.errors import DetenteError, MalformedError
from detente.node.config import NodeConfig, load_config
from detente.node.journal import Journal, as_dict, local_actor
from detente.store.open import open_journal

__all__ = ["journal", "journaled"]

NODE = typer.Option(Path("."), "--node", "-n", help="the node's folder")


def _store_url(config: NodeConfig, base: Path) -> str:
    return config.store if "://" in config.store else str(base / config.store)


def open_node_journal(config: NodeConfig, base: Path) -> Journal:
    return Journal(open_journal(_store_url(config, base)), time.time)


@contextmanager
def journaled(config: NodeConfig, base: Path, action: str, target: str) -> Iterator[dict[str, object]]:
    """Write one row for a command run on the node's own files (``local:<user>``, role ``local``):
    ``ok`` with what the block put in the yielded dict, or the code of the error it raised."""
    detail: dict[str, object] = {}
    journal = open_node_journal(config, base)
    try:
        try:
            yield detail
        except DetenteError as exc:
            journal.record(local_actor(), "local", action, target, f"refused {exc.code}", {"detail": exc.message[:300]})
            raise
        journal.record(local_actor(), "local", action, target, "ok", detail)
    finally:
        journal.close()


def parse_since(text: str) -> int:
    """Unix seconds, a date (``2026-12-04``, UTC midnight) or an ISO 8601 time (UTC unless it says)."""
    if text.strip().isascii() and text.strip().isdigit():  # str.isdigit is true for '²', which int refuses
        return int(text.strip())
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise MalformedError(
            f"--since {text!r} is not a time",
            hint="give a date (2026-12-04), a time (2026-12-04T09:30:00Z) or Unix seconds",
        ) from None
    return int((when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp())


def journal(
    since: str | None = typer.Option(
        None, "--since", help="only rows written at or after: a date, an ISO 8601 time or Unix seconds"
    ),
    as_json: bool = typer.Option(False, "--json", help="one JSON document: the rows, the chain's head, verified"),
    node_dir: Path = NODE,
) -> None:
    """Export the operator journal: every write through the API, token and peer change, key rotation
    and revocation, and failed sign-in, with the token's id and role. Its hash chain is checked
    whole; a broken chain is an error (exit 1) after the rows are shown."""
    config, base = load_config(node_dir)
    book = open_node_journal(config, base)
    try:
        rows = book.entries(since=None if since is None else parse_since(since))
        try:
            seq, head = book.verify()
            broken: DetenteError | None = None
        except DetenteError as exc:
            seq, head, broken = 0, b"", exc
    finally:
        book.close()
    if as_json:
        document = {
            "verified": broken is None,
            "problem": None if broken is None else broken.message,
            "head": None if broken is not None else {"seq": seq, "hash": head.hex()},
            "entries": [as_dict(row) for row in rows],
        }
        typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        for row in rows:
            shown = as_dict(row)
            detail = "" if row.detail == "{}" else f"  {row.detail}"
            typer.echo(f"{shown['time']}  #{row.seq}  {row.actor} ({row.role})  {row.action} {row.target}  "
                       f"{row.outcome}{detail}")  # fmt: skip
    if broken is not None:
        raise broken
