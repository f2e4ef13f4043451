"""``detente notice send``, ``detente inbox``, ``detente ack``: work a running node's threads
through its operator API (token from ``--token`` or ``DETENTE_TOKEN``)."""

from __future__ import annotations

import itertools
import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from detente.crypto.canonical import parse_json
from detente.errors import AuthError, DetenteError, MalformedRecord, StoreUnavailable
from detente.node.config import load_config
from detente.records.catalogue import spec_for

NODE = typer.Option(Path("."), "--node", "-n", help="the node's folder (its URL is read from detente.toml)")
TOKEN = typer.Option(None, "--token", help="operator token (default: $DETENTE_TOKEN)")
notice_app = typer.Typer(help="Compose and send notices and hotline messages.", no_args_is_help=True)


_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_INVOCATION = uuid.uuid4().hex
_WRITE_NUMBER = itertools.count(1)


def _request(method: str, url: str, headers: dict[str, str], kw: dict[str, Any]) -> httpx.Response:
    """Send once; a write whose answer was lost on the way (a timeout, a dropped connection) is sent
    once more with the same ``Idempotency-Key``, and the node answers it with the first answer."""
    try:
        return httpx.request(method, url, headers=headers, timeout=60, **kw)
    except (httpx.TimeoutException, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
        if "Idempotency-Key" not in headers:
            raise
        return httpx.request(method, url, headers=headers, timeout=60, **kw)


def _call(
    node_dir: Path, token: str | None, method: str, path: str, *, raw: bool = False, binary: bool = False, **kw: Any
) -> Any:
    config, _ = load_config(node_dir)
    token = token or os.environ.get("DETENTE_TOKEN")
    if not token:
        raise AuthError("no operator token", hint="pass --token or set DETENTE_TOKEN (detente token create)")
    headers = {"Authorization": f"Bearer {token}"}
    if method.upper() in _WRITES:  # one key per write of this invocation: a retry of it is answered once
        headers["Idempotency-Key"] = f"detente-cli-{_INVOCATION}-{next(_WRITE_NUMBER)}"
    try:
        resp = _request(method, f"{config.url}{path}", headers, kw)
    except httpx.HTTPError as exc:
        raise StoreUnavailable(
            f"cannot reach the node at {config.url}: {exc.__class__.__name__}",
            hint=f"start it with: detente serve -n {node_dir}",
        ) from None
    if resp.status_code >= 400:
        try:
            problem = resp.json()
        except ValueError:
            problem = {"detail": resp.text[:300]}
        err = DetenteError(str(problem.get("detail")), hint=problem.get("hint"))
        err.code = str(problem.get("code", "http-error"))
        if resp.status_code in (401, 403):
            raise AuthError(err.message, hint=err.hint)
        raise MalformedRecord(err.message, hint=err.hint) if resp.status_code in (400, 413, 422) else err
    if binary:
        return resp.content
    return resp.text if raw else resp.json()


@notice_app.command("send")
def send(
    record_type: str = typer.Argument(..., help="e.g. hotline-message or detente.dev/hotline-message/v1"),
    text: str = typer.Option(..., "--text", help="the authoritative text"),
    to: list[str] = typer.Option(
        [],
        "--to",
        help="recipient: a pinned peer's short name (cn) or log origin (repeatable; required for types the "
        "catalogue addresses; anything else is refused)",
    ),
    lang: str = typer.Option("en", "--lang", help="language of --text"),
    translation: list[str] = typer.Option([], "--translation", "-t", help="LANG=TEXT (repeatable)"),
    field: list[str] = typer.Option([], "--field", "-f", help="body field KEY=VALUE (repeatable; JSON values allowed)"),
    body: str = typer.Option("{}", "--body", help="the whole body as a JSON object"),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """Sign and send a record to other parties; prints its index and leaf hash."""
    if "/" not in record_type:
        record_type = f"detente.dev/{record_type}/v1"
    spec = spec_for(record_type)
    if not to and spec is not None and spec.addressed:
        raise MalformedRecord(
            f"a {record_type} record names its recipients",
            hint="add --to with each recipient's short name or log origin (repeatable; see: detente peer list)",
        )
    parsed = parse_json(body, what="--body")
    if not isinstance(parsed, dict):
        raise MalformedRecord("--body must be a JSON object")
    for item in field:
        key, sep, value = item.partition("=")
        if not sep:
            raise MalformedRecord(f"--field {item!r} is not KEY=VALUE")
        try:
            parsed[key] = json.loads(value)
        except ValueError:
            parsed[key] = value
    translations = dict(t.split("=", 1) for t in translation if "=" in t)
    payload = {
        "type": record_type,
        "to": to,
        "body": parsed,
        "text": {"original": {"lang": lang, "text": text}, "translations": translations},
    }
    typer.echo(json.dumps(_call(node_dir, token, "POST", "/api/v1/records", json=payload)))


def inbox(
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """Threads this party sent or received: received vs answered, live deadlines, misses."""
    threads = _call(node_dir, token, "GET", "/api/v1/inbox")
    if as_json:
        typer.echo(json.dumps(threads, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"inbox at {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC")
    for col in ("record", "type", "from → to", "state", "next deadline", "notes"):
        table.add_column(col)
    for t in threads:
        cells, style = _inbox_row(t)
        table.add_row(*cells, style=style)
    Console().print(table)


def _inbox_row(t: dict[str, Any]) -> tuple[tuple[str, ...], str | None]:
    """One thread's cells, and its row style: bold red for a flash message, a miss or a withheld
    notice over the quota."""
    open_obs = [o for o in t["obligations"] if not o["met_at"]]
    nxt = min(open_obs, key=lambda o: o["due"], default=None)
    due = (
        f"{nxt['kind']} {nxt['due'][:19]} ({'MISSED' if nxt['missed'] else _left(nxt['seconds_left'])})" if nxt else "-"
    )
    quota = t.get("quota") or {}
    notes = ", ".join(
        ([_code_note(t)] if t.get("code") else [])
        + ([_quota_note(quota)] if quota.get("over_quota") else [])
        + [f for f in t["findings"] if f != "over-quota"]
        + ([f"escalated {t['escalations'][-1]}"] if t["escalations"] else [])
    )
    urgent = t.get("priority") == "flash" or (nxt and nxt["missed"]) or quota.get("over_quota")
    return (
        f"{t['origin']}#{t['index']}",
        t["type"].split("/")[1],
        f"{t['from'].split('/')[0]} → {', '.join(x.split('/')[0] for x in t['to']) or 'every party'}",
        ", ".join(t["states"].values()),
        due,
        notes or "-",
    ), ("bold red" if urgent else None)


def _code_note(thread: dict[str, Any]) -> str:
    """``AMBER-7: meaning`` when the agreement defines the full code, ``AMBER-7 → AMBER: meaning``
    when only its code word matched."""
    code, matched = thread["code"], thread.get("code_matched")
    if not matched:
        return f"{code}: unknown code"
    return f"{code}: {thread['code_meaning']}" if matched == code else f"{code} → {matched}: {thread['code_meaning']}"


def _quota_note(quota: dict[str, Any]) -> str:
    party = str(quota["party"]).split("/")[0]
    return (
        f"OVER QUOTA: {party}'s withheld notice {quota['number']} of {quota['year']}, "
        f"the agreement allows {quota['limit']} a year"
    )


def _left(seconds: float) -> str:
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours}h{rest // 60:02d}m left"


def ack(
    record: str = typer.Argument(..., help="ORIGIN#INDEX of the record to acknowledge"),
    note: str = typer.Option("", "--note", help="a short note"),
    answer: str | None = typer.Option(None, "--answer", help="an answer (for clarification requests)"),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """Acknowledge (or answer) a record addressed to this party."""
    origin, sep, index = record.rpartition("#")
    if not sep or not index.isdigit():
        raise MalformedRecord(f"{record!r} is not ORIGIN#INDEX", hint="e.g. us.detente.example/log#12")
    payload: dict[str, Any] = {"note": note} | ({"answer": answer} if answer else {})
    typer.echo(json.dumps(_call(node_dir, token, "POST", f"/api/v1/threads/{origin}/{index}/ack", json=payload)))
