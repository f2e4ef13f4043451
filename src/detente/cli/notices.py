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
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from detente.cli.args import BODY_HINT, parse_record_ref, parse_translations
from detente.crypto.canonical import parse_json
from detente.errors import AuthError, DetenteError, MalformedRecord, StoreUnavailable
from detente.node.config import load_config
from detente.records.catalogue import spec_for
from detente.records.script import check_scripts
from detente.records.text import BilingualText

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
        refused = resp.status_code in (400, 413, 422) or err.code in ("already-answered", "quota-exceeded")
        raise MalformedRecord(err.message, hint=err.hint) if refused else err
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
    force_lang: bool = typer.Option(
        False, "--force-lang", help="sign even though the text's script contradicts --lang (refused otherwise)"
    ),
    tlp: str = typer.Option(
        "TLP:CLEAR",
        "--tlp",
        help="TLP 2.0 marking; TLP:AMBER, TLP:AMBER+STRICT and TLP:RED seal the body and text to the recipients "
        "(docs/sealed.md)",
    ),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """Sign and send a record to other parties; prints its index and leaf hash. A text whose
    script contradicts its language (Han text marked en, Latin text marked zh) is refused unless
    --force-lang."""
    if "/" not in record_type:
        record_type = f"detente.dev/{record_type}/v1"
    spec = spec_for(record_type)
    if not to and spec is not None and spec.addressed:
        raise MalformedRecord(
            f"a {record_type} record names its recipients",
            hint="add --to with each recipient's short name or log origin (repeatable; see: detente peer list)",
        )
    parsed = parse_json(body, what="--body", hint=BODY_HINT)
    if not isinstance(parsed, dict):
        raise MalformedRecord("--body must be a JSON object")
    for item in field:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise MalformedRecord(f"--field {item!r} is not KEY=VALUE", hint="e.g. -f severity=high")
        try:
            parsed[key] = json.loads(value)
        except ValueError:
            parsed[key] = value
    translations = parse_translations(translation)
    text_json = {"original": {"lang": lang, "text": text}, "translations": translations}
    if not force_lang:
        _check_scripts(text_json)
    payload = {
        "type": record_type, "to": to, "body": parsed, "text": text_json, "force_lang": force_lang, "tlp": tlp
    }  # fmt: skip
    typer.echo(json.dumps(_call(node_dir, token, "POST", "/api/v1/records", json=payload)))


def _check_scripts(text_json: dict[str, Any]) -> None:
    """Refuse, before the node is asked, a text whose script contradicts its language tag (the node
    refuses it too); the hint names this command's options."""
    try:
        text = BilingualText.model_validate(text_json)
    except ValidationError:
        return  # a malformed tag: the node says what is wrong with it
    check_scripts(text, lang_option="--lang (or -t LANG=TEXT for a translation)", force_option="--force-lang")


def inbox(
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """Threads this party sent or received: priority, text and the replies (acknowledgement notes,
    answers) with their record IDs; received vs answered, live deadlines, misses. Urgent rows say
    URGENT (and are red on a terminal); the record column is never cut, for: detente ack ID."""
    threads = _call(node_dir, token, "GET", "/api/v1/inbox")
    if as_json:
        typer.echo(json.dumps(threads, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"inbox at {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC")
    ids = [f"{t['origin']}#{t['index']}" for t in threads]
    table.add_column("record", no_wrap=True, min_width=max(map(len, ids), default=6))
    table.add_column("urgent", no_wrap=True)
    table.add_column("priority", no_wrap=True)
    for col in ("type", "from → to", "state", "next deadline"):
        table.add_column(col, overflow="fold")
    table.add_column("text and replies", overflow="fold", min_width=30)
    table.add_column("notes", overflow="fold")
    for t in threads:
        cells, style = _inbox_row(t)
        table.add_row(*cells, style=style)
    Console().print(table)


def _text_cell(t: dict[str, Any]) -> str:
    """The thread's text (original, then each translation) and every reply under it, each reply
    with its record ID and what it says."""
    lines = []
    text = t.get("text") or {}
    if text:
        lines.append(f"{text['original']['text']} [{text['original']['lang']}, original]")
        lines += [f"{tr} [{lang}, translation]" for lang, tr in text.get("translations", {}).items()]
    for r in t.get("replies") or []:
        said = r.get("answer") if r.get("kind") == "answer" else r.get("note")
        extra = (r.get("text") or {}).get("original", {}).get("text")
        words = " / ".join(x for x in (said, extra) if x) or "(no note)"
        lines.append(f"↳ {r['kind']} {r['id']} from {str(r['from']).split('/')[0]}: {words}")
    return "\n".join(escape(line) for line in lines) or "-"


def _inbox_row(t: dict[str, Any]) -> tuple[tuple[str, ...], str | None]:
    """One thread's cells, and its row style: bold red for a flash message, a miss or a withheld
    notice over the quota (said in words too, in the urgent column, for piped output)."""
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
        "URGENT" if urgent else "",
        _priority(t.get("priority")),
        t["type"].split("/")[1],
        f"{t['from'].split('/')[0]} → {', '.join(x.split('/')[0] for x in t['to']) or 'every party'}",
        ", ".join(t["states"].values()),
        due,
        _text_cell(t),
        escape(notes) or "-",
    ), ("bold red" if urgent else None)


def _priority(priority: object) -> str:
    """A hotline message's priority, FLASH in capitals (it must stand out without colour too)."""
    if not isinstance(priority, str):
        return "-"
    return priority.upper() if priority == "flash" else priority


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
    record: str = typer.Argument(..., help="ORIGIN#INDEX of the record to acknowledge (as detente inbox prints it)"),
    note: str = typer.Option("", "--note", help="a short note"),
    answer: str | None = typer.Option(None, "--answer", help="an answer (for clarification requests)"),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """Acknowledge (or answer) a record addressed to this party. A record this party has already
    acknowledged (or answered) is not acknowledged again: the node refuses, naming the reply."""
    origin, index = parse_record_ref(record, hint="e.g. us.detente.example/log#12")
    payload: dict[str, Any] = {"note": note} | ({"answer": answer} if answer else {})
    typer.echo(json.dumps(_call(node_dir, token, "POST", f"/api/v1/threads/{origin}/{index}/ack", json=payload)))
