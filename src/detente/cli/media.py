"""``detente label …``, ``detente watermark …`` and ``detente takedown …``: synthetic-media labels
under both regimes, watermark detection keys, and takedown coordination.

``label check`` runs locally (no node needed) unless ``--via-node`` sends the file to the node,
which judges it by its party's own guidelines and trusts each peer's published C2PA root for that
peer's own files. ``label apply`` signs as the party, so
it goes through the node, which holds the party's C2PA chain.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from detente.cli.args import parse_record_ref
from detente.cli.notices import NODE, TOKEN, _call
from detente.errors import MalformedError, MalformedRecord

__all__ = ["label_app", "takedown_app", "watermark_app"]

label_app = typer.Typer(help="Check and apply AI-content labels: C2PA and China's AIGC label.", no_args_is_help=True)
watermark_app = typer.Typer(help="Share text-watermark detection keys and detect watermarks.", no_args_is_help=True)
takedown_app = typer.Typer(help="Request, answer and follow takedowns of harmful content.", no_args_is_help=True)

_MARK = {
    "pass": "[green]pass[/green]",
    "fail": "[red]FAIL[/red]",
    "not-applicable": "[dim]n/a[/dim]",
    "not-judged": "[yellow]NOT JUDGED[/yellow]",
}
NOT_JUDGED_EXIT = 3
"""``label check``'s exit status when no regime fails but one could not be judged (an undeclared
situation), so a script never reads it as a pass."""


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise MalformedError(f"cannot read {path}: {exc.strerror}", hint="check the path") from None


def _print(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _show_report(report: dict[str, Any], lang: str) -> None:
    console = Console()
    console.print(f"[bold]{report['mime']}[/bold] {report['size']:,} bytes  sha256 {report['sha256']}")
    c2pa = report.get("c2pa")
    if c2pa:
        codes = ", ".join(c2pa["failure"]) or "none"
        console.print(f"C2PA: state [bold]{c2pa['state']}[/bold]; failure codes: {codes}")
        if c2pa["digital_source_types"]:
            console.print(
                "  digital source type: " + ", ".join(t.rsplit("/", 1)[-1] for t in c2pa["digital_source_types"])
            )
    aigc = report.get("aigc")
    if aigc and "error" in aigc:
        console.print(f"AIGC label: does not conform / 不符合标准: {aigc['error']}")
    elif aigc:
        console.print(f"AIGC label ({aigc['where']}): " + json.dumps(aigc["label"], ensure_ascii=False))
    elif report["kind"] != "text":
        console.print("AIGC label: none / 无隐式标识")
    perceivable = report.get("perceivable")
    if perceivable and not perceivable["checked"]:
        console.print(f"[yellow]{perceivable['note']}[/yellow]")
    duty = report.get("explicit_duty")
    if duty:
        line = f"China explicit label / 显式标识: {duty['note']}"
        console.print(line if duty["judged"] else f"[yellow]{line}[/yellow]")
        if duty["mark"]:
            console.print(f"  {duty['mark']}", markup=False)
    for regime in report["regimes"]:
        g = regime["guideline"]
        table = Table(title=f"{regime['regime']}: {g['id']} {g['version']} — {regime['verdict'].upper()}")
        table.add_column("rule")
        table.add_column("level")
        table.add_column("result")
        table.add_column("detail")
        for rule in regime["rules"]:
            title = rule["title"].get(lang) or rule["title"]["en"]
            table.add_row(f"{rule['rule_id']}\n{title}", rule["level"], _MARK[rule["outcome"]], rule["detail"])
        console.print(table)


@label_app.command("check")
def check(
    file: Path = typer.Argument(..., help="the file to check (image, video, audio, PDF, or UTF-8 text)"),
    mime: str | None = typer.Option(None, "--mime", help="media type (default: detected from the bytes)"),
    anchors: list[Path] = typer.Option([], "--anchors", help="PEM file of C2PA trust anchors (repeatable)"),
    guideline: list[Path] = typer.Option([], "--guideline", help="a guideline JSON file to judge by (repeatable)"),
    via_node: bool = typer.Option(False, "--via-node", help="check on the node (trusting its peers' C2PA roots)"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
    lang: str = typer.Option("en", "--lang", help="language of rule titles: en or zh"),
    situation: str = typer.Option(
        "unknown",
        "--situation",
        help="the service that made the content, which decides whether China's explicit label is owed "
        "(Measures Art. 4 / Deep Synthesis Provisions Art. 17(1)): dialogue, voice, face, immersive-scene, "
        "other-generation, outside-17-1 or unknown (docs/media.md)",
    ),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """Check a file's labels under both regimes; exit 1 when a regime's verdict is fail, 3 when none
    fails but one could not be judged (China's explicit label with an undeclared --situation)."""
    from detente.media.explicit_duty import duty_for

    duty_for(situation)  # an unknown value is refused before the file is read or sent
    data = _read(file)
    if via_node:
        params = {"mime": mime} if mime else {}
        if situation != "unknown":
            params["situation"] = situation
        report = _call(node_dir, token, "POST", "/api/v1/labels/check", content=data, params=params)
        judged = (report.get("explicit_duty") or {}).get("situation", "unknown")
        if judged != situation:
            raise MalformedRecord(
                f"the node judged the explicit-label duty in situation {judged!r}, not {situation!r}",
                hint="the node runs an older detente that takes no situation: upgrade it, or check locally "
                "(drop --via-node)",
            )
    else:
        from detente.media.guidelines import packaged_guidelines, parse_guideline
        from detente.media.label import check_labels

        chosen = packaged_guidelines() + [parse_guideline(_read(p)) for p in guideline]
        pem = "".join(_read(p).decode("utf-8", "replace") for p in anchors)
        report = check_labels(data, mime=mime, guidelines=chosen, anchors_pem=pem, situation=situation).as_dict()
    if as_json:
        _print(report)
    else:
        _show_report(report, lang)
    verdicts = {r["verdict"] for r in report["regimes"]}
    if "fail" in verdicts:
        raise typer.Exit(1)
    if "not-judged" in verdicts:
        raise typer.Exit(NOT_JUDGED_EXIT)


@label_app.command("apply")
def apply(
    file: Path = typer.Argument(..., help="the AI-generated file to label"),
    output: Path = typer.Option(..., "--output", "-o", help="where to write the labeled file"),
    producer: str = typer.Option(..., "--producer", help="ContentProducer: the service provider's name or code"),
    produce_id: str = typer.Option(..., "--produce-id", help="ProduceID: the content's unique ID"),
    label: str = typer.Option("1", "--label", help="1 AI-generated, 2 possibly, 3 suspected"),
    source_type: str | None = typer.Option(None, "--source-type", help="IPTC digital source type IRI"),
    mime: str | None = typer.Option(None, "--mime"),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """Write China's implicit label, then sign C2PA Content Credentials as this party (in that
    order, so both stay valid)."""
    params = {"producer": producer, "produce_id": produce_id, "label": label}
    if source_type:
        params["source_type"] = source_type
    if mime:
        params["mime"] = mime
    out = _call(node_dir, token, "POST", "/api/v1/labels/apply", content=_read(file), params=params, binary=True)
    output.write_bytes(out)
    typer.echo(f"wrote {output} ({len(out):,} bytes): AIGC label, then Content Credentials signed by the party")


@label_app.command("propagate")
def propagate(
    file: Path = typer.Argument(..., help="the file as the platform received it"),
    output: Path = typer.Option(..., "-o", "--output", help="where to write the file"),
    propagator: str = typer.Option(..., "--propagator", help="ContentPropagator: the platform's name or code"),
    propagate_id: str = typer.Option(..., "--propagate-id", help="PropagateID: the platform's dissemination ID"),
    label: str | None = typer.Option(
        None, "--label", help="Label when the file has no AIGC label: 2 declared by the uploader, 3 suspected"
    ),
    mime: str | None = typer.Option(None, "--mime"),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """A platform passes content on: its ContentPropagator/PropagateID in the AIGC label and, for
    a file with Content Credentials, a new manifest signed by the party citing the old one."""
    params = {"propagator": propagator, "propagate_id": propagate_id}
    if label:
        params["label"] = label
    if mime:
        params["mime"] = mime
    out = _call(node_dir, token, "POST", "/api/v1/labels/propagate", content=_read(file), params=params, binary=True)
    output.write_bytes(out)
    typer.echo(f"wrote {output} ({len(out):,} bytes): AIGC label with ContentPropagator {propagator}")


@label_app.command("guidelines")
def guidelines(node_dir: Path = NODE, token: str | None = TOKEN, lang: str = typer.Option("en", "--lang")) -> None:
    """The labeling guidelines the node knows, each rule with its source, who published it and
    whether it judges this party's checks."""
    for g in _call(node_dir, token, "GET", "/api/v1/labels/guidelines"):
        typer.echo(f"{g['guideline_id']} {g['version']} ({g['regime']}, from {g['effective']}) {g['digest']}")
        if "from" in g:
            use = "in use" if g.get("in_use") else f"not used: {g.get('note', '')}"
            typer.echo(f"  published: {g['from']} ({use})")
        for rule in g["rules"]:
            typer.echo(f"  {rule['rule_id']} [{rule['level']}] {rule['title'].get(lang) or rule['title']['en']}")


@label_app.command("publish")
def publish(
    guideline: Path | None = typer.Argument(None, help="a guideline JSON file; omitted: publish the C2PA root"),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """Publish this party's labeling guideline, or its C2PA trust anchor, as a record."""
    if guideline is None:
        _print(_call(node_dir, token, "POST", "/api/v1/labels/anchors"))
        return
    try:
        body = json.loads(_read(guideline))
    except ValueError:
        raise MalformedRecord(
            f"{guideline} is not JSON", hint="see the guideline's fields with: detente catalogue label-guideline"
        ) from None
    _print(_call(node_dir, token, "POST", "/api/v1/labels/guidelines", json=body))


@watermark_app.command("share")
def share(
    scheme: Path = typer.Argument(..., help="JSON file with the watermark scheme (and its key)"),
    key_id: str = typer.Option(..., "--key-id"),
    provider: str = typer.Option("", "--provider", help="the model or service whose output carries it"),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """Share a detection scheme and key with the peers, as a record."""
    try:
        body = json.loads(_read(scheme))
    except ValueError:
        raise MalformedRecord(f"{scheme} is not JSON") from None
    item = {"key_id": key_id, "scheme": body, "provider": provider}
    _print(_call(node_dir, token, "POST", "/api/v1/watermark/keys", json=item))


@watermark_app.command("keys")
def keys(node_dir: Path = NODE, token: str | None = TOKEN) -> None:
    """Detection keys shared in the logs this node holds."""
    _print(_call(node_dir, token, "GET", "/api/v1/watermark/keys"))


@watermark_app.command("detect")
def detect(
    key: str = typer.Argument(..., help="PARTY#KEY_ID of a shared key (PARTY: short name or log origin)"),
    text_file: Path | None = typer.Option(None, "--text", help="UTF-8 text to test"),
    tokens: str | None = typer.Option(None, "--tokens", help="comma-separated token ids to test instead"),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """Test text (or token ids) for the watermark of a shared key: z-score, p-value, verdict."""
    party, sep, key_id = key.rpartition("#")
    if not sep or not party:
        raise MalformedRecord(f"{key!r} is not PARTY#KEY_ID", hint="list keys: detente watermark keys")
    body: dict[str, Any] = {"party": party, "key_id": key_id}
    if tokens:
        try:
            body["token_ids"] = [int(t) for t in tokens.split(",") if t.strip()]
        except ValueError:
            raise MalformedRecord("--tokens takes integers separated by commas") from None
    elif text_file:
        body["text"] = _read(text_file).decode("utf-8", "replace")
    else:
        raise MalformedRecord("nothing to test", hint="give --text FILE or --tokens IDS")
    _print(_call(node_dir, token, "POST", "/api/v1/watermark/detect", json=body))


@takedown_app.command("request")
def request(
    to: str = typer.Argument(..., help="log origin of the party whose platforms host the content"),
    file: Path = typer.Option(..., "--file", help="the content (hashed; its label check is attached as evidence)"),
    url: str = typer.Option(..., "--url"),
    platform: str = typer.Option(..., "--platform"),
    category: str = typer.Option(..., "--category", help="e.g. deepfake-impersonation, unlabeled-synthetic"),
    legal_basis: str = typer.Option(..., "--legal-basis", help="the rule under this party's law"),
    text: str = typer.Option(..., "--text", help="what the content is and why it should come down"),
    lang: str = typer.Option("en", "--lang", help="language of --text"),
    tlp: str = typer.Option(
        "TLP:CLEAR",
        "--tlp",
        help="TLP 2.0 marking; TLP:AMBER, TLP:AMBER+STRICT and TLP:RED seal the request to TO (docs/sealed.md)",
    ),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """Ask another party to act on content hosted on its platforms; the protocol runs the clocks. A
    sealed request (``--tlp TLP:AMBER``) is refused before signing if TO published no encryption key."""
    import hashlib

    data = _read(file)
    evidence = _call(node_dir, token, "POST", "/api/v1/labels/check", content=data)
    body = {
        "to": to,
        "request": {
            "content_sha256": hashlib.sha256(data).hexdigest(),
            "url": url,
            "platform": platform,
            "category": category,
            "legal_basis": legal_basis,
            "evidence": evidence,
        },
        "text": {"original": {"lang": lang, "text": text}},
        "tlp": tlp,
    }
    _print(_call(node_dir, token, "POST", "/api/v1/takedowns", json=body))


@takedown_app.command("list")
def list_(node_dir: Path = NODE, token: str | None = TOKEN, as_json: bool = typer.Option(False, "--json")) -> None:
    """Takedown requests sent and received, with their states and answers."""
    items = _call(node_dir, token, "GET", "/api/v1/takedowns")
    if as_json:
        _print(items)
        return
    table = Table(title="takedowns / 下架请求")
    for col in ("from#index", "to", "category", "platform", "state", "answer"):
        table.add_column(col)
    for t in items:
        answer = ", ".join(r["action"] for r in t["responses"]) or "-"
        states = ", ".join(f"{p}: {s}" for p, s in t["states"].items())
        table.add_row(f"{t['origin']}#{t['index']}", ", ".join(t["to"]), t["category"], t["platform"], states, answer)
    Console().print(table)


@takedown_app.command("respond")
def respond(
    ref: str = typer.Argument(..., help="ORIGIN#INDEX of the request"),
    acted: list[str] = typer.Option([], "--acted", help="a measure taken, e.g. removed (repeatable)"),
    declined: str | None = typer.Option(None, "--declined", help="the reason for declining"),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """Answer a takedown request: the measures taken, or the reason it was declined."""
    origin, index = parse_record_ref(ref, hint="see: detente takedown list")
    if bool(acted) == bool(declined):
        raise MalformedRecord("answer with --acted MEASURE or with --declined REASON", hint="one of the two")
    response = {"action": "acted", "measures": acted} if acted else {"action": "declined", "reason": declined}
    body = {"origin": origin, "index": index, "response": response}
    _print(_call(node_dir, token, "POST", "/api/v1/takedowns/response", json=body))
